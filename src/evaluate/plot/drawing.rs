//! The two drawings every chart is made of: lines ([`Curves`]) and bars ([`Bars`]).

use super::*;

/// A named, coloured line.
pub(super) type Series = (String, RGBColor, Vec<(f64, f64)>);

/// An x–y line chart on [0, 1]² with optional reference lines.
pub(super) struct Curves {
    pub(super) title: String,
    pub(super) x_desc: String,
    pub(super) y_desc: String,
    pub(super) x_range: (f64, f64),
    pub(super) y_range: (f64, f64),
    pub(super) series: Vec<Series>,
    /// Dashed grey lines with a legend label.
    pub(super) references: Vec<(String, Vec<(f64, f64)>)>,
    /// A vertical marker line with a label.
    pub(super) marker: Option<(f64, String)>,
    pub(super) points: bool,
    pub(super) legend: SeriesLabelPosition,
}

impl Draw for Curves {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let y_text = |v: &f64| {
            if self.y_range.1 - self.y_range.0 > 20.0 {
                count_text(*v)
            } else {
                format!("{v:.1}")
            }
        };
        let room = label_room([y_text(&self.y_range.0).len(), y_text(&self.y_range.1).len()]);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, caption(&self.title))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(room.max(70))
            .build_cartesian_2d(
                self.x_range.0..self.x_range.1,
                self.y_range.0..self.y_range.1,
            )?;
        chart
            .configure_mesh()
            .y_label_formatter(&y_text)
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .label_style(label_style())
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()?;
        for (label, pts) in &self.references {
            chart
                .draw_series(DashedLineSeries::new(
                    pts.iter().copied(),
                    6,
                    4,
                    line(REFERENCE, 2),
                ))?
                .label(label.as_str())
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line(REFERENCE, 2)));
        }
        if let Some((x, label)) = &self.marker {
            let (y0, y1) = self.y_range;
            chart
                .draw_series(DashedLineSeries::new(
                    [(*x, y0), (*x, y1)],
                    3,
                    3,
                    line(BLACK, 1),
                ))?
                .label(label.as_str())
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line(BLACK, 1)));
        }
        for (label, color, pts) in &self.series {
            let c = *color;
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), line(c, 3)))?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line(c, 3)));
            if self.points {
                chart.draw_series(
                    pts.iter()
                        .map(|&p| Circle::new(p, 4, ShapeStyle::from(c).filled())),
                )?;
            }
        }
        legend(&mut chart, self.legend.clone())?;
        Ok(())
    }
}

/// Vertical bars over named categories.
pub(super) struct Bars {
    pub(super) title: String,
    pub(super) x_desc: String,
    pub(super) y_desc: String,
    pub(super) bars: Vec<(String, f64, RGBColor)>,
    /// A horizontal reference line with its label.
    pub(super) reference: Option<(f64, String)>,
    /// Print each bar's value above it with this many decimals.
    pub(super) decimals: usize,
    pub(super) horizontal: bool,
    /// Values are shares: axis and labels in per cent.
    pub(super) percent: bool,
}

