//! Charts of why the model decides, of the baseline beside it, and of whom to call.

use super::drawing::*;
use super::*;
use crate::metrics::{Costs, ProfitPoint};
use crate::model::explain::Explanations;

/// ROC curves of several models on the same rows, each with its AUC in the legend.
pub fn roc_comparison(labels: &[u8], models: &[(&str, &[f32])]) -> Result<Chart> {
    ensure!(!models.is_empty(), setting "models", "no model to plot");
    let colours = [MODEL, BUYER, ACCENT, NON_BUYER];
    let mut series = Vec::with_capacity(models.len());
    for (i, (name, scores)) in models.iter().enumerate() {
        let auc = metrics::roc_auc(labels, scores)?;
        series.push((
            format!("{name} (AUC {auc:.3})"),
            colours[i % colours.len()],
            metrics::roc_curve(labels, scores)?,
        ));
    }
    render(
        "ROC curves compared",
        DEFAULT_SIZE,
        &Curves {
            title: "ROC curves: XGBoost and the baseline".into(),
            x_desc: "False positive rate".into(),
            y_desc: "True positive rate (recall)".into(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            series,
            references: vec![(
                "always no / chance (AUC 0.5)".into(),
                vec![(0.0, 0.0), (1.0, 1.0)],
            )],
            marker: None,
            points: false,
            legend: SeriesLabelPosition::LowerRight,
        },
    )
}

/// Expected profit per 1,000 customers against the threshold, with `chosen` marked.
pub fn profit_curve(sweep: &[ProfitPoint], costs: &Costs, chosen: f64) -> Result<Chart> {
    ensure!(!sweep.is_empty(), setting "sweep", "an empty profit sweep");
    let pts: Vec<(f64, f64)> = sweep
        .iter()
        .map(|p| (p.threshold.get(), p.profit_per_1000))
        .collect();
    let lo = pts.iter().map(|p| p.1).fold(0.0f64, f64::min);
    let hi = pts.iter().map(|p| p.1).fold(0.0f64, f64::max);
    let pad = ((hi - lo) * 0.08).max(1.0);
    let best = sweep
        .iter()
        .min_by(|a, b| {
            (a.threshold.get() - chosen)
                .abs()
                .total_cmp(&(b.threshold.get() - chosen).abs())
        })
        .expect("not empty");
    render(
        "Profit by threshold",
        DEFAULT_SIZE,
        &Curves {
            title: format!(
                "Profit per 1,000 customers (call {:.0}, sale {:.0})",
                costs.contact_cost, costs.sale_value
            ),
            x_desc: "Threshold: call customers scored at or above it".into(),
            y_desc: "Expected profit per 1,000 customers".into(),
            x_range: (0.0, 1.0),
            y_range: (lo - pad, hi + pad),
            series: vec![("profit".into(), MODEL, pts)],
            references: vec![("calling no one".into(), vec![(0.0, 0.0), (1.0, 0.0)])],
            marker: Some((
                chosen,
                format!(
                    "threshold {chosen:.2}: {:.0} per 1,000",
                    best.profit_per_1000
                ),
            )),
            points: false,
            legend: SeriesLabelPosition::UpperRight,
        },
    )
}

/// The global view: each name's mean absolute contribution (log-odds), top `top`.
pub fn contribution_importance(e: &Explanations, top: usize) -> Result<Chart> {
    ensure!(e.nrows > 0, setting "explanations", "no rows explained");
    let mut imp = e.mean_abs();
    imp.truncate(top.max(1));
    render(
        "Mean contribution by column",
        DEFAULT_SIZE,
        &Bars {
            title: format!(
                "What the model relies on: mean |contribution|, top {}",
                imp.len()
            ),
            x_desc: format!(
                "Mean absolute contribution (log-odds), {} customers",
                e.nrows
            ),
            y_desc: String::new(),
            bars: imp.into_iter().map(|(n, v)| (n, v, MODEL)).collect(),
            reference: None,
            decimals: 3,
            horizontal: true,
            percent: false,
        },
    )
}

/// Blue (low) to red (high) through grey, for a value in [0, 1].
fn value_colour(t: f64) -> RGBColor {
    let (lo, hi) = ((0x2c, 0x7b, 0xb6), (0xd7, 0x19, 0x1c));
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t.clamp(0.0, 1.0)) as u8;
    RGBColor(mix(lo.0, hi.0), mix(lo.1, hi.1), mix(lo.2, hi.2))
}

