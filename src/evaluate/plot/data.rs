//! Charts of a customer table, for exploration.

use super::drawing::*;
use super::*;

/// The column called `name`, or an error listing the table's columns. (Notebook cells link the
/// crate as one shared library, so polars' hashed schema cache is the same in every cell.)
pub(super) fn column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a polars::prelude::Column> {
    df.column(name).map_err(|_| Error::UnknownColumn {
        option: "chart".into(),
        column: name.to_string(),
        available: df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    })
}

pub(super) fn check_labels(df: &DataFrame, labels: &[u8]) -> Result<()> {
    if labels.len() != df.height() {
        return Err(Error::Shape(format!(
            "{} labels for {} rows",
            labels.len(),
            df.height()
        )));
    }
    Ok(())
}

/// Buyers and non-buyers: counts, with shares in the title.
pub fn class_balance(labels: &[u8]) -> Result<Chart> {
    if labels.is_empty() {
        return Err(Error::Shape("no labels".into()));
    }
    let buyers = labels.iter().filter(|&&l| l == 1).count();
    let others = labels.len() - buyers;
    render(
        "Class balance",
        DEFAULT_SIZE,
        &Bars {
            title: format!(
                "Class balance: {:.1} % buy",
                buyers as f64 * 100.0 / labels.len() as f64
            ),
            x_desc: "Class".into(),
            y_desc: "Customers".into(),
            bars: vec![
                ("no (0)".into(), others as f64, NON_BUYER),
                ("buy (1)".into(), buyers as f64, BUYER),
            ],
            reference: None,
            decimals: 0,
            horizontal: false,
            percent: false,
        },
    )
}

/// The distribution of a numeric column for buyers and non-buyers: two histograms on one
/// axis, each scaled to its class (share of the class per bin), missing values left out.
/// Whole numbers get whole-number bins; a long right tail is cut at the 99th percentile and
/// counted in the title.
pub fn numeric_by_class(df: &DataFrame, name: &str, labels: &[u8]) -> Result<Chart> {
    check_labels(df, labels)?;
    let values = numeric_values(column(df, name)?)?;
    let present: Vec<(f64, u8)> = values
        .iter()
        .zip(labels)
        .filter_map(|(v, &l)| v.map(|v| (v, l)))
        .collect();
    if present.is_empty() {
        return Err(Error::Shape(format!("column `{name}` has no values")));
    }
    // A long right tail squashes the bulk into the first bins: the axis stops at the 99th
    // percentile when the largest value lies more than three interquartile ranges beyond it,
    // and the title says how many customers lie beyond.
    let mut sorted: Vec<f64> = present.iter().map(|p| p.0).collect();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| crate::data::quantile(&sorted, p);
    let (lo, max) = (q(0.0), q(1.0));
    let p99 = q(0.99);
    let clipped = max > p99 + 3.0 * (q(0.75) - q(0.25)).max(1e-9);
    let hi = if clipped { p99 } else { max };
    let beyond = if clipped {
        sorted.iter().filter(|&&v| v > hi).count()
    } else {
        0
    };
    let present: Vec<(f64, u8)> = present.into_iter().filter(|(v, _)| *v <= hi).collect();
    let hi = if hi > lo { hi } else { lo + 1.0 };
    // Whole numbers (counts, days) get bins of whole numbers, each bin one value or more, so
    // that no bin edge falls between two possible values.
    let integers = present.iter().all(|(v, _)| v.fract() == 0.0);
    let (lo, bins, width) = if integers {
        let lo = lo - 0.5;
        let span = hi + 0.5 - lo;
        let width = (span / 30.0).ceil().max(1.0);
        (lo, (span / width).ceil() as usize, width)
    } else {
        (lo, 30, (hi - lo) / 30.0)
    };
    let mut counts = [vec![0usize; bins], vec![0usize; bins]];
    for &(v, l) in &present {
        let b = (((v - lo) / width) as usize).min(bins - 1);
        counts[l as usize][b] += 1;
    }
    let totals = [
        counts[0].iter().sum::<usize>(),
        counts[1].iter().sum::<usize>(),
    ];
    let shares: Vec<Vec<f64>> = (0..2)
        .map(|c| {
            counts[c]
                .iter()
                .map(|&n| n as f64 / totals[c].max(1) as f64)
                .collect()
        })
        .collect();
    struct Hist {
        title: String,
        name: String,
        lo: f64,
        width: f64,
        shares: Vec<Vec<f64>>,
    }
    impl Draw for Hist {
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
            let bins = self.shares[0].len();
            let top = self.shares.iter().flatten().fold(0.0f64, |a, &b| a.max(b)) * 1.15;
            let mut chart = ChartBuilder::on(root)
                .caption(&self.title, caption(&self.title))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(80)
                .build_cartesian_2d(
                    self.lo..self.lo + self.width * bins as f64,
                    0f64..top.max(1e-9),
                )?;
            chart
                .configure_mesh()
                .x_desc(self.name.as_str())
                .y_desc("Share of the class")
                .y_label_formatter(&|v| format!("{:.0} %", v * 100.0))
                .x_label_formatter(&|v| crate::data::readable_number(*v))
                .label_style(label_style())
                .axis_desc_style((FONT, 16))
                .light_line_style(WHITE)
                .draw()?;
            for (class, colour, label) in [(0, NON_BUYER, "no"), (1, BUYER, "buy")] {
                chart
                    .draw_series(self.shares[class].iter().enumerate().map(|(i, &h)| {
                        let x0 = self.lo + i as f64 * self.width;
                        Rectangle::new([(x0, 0.0), (x0 + self.width, h)], colour.mix(0.45).filled())
                    }))?
                    .label(label)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 16, y + 5)], colour.mix(0.45).filled())
                    });
            }
            legend(&mut chart, SeriesLabelPosition::UpperRight)?;
            Ok(())
        }
    }
    render(
        "Distribution by class",
        DEFAULT_SIZE,
        &Hist {
            title: format!(
                "{name} by class ({} missing{})",
                crate::evaluate::plot::drawing::count_text(
                    (values.len() - present.len() - beyond) as f64
                ),
                if beyond > 0 {
                    format!(
                        "; {} above {} up to {} not drawn",
                        crate::evaluate::plot::drawing::count_text(beyond as f64),
                        crate::data::readable_number(hi),
                        crate::data::readable_number(max)
                    )
                } else {
                    String::new()
                }
            ),
            name: name.to_string(),
            lo,
            width,
            shares,
        },
    )
}