/// A count with thousands separators: `9000.0` → `9,000`.
pub(super) fn count_text(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The room the longest of `labels` needs beside an axis, in pixels (DejaVu Sans at 14 px
/// averages under 8.5 px a character).
pub(super) fn label_room(labels: impl IntoIterator<Item = usize>) -> u32 {
    let longest = labels.into_iter().max().unwrap_or(0) as u32;
    (longest * 9 + 24).clamp(60, 330)
}

impl Bars {
    fn axis_text(&self, v: f64) -> String {
        if self.percent {
            format!("{:.0} %", v * 100.0)
        } else if self.decimals == 0 {
            count_text(v)
        } else {
            format!("{v:.*}", self.decimals.min(2))
        }
    }

    fn value_text(&self, v: f64) -> String {
        if self.percent {
            format!("{:.1} %", v * 100.0)
        } else if self.decimals == 0 {
            count_text(v)
        } else {
            format!("{v:.*}", self.decimals)
        }
    }
}

impl Draw for Bars {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.bars.len() as i32;
        let top = self
            .bars
            .iter()
            .map(|b| b.1)
            .chain(self.reference.as_ref().map(|r| r.0))
            .fold(0.0f64, f64::max)
            .max(1e-9)
            * 1.15;
        let name = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => self
                .bars
                .get(*i as usize)
                .map(|b| b.0.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        if self.horizontal {
            // Highest bar on top: bar k is drawn in row n - 1 - k.
            let room = label_room(self.bars.iter().map(|b| b.0.chars().count()));
            let mut chart = ChartBuilder::on(root)
                .caption(&self.title, caption(&self.title))
                .margin(14)
                .margin_right(28)
                .x_label_area_size(46)
                .y_label_area_size(room)
                .build_cartesian_2d(0f64..top, (0..n - 1).into_segmented())?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .light_line_style(WHITE)
                .x_label_formatter(&|v| self.axis_text(*v))
                .y_labels(n.max(1) as usize)
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => name(&SegmentValue::CenterOf(n - 1 - i)),
                    _ => String::new(),
                })
                .x_desc(self.x_desc.as_str())
                .label_style(label_style())
                .axis_desc_style((FONT, 16))
                .draw()?;
            let colours: Vec<RGBColor> = self.bars.iter().map(|b| b.2).collect();
            chart.draw_series(
                Histogram::horizontal(&chart)
                    .margin(6)
                    .style_func(|y, _| match y {
                        SegmentValue::Exact(r) | SegmentValue::CenterOf(r) => colours
                            .get((n - 1 - r) as usize)
                            .copied()
                            .unwrap_or(MODEL)
                            .filled(),
                        SegmentValue::Last => MODEL.filled(),
                    })
                    .data(
                        self.bars
                            .iter()
                            .enumerate()
                            .map(|(k, b)| (n - 1 - k as i32, b.1)),
                    ),
            )?;
            if let Some((x, label)) = &self.reference {
                chart
                    .draw_series(DashedLineSeries::new(
                        [(*x, SegmentValue::Exact(0)), (*x, SegmentValue::Last)],
                        6,
                        4,
                        line(REFERENCE, 2),
                    ))?
                    .label(label.as_str())
                    .legend(|(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], line(REFERENCE, 2))
                    });
                legend(&mut chart, SeriesLabelPosition::LowerRight)?;
            }
            return Ok(());
        }
        let room = label_room([self.axis_text(top).chars().count() + 3]);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, caption(&self.title))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(room.max(80))
            .build_cartesian_2d((0..n - 1).into_segmented(), 0f64..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .y_label_formatter(&|v| self.axis_text(*v))
            .x_labels(n.max(1) as usize)
            .x_label_formatter(&name)
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .label_style(label_style())
            .axis_desc_style((FONT, 16))
            .draw()?;
        let colours: Vec<RGBColor> = self.bars.iter().map(|b| b.2).collect();
        chart.draw_series(
            Histogram::vertical(&chart)
                .margin(10)
                .style_func(|x, _| match x {
                    SegmentValue::Exact(i) | SegmentValue::CenterOf(i) => {
                        colours.get(*i as usize).copied().unwrap_or(MODEL).filled()
                    }
                    SegmentValue::Last => MODEL.filled(),
                })
                .data(self.bars.iter().enumerate().map(|(i, b)| (i as i32, b.1))),
        )?;
        chart.draw_series(self.bars.iter().enumerate().map(|(i, (_, v, _))| {
            Text::new(
                self.value_text(*v),
                (SegmentValue::CenterOf(i as i32), *v + top * 0.03),
                TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
        }))?;
        if let Some((y, label)) = &self.reference {
            chart
                .draw_series(DashedLineSeries::new(
                    [(SegmentValue::Exact(0), *y), (SegmentValue::Last, *y)],
                    6,
                    4,
                    line(REFERENCE, 2),
                ))?
                .label(label.as_str())
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line(REFERENCE, 2)));
            legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}