/// The beeswarm: for the `top` names of largest mean |contribution|, one dot per customer at
/// its contribution, coloured by the customer's value of that column (blue low, red high,
/// ranked within the column; grey where the column has no order, as a category, or the
/// value is missing). `values` holds `e.nrows * e.names.len()` such values (NaN for none).
pub fn beeswarm(e: &Explanations, values: &[f32], top: usize) -> Result<Chart> {
    ensure!(e.nrows > 0, setting "explanations", "no rows explained");
    ensure!(values.len() == e.values.len(), setting "values", "{} colour values for {} contributions", values.len(), e.values.len());
    let w = e.names.len();
    let order: Vec<usize> = {
        let imp = e.mean_abs();
        imp.iter()
            .take(top.max(1))
            .map(|(n, _)| e.names.iter().position(|m| m == n).expect("a name"))
            .collect()
    };
    // Each column's values as ranks in [0, 1].
    let ranks: Vec<Vec<f64>> = order
        .iter()
        .map(|&j| {
            let col: Vec<f32> = (0..e.nrows).map(|i| values[i * w + j]).collect();
            let mut sorted: Vec<f32> = col.iter().copied().filter(|v| v.is_finite()).collect();
            sorted.sort_by(f32::total_cmp);
            col.iter()
                .map(|v| {
                    if !v.is_finite() || sorted.len() < 2 || sorted[0] == sorted[sorted.len() - 1] {
                        f64::NAN
                    } else {
                        sorted.partition_point(|s| s < v) as f64 / (sorted.len() - 1) as f64
                    }
                })
                .collect()
        })
        .collect();
    let xs: Vec<f64> = order
        .iter()
        .flat_map(|&j| (0..e.nrows).map(move |i| f64::from(e.values[i * w + j])))
        .collect();
    let lo = xs.iter().copied().fold(0.0f64, f64::min);
    let hi = xs.iter().copied().fold(0.0f64, f64::max);
    let pad = ((hi - lo) * 0.05).max(0.05);
    struct Swarm {
        names: Vec<String>,
        dots: Vec<Vec<(f64, f64)>>,
        x: (f64, f64),
        n: usize,
    }
    impl Draw for Swarm {
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
            let rows = self.names.len() as f64;
            let title = "Contributions by customer, coloured by value (blue low, red high)";
            let mut chart = ChartBuilder::on(root)
                .caption(title, (FONT, 18))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(200)
                .build_cartesian_2d(self.x.0..self.x.1, -0.5f64..rows - 0.5)?;
            let names = &self.names;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(names.len().max(1))
                .y_label_formatter(&|y| {
                    let k = y.round() as i64;
                    if (y - k as f64).abs() < 1e-6 && k >= 0 && (k as usize) < names.len() {
                        names[names.len() - 1 - k as usize].clone()
                    } else {
                        String::new()
                    }
                })
                .x_desc(format!("Contribution (log-odds), {} customers", self.n))
                .label_style(label_style())
                .axis_desc_style((FONT, 16))
                .light_line_style(RGBColor(0xee, 0xee, 0xee))
                .draw()?;
            chart.draw_series(DashedLineSeries::new(
                [(0.0, -0.5), (0.0, rows - 0.5)],
                4,
                4,
                line(REFERENCE, 1),
            ))?;
            for (k, dots) in self.dots.iter().enumerate() {
                let row = rows - 1.0 - k as f64;
                chart.draw_series(dots.iter().enumerate().map(|(i, (x, t))| {
                    // A fixed jitter from the customer's index: the same chart every run.
                    let jitter = ((i as f64 * 0.618_034) % 1.0 - 0.5) * 0.6;
                    let colour = if t.is_nan() {
                        REFERENCE
                    } else {
                        value_colour(*t)
                    };
                    Circle::new((*x, row + jitter), 2, colour.mix(0.7).filled())
                }))?;
            }
            Ok(())
        }
    }
    let dots: Vec<Vec<(f64, f64)>> = order
        .iter()
        .zip(&ranks)
        .map(|(&j, r)| {
            (0..e.nrows)
                .map(|i| (f64::from(e.values[i * w + j]), r[i]))
                .collect()
        })
        .collect();
    render(
        "Contributions by customer",
        (800, 120 + 34 * order.len() as u32),
        &Swarm {
            names: order.iter().map(|&j| e.names[j].clone()).collect(),
            dots,
            x: (lo - pad, hi + pad),
            n: e.nrows,
        },
    )
}