/// The purchase rate per level of a categorical column (the 20 most frequent levels,
/// highest rate first), each labelled with its number of customers, with the overall rate
/// for reference.
pub fn rate_by_category(df: &DataFrame, name: &str, labels: &[u8]) -> Result<Chart> {
    check_labels(df, labels)?;
    let col = column(df, name)?
        .cast(&DataType::String)
        .map_err(|e| Error::polars(format!("column `{name}` as text"), e))?;
    let ca = col.str().map_err(|e| Error::polars("categories", e))?;
    let mut by: std::collections::HashMap<String, (usize, usize)> = Default::default();
    for (v, &l) in ca.iter().zip(labels) {
        let e = by.entry(v.unwrap_or("(missing)").to_string()).or_default();
        e.0 += 1;
        e.1 += l as usize;
    }
    let mut levels: Vec<(String, usize, usize)> =
        by.into_iter().map(|(k, (n, b))| (k, n, b)).collect();
    levels.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    levels.truncate(20);
    levels.sort_by(|a, b| {
        (b.2 as f64 / b.1 as f64)
            .total_cmp(&(a.2 as f64 / a.1 as f64))
            .then_with(|| a.0.cmp(&b.0))
    });
    let base = labels.iter().filter(|&&l| l == 1).count() as f64 / labels.len().max(1) as f64;
    // Many levels, or long ones, would run into each other under vertical bars.
    let horizontal =
        levels.len() > 6 || levels.iter().map(|l| l.0.chars().count()).sum::<usize>() > 60;
    render(
        "Purchase rate by category",
        DEFAULT_SIZE,
        &Bars {
            title: format!("Purchase rate by {name}"),
            x_desc: if horizontal {
                "Purchase rate".into()
            } else {
                name.to_string()
            },
            y_desc: if horizontal {
                String::new()
            } else {
                "Purchase rate".into()
            },
            bars: levels
                .into_iter()
                .map(|(k, n, b)| {
                    (
                        format!("{k} (n={})", count_text(n as f64)),
                        b as f64 / n as f64,
                        BUYER,
                    )
                })
                .collect(),
            reference: Some((base, format!("overall {:.1} %", base * 100.0))),
            decimals: 2,
            horizontal,
            percent: true,
        },
    )
}

