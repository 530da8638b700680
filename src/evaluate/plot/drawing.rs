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
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, caption(&self.title))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(60)
            .build_cartesian_2d(
                self.x_range.0..self.x_range.1,
                self.y_range.0..self.y_range.1,
            )?;
        chart
            .configure_mesh()
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
            let mut chart = ChartBuilder::on(root)
                .caption(&self.title, caption(&self.title))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(200)
                .build_cartesian_2d(0f64..top, (0..n - 1).into_segmented())?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .light_line_style(WHITE)
                .y_labels(n.max(1) as usize)
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => name(&SegmentValue::CenterOf(n - 1 - i)),
                    _ => String::new(),
                })
                .x_desc(self.x_desc.as_str())
                .label_style(label_style())
                .axis_desc_style((FONT, 16))
                .draw()?;
            chart.draw_series(
                Histogram::horizontal(&chart)
                    .margin(6)
                    .style_func(|_, _| MODEL.filled())
                    .data(
                        self.bars
                            .iter()
                            .enumerate()
                            .map(|(k, b)| (n - 1 - k as i32, b.1)),
                    ),
            )?;
            return Ok(());
        }
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, caption(&self.title))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0f64..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
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
                format!("{v:.*}", self.decimals),
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