/// One customer's waterfall: from the base value, each column's push (the `top` largest,
/// the rest summed), to the customer's margin and probability. Bars in log-odds, orange
/// towards buying (the buyers' colour), teal away from it.
pub fn waterfall(
    title: &str,
    base_value: f32,
    contributions: &[(String, f32)],
    top: usize,
) -> Result<Chart> {
    let mut items: Vec<(String, f64)> = contributions
        .iter()
        .map(|(n, v)| (n.clone(), f64::from(*v)))
        .collect();
    items.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    if items.len() > top.max(1) {
        let rest: f64 = items[top.max(1)..].iter().map(|i| i.1).sum();
        let n = items.len() - top.max(1);
        items.truncate(top.max(1));
        items.push((format!("{n} other columns"), rest));
    }
    let base = f64::from(base_value);
    let margin = base + items.iter().map(|i| i.1).sum::<f64>();
    let mut steps = Vec::with_capacity(items.len());
    let mut at = base;
    for (n, v) in &items {
        steps.push((n.clone(), at, at + v));
        at += v;
    }
    let lo = steps
        .iter()
        .flat_map(|s| [s.1, s.2])
        .chain([base, margin])
        .fold(f64::INFINITY, f64::min);
    let hi = steps
        .iter()
        .flat_map(|s| [s.1, s.2])
        .chain([base, margin])
        .fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.12).max(0.1);
    let probability = 1.0 / (1.0 + (-margin).exp());
    struct Fall {
        title: String,
        steps: Vec<(String, f64, f64)>,
        base: f64,
        margin: f64,
        probability: f64,
        x: (f64, f64),
    }
    impl Draw for Fall {
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
            let rows = self.steps.len() as f64;
            let mut chart = ChartBuilder::on(root)
                .caption(&self.title, (FONT, 18))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(200)
                .build_cartesian_2d(self.x.0..self.x.1, -0.5f64..rows - 0.5)?;
            let names: Vec<String> = self.steps.iter().map(|s| s.0.clone()).collect();
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(names.len().max(1))
                .y_label_formatter(&|y| {
                    let k = y.round() as i64;
                    if (y - k as f64).abs() < 1e-6 && k >= 0 && (k as usize) < names.len() {
                        names[names.len() - 1 - k as usize].clone()
                    } else {
                        String::new()
                    }
                })
                .x_desc(format!(
                    "Log-odds: base {:+.2} → margin {:+.2} (probability {:.3})",
                    self.base, self.margin, self.probability
                ))
                .label_style(label_style())
                .axis_desc_style((FONT, 15))
                .light_line_style(RGBColor(0xee, 0xee, 0xee))
                .draw()?;
            for (x, label) in [(self.base, "base"), (self.margin, "this customer")] {
                chart
                    .draw_series(DashedLineSeries::new(
                        [(x, -0.5), (x, rows - 0.5)],
                        4,
                        4,
                        line(REFERENCE, 1),
                    ))?
                    .label(format!("{label} {x:+.2}"))
                    .legend(|(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], line(REFERENCE, 1))
                    });
            }
            for (k, (_, from, to)) in self.steps.iter().enumerate() {
                let row = rows - 1.0 - k as f64;
                let colour = if to >= from { BUYER } else { NON_BUYER };
                chart.draw_series([Rectangle::new(
                    [(from.min(*to), row - 0.35), (from.max(*to), row + 0.35)],
                    colour.filled(),
                )])?;
                chart.draw_series([Text::new(
                    format!("{:+.3}", to - from),
                    (from.max(*to), row),
                    TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
                )])?;
            }
            Ok(())
        }
    }
    render(
        "Why this customer",
        (800, 140 + 34 * steps.len() as u32),
        &Fall {
            title: title.to_string(),
            steps,
            base,
            margin,
            probability,
            x: (lo - pad, hi + pad),
        },
    )
}