/// Pearson correlations between the numeric columns (pairwise complete rows), as a
/// blue (−1) – white (0) – orange (+1) heatmap with the values written in.
pub fn correlation_heatmap(df: &DataFrame) -> Result<Chart> {
    let numeric: Vec<(String, Vec<Option<f64>>)> = df
        .columns()
        .iter()
        .filter(|c| c.dtype().is_primitive_numeric())
        .map(|c| Ok((c.name().to_string(), numeric_values(c)?)))
        .collect::<Result<_>>()?;
    if numeric.len() < 2 {
        return Err(Error::Shape(
            "fewer than two numeric columns to correlate".into(),
        ));
    }
    let k = numeric.len();
    let mut r = vec![vec![0.0; k]; k];
    for i in 0..k {
        for j in 0..k {
            r[i][j] = crate::data::pearson(&numeric[i].1, &numeric[j].1).map_or(0.0, |(r, _)| r);
        }
    }
    struct Heat {
        names: Vec<String>,
        r: Vec<Vec<f64>>,
    }
    impl Draw for Heat {
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
            let k = self.names.len() as i32;
            let title = "Correlation of numeric columns";
            let colour = |v: f64| {
                let t = v.clamp(-1.0, 1.0).abs();
                let base = if v >= 0.0 { BUYER } else { MODEL };
                let mix = |c: u8| (255.0 + (c as f64 - 255.0) * t) as u8;
                RGBColor(mix(base.0), mix(base.1), mix(base.2))
            };
            let (w, _) = root.dim_in_pixel();
            let (root, bar) = root.split_horizontally(w.saturating_sub(90));
            // Full names on the left, numbered; the columns carry the same numbers, so that
            // no name is cut or runs into the next.
            let room = label_room(self.names.iter().map(|n| n.chars().count() + 5));
            let mut chart = ChartBuilder::on(&root)
                .caption(title, caption(title))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(room)
                .build_cartesian_2d((0..k - 1).into_segmented(), (0..k - 1).into_segmented())?;
            let name = |v: &SegmentValue<i32>| match v {
                SegmentValue::CenterOf(i) => {
                    self.names.get(*i as usize).cloned().unwrap_or_default()
                }
                _ => String::new(),
            };
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(k as usize)
                .y_labels(k as usize)
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => format!("{}", i + 1),
                    _ => String::new(),
                })
                .x_desc("column (numbered as on the left)")
                .axis_desc_style((FONT, 14))
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => {
                        format!("{} ({})", name(&SegmentValue::CenterOf(k - 1 - i)), k - i)
                    }
                    _ => String::new(),
                })
                .label_style(label_style())
                .draw()?;
            // The colour bar: -1 (blue) … 0 (white) … +1 (orange).
            let mut scale = ChartBuilder::on(&bar)
                .margin_top(60)
                .margin_bottom(60)
                .margin_right(40)
                .build_cartesian_2d(0f64..1f64, -1f64..1f64)?;
            scale.draw_series((0..100).map(|i| {
                let v0 = -1.0 + i as f64 * 0.02;
                Rectangle::new([(0.0, v0), (1.0, v0 + 0.02)], colour(v0 + 0.01).filled())
            }))?;
            for (v, t) in [(1.0, "+1"), (0.0, "0"), (-1.0, "-1")] {
                scale.draw_series(std::iter::once(Text::new(
                    t.to_string(),
                    (1.0, v),
                    TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
                )))?;
            }
            scale.draw_series(std::iter::once(Text::new(
                "r".to_string(),
                (0.5, 1.0),
                TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
            for i in 0..k {
                for j in 0..k {
                    // Two decimals, and no "-0.00".
                    let v = (self.r[i as usize][j as usize] * 100.0).round() / 100.0 + 0.0;
                    let row = k - 1 - i;
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [
                            (SegmentValue::Exact(j), SegmentValue::Exact(row)),
                            (SegmentValue::Exact(j + 1), SegmentValue::Exact(row + 1)),
                        ],
                        colour(v).filled(),
                    )))?;
                    if k <= 14 {
                        chart.draw_series(std::iter::once(Text::new(
                            format!("{v:.2}"),
                            (SegmentValue::CenterOf(j), SegmentValue::CenterOf(row)),
                            TextStyle::from((FONT, 12).into_font())
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                        )))?;
                    }
                }
            }
            Ok(())
        }
    }
    render(
        "Correlation heatmap",
        DEFAULT_SIZE,
        &Heat {
            names: numeric.into_iter().map(|(n, _)| n).collect(),
            r,
        },
    )
}

/// The share of missing values in each column, most missing first.
pub fn missing_values(df: &DataFrame) -> Result<Chart> {
    if df.width() == 0 || df.height() == 0 {
        return Err(Error::Shape("an empty table".into()));
    }
    let mut shares: Vec<(String, f64)> = df
        .columns()
        .iter()
        .map(|c| {
            let mut missing = c.null_count();
            if c.dtype() == &DataType::String {
                // Empty text reads as missing too, as the preprocessor treats it.
                if let Ok(ca) = c.str() {
                    missing += ca
                        .iter()
                        .filter(|v| v.is_some_and(|s| s.trim().is_empty()))
                        .count();
                }
            }
            (c.name().to_string(), missing as f64 / df.height() as f64)
        })
        .collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    shares.truncate(25);
    let any = shares.iter().filter(|s| s.1 > 0.0).count();
    render(
        "Missing values",
        DEFAULT_SIZE,
        &Bars {
            title: format!("Missing values: {any} of {} columns have some", df.width()),
            x_desc: "Share of rows missing".into(),
            y_desc: String::new(),
            bars: shares.into_iter().map(|(n, v)| (n, v, REFERENCE)).collect(),
            reference: None,
            decimals: 3,
            horizontal: true,
            percent: true,
        },
    )
}
