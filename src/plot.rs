//! Charts with plotters, each a function from our types to a [`Chart`]: a PNG and an SVG of
//! the same drawing, at a fixed size (800 × 520 unless told), with the DejaVu Sans font
//! shipped in `data/fonts` (so text renders on a machine with no fonts and no fontconfig) and
//! one palette: buyers orange, non-buyers teal, the model blue, references grey.
//!
//! Exploration: [`class_balance`], [`numeric_by_class`], [`rate_by_category`],
//! [`correlation_heatmap`], [`missing_values`]. Evaluation: [`confusion_matrix`], [`roc`],
//! [`precision_recall`], [`threshold_metrics`], [`gains`], [`lift`], [`calibration`],
//! [`feature_importance`]. Tuning: [`tuning_progress`].
//!
//! ```no_run
//! # fn demo(labels: &[u8], scores: &[f32]) -> purchase_predict::Result<()> {
//! let chart = purchase_predict::plot::roc(labels, scores)?;
//! chart.save_png("out/roc.png")?;
//! # Ok(()) }
//! ```

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

use crate::error::{Error, Result};
use crate::files::write_atomically;
use crate::metrics::{self, Confusion, ThresholdPoint};
use crate::prep::numeric_values;
use crate::train::Model;
use crate::tune::{Direction, TuningResult};
use polars::prelude::{DataFrame, DataType};

/// Default chart size in pixels.
pub const DEFAULT_SIZE: (u32, u32) = (800, 520);

thread_local! {
    static SIZE: std::cell::Cell<Option<(u32, u32)>> = const { std::cell::Cell::new(None) };
}

/// Draw the charts made inside `f` at `size` (width, height in pixels) instead of
/// [`DEFAULT_SIZE`]:
///
/// ```no_run
/// # fn demo(labels: &[u8], scores: &[f32]) -> purchase_predict::Result<()> {
/// use purchase_predict::plot;
/// let big = plot::with_size((1200, 800), || plot::roc(labels, scores))?;
/// # Ok(()) }
/// ```
pub fn with_size<T>(size: (u32, u32), f: impl FnOnce() -> T) -> T {
    let before = SIZE.with(|s| s.replace(Some(size)));
    let out = f();
    SIZE.with(|s| s.set(before));
    out
}

/// Buyers (class 1).
pub const BUYER: RGBColor = RGBColor(0xd9, 0x5f, 0x02);
/// Non-buyers (class 0).
pub const NON_BUYER: RGBColor = RGBColor(0x1b, 0x9e, 0x77);
/// The model's curves and bars.
pub const MODEL: RGBColor = RGBColor(0x2c, 0x6f, 0xbb);
/// Reference lines (chance, perfect calibration, base rate).
pub const REFERENCE: RGBColor = RGBColor(0x88, 0x88, 0x88);
/// A third series (F1, best so far).
pub const ACCENT: RGBColor = RGBColor(0x75, 0x70, 0xb3);

const FONT_BYTES: &[u8] = include_bytes!("../data/fonts/DejaVuSans.ttf");
const FONT: &str = "sans-serif";

fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font, checked by the tests.
        let _ = register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// A rendered chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub width: u32,
    pub height: u32,
    /// PNG bytes.
    pub png: Vec<u8>,
    /// SVG text.
    pub svg: String,
}

impl Chart {
    /// Write the PNG (atomically).
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        write_atomically(path, |w| {
            w.write_all(&self.png).map_err(|e| Error::io(path, e))
        })
    }

    /// Write the SVG (atomically).
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        write_atomically(path, |w| {
            w.write_all(self.svg.as_bytes())
                .map_err(|e| Error::io(path, e))
        })
    }
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something that draws itself on any plotters backend.
trait Draw {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::Plot(e.to_string())
}

fn render(title: &str, default: (u32, u32), d: &impl Draw) -> Result<Chart> {
    ensure_font();
    let size = SIZE.with(|s| s.get()).unwrap_or(default);
    let (w, h) = size;
    if w < 200 || h < 150 {
        return Err(Error::InvalidSetting {
            name: "chart size".into(),
            reason: format!("{w} × {h} is too small; use at least 200 × 150"),
        });
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        d.draw(&root).map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        d.draw(&root).map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        enc.set_filter(png::FilterType::Paeth);
        let mut writer = enc.write_header().map_err(plot_error)?;
        writer.write_image_data(&rgb).map_err(plot_error)?;
    }
    Ok(Chart {
        title: title.to_string(),
        width: w,
        height: h,
        png: png_bytes,
        svg,
    })
}

fn caption(title: &str) -> (&'static str, u32) {
    let _ = title;
    (FONT, 22)
}

fn label_style() -> TextStyle<'static> {
    (FONT, 14).into_font().into()
}

/// The legend box every chart uses, at `position`.
fn legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font(label_style())
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xcc, 0xcc, 0xcc))
        .draw()
}

fn line(color: RGBColor, width: u32) -> ShapeStyle {
    ShapeStyle {
        color: color.to_rgba(),
        filled: false,
        stroke_width: width,
    }
}

/// A named, coloured line.
type Series = (String, RGBColor, Vec<(f64, f64)>);

/// An x–y line chart on [0, 1]² with optional reference lines.
struct Curves {
    title: String,
    x_desc: String,
    y_desc: String,
    x_range: (f64, f64),
    y_range: (f64, f64),
    series: Vec<Series>,
    /// Dashed grey lines with a legend label.
    references: Vec<(String, Vec<(f64, f64)>)>,
    /// A vertical marker line with a label.
    marker: Option<(f64, String)>,
    points: bool,
    legend: SeriesLabelPosition,
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

/// The ROC curve with its AUC in the legend and the chance diagonal.
pub fn roc(labels: &[u8], scores: &[f32]) -> Result<Chart> {
    let pts = metrics::roc_curve(labels, scores)?;
    let auc = metrics::roc_auc(labels, scores)?;
    render(
        "ROC curve",
        DEFAULT_SIZE,
        &Curves {
            title: "ROC curve".into(),
            x_desc: "False positive rate".into(),
            y_desc: "True positive rate (recall)".into(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            series: vec![(format!("model (AUC {auc:.3})"), MODEL, pts)],
            references: vec![("chance (AUC 0.5)".into(), vec![(0.0, 0.0), (1.0, 1.0)])],
            marker: None,
            points: false,
            legend: SeriesLabelPosition::LowerRight,
        },
    )
}

/// The precision-recall curve with the base rate (what calling everyone achieves).
pub fn precision_recall(labels: &[u8], scores: &[f32]) -> Result<Chart> {
    let pts = metrics::pr_curve(labels, scores)?;
    let ap = metrics::average_precision(labels, scores)?;
    let base = labels.iter().filter(|&&l| l == 1).count() as f64 / labels.len() as f64;
    render(
        "Precision-recall curve",
        DEFAULT_SIZE,
        &Curves {
            title: "Precision-recall curve".into(),
            x_desc: "Recall (share of buyers found)".into(),
            y_desc: "Precision (share of predicted buyers who buy)".into(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            series: vec![(format!("model (AP {ap:.3})"), MODEL, pts)],
            references: vec![(
                format!("base rate {:.1} %", base * 100.0),
                vec![(0.0, base), (1.0, base)],
            )],
            marker: None,
            points: false,
            legend: SeriesLabelPosition::UpperRight,
        },
    )
}

/// Precision, recall and F1 against the threshold, with `chosen` marked.
pub fn threshold_metrics(sweep: &[ThresholdPoint], chosen: f64) -> Result<Chart> {
    if sweep.is_empty() {
        return Err(Error::Shape("an empty threshold sweep".into()));
    }
    let get = |f: fn(&ThresholdPoint) -> f64| -> Vec<(f64, f64)> {
        sweep.iter().map(|p| (p.threshold, f(p))).collect()
    };
    render(
        "Metrics by threshold",
        DEFAULT_SIZE,
        &Curves {
            title: "Metrics by threshold".into(),
            x_desc: "Threshold (probability at which we predict a purchase)".into(),
            y_desc: "Metric".into(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            series: vec![
                (
                    "precision".into(),
                    MODEL,
                    // Undefined where nobody is predicted to buy: left out.
                    sweep
                        .iter()
                        .filter(|p| p.confusion.tp + p.confusion.fp > 0)
                        .map(|p| (p.threshold, p.precision))
                        .collect(),
                ),
                ("recall".into(), BUYER, get(|p| p.recall)),
                ("F1".into(), ACCENT, get(|p| p.f1)),
            ],
            references: Vec::new(),
            marker: Some((chosen, format!("chosen threshold {chosen:.2}"))),
            points: false,
            legend: SeriesLabelPosition::UpperRight,
        },
    )
}

/// Cumulative gains by decile: "call the top 20 % and reach X % of the buyers".
pub fn gains(labels: &[u8], scores: &[f32]) -> Result<Chart> {
    let rows = metrics::gains(labels, scores, 10)?;
    let mut pts = vec![(0.0, 0.0)];
    pts.extend(rows.iter().map(|r| (r.contacted, r.buyers_reached)));
    let top20 = rows[1].buyers_reached * 100.0;
    render(
        "Cumulative gains",
        DEFAULT_SIZE,
        &Curves {
            title: format!("Cumulative gains: the top 20 % reach {top20:.0} % of buyers"),
            x_desc: "Share of customers contacted (highest scores first)".into(),
            y_desc: "Share of all buyers reached".into(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            series: vec![("model".into(), MODEL, pts)],
            references: vec![("random order".into(), vec![(0.0, 0.0), (1.0, 1.0)])],
            marker: None,
            points: true,
            legend: SeriesLabelPosition::LowerRight,
        },
    )
}

/// Predicted probability against the observed purchase rate, per probability decile.
pub fn calibration(labels: &[u8], scores: &[f32]) -> Result<Chart> {
    let bins = metrics::calibration(labels, scores, 10)?;
    let pts: Vec<(f64, f64)> = bins.iter().map(|b| (b.predicted, b.observed)).collect();
    render(
        "Calibration",
        DEFAULT_SIZE,
        &Curves {
            title: "Calibration".into(),
            x_desc: "Mean predicted probability".into(),
            y_desc: "Observed purchase rate".into(),
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            series: vec![("model".into(), MODEL, pts)],
            references: vec![("perfectly calibrated".into(), vec![(0.0, 0.0), (1.0, 1.0)])],
            marker: None,
            points: true,
            legend: SeriesLabelPosition::UpperLeft,
        },
    )
}

/// Vertical bars over named categories.
struct Bars {
    title: String,
    x_desc: String,
    y_desc: String,
    bars: Vec<(String, f64, RGBColor)>,
    /// A horizontal reference line with its label.
    reference: Option<(f64, String)>,
    /// Print each bar's value above it with this many decimals.
    decimals: usize,
    horizontal: bool,
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

/// Lift by decile: how many times the random purchase rate each tenth of the ranked list
/// reaches, cumulatively.
pub fn lift(labels: &[u8], scores: &[f32]) -> Result<Chart> {
    let rows = metrics::gains(labels, scores, 10)?;
    render(
        "Lift by decile",
        DEFAULT_SIZE,
        &Bars {
            title: "Cumulative lift by decile".into(),
            x_desc: "Top share of customers contacted".into(),
            y_desc: "Lift over random calling".into(),
            bars: rows
                .iter()
                .map(|r| (format!("{:.0} %", r.contacted * 100.0), r.lift, MODEL))
                .collect(),
            reference: Some((1.0, "random calling (lift 1)".into())),
            decimals: 2,
            horizontal: false,
        },
    )
}

/// The model's `top` most important features by XGBoost's gain.
pub fn feature_importance(model: &Model, top: usize) -> Result<Chart> {
    let mut imp = model.feature_importance()?;
    imp.truncate(top.max(1));
    if imp.is_empty() {
        return Err(Error::Shape("the model has no splits to rank".into()));
    }
    render(
        "Feature importance",
        DEFAULT_SIZE,
        &Bars {
            title: format!("Feature importance (gain), top {}", imp.len()),
            x_desc: "Average gain of the splits on the feature".into(),
            y_desc: String::new(),
            bars: imp
                .into_iter()
                .map(|(name, gain)| (name, gain as f64, MODEL))
                .collect(),
            reference: None,
            decimals: 1,
            horizontal: true,
        },
    )
}

/// The confusion matrix as a heatmap: counts, row rates (recall, specificity) and column
/// rates (precision, negative predictive value).
pub fn confusion_matrix(c: &Confusion, threshold: f64) -> Result<Chart> {
    struct Heat<'a>(&'a Confusion, f64);
    impl Draw for Heat<'_> {
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
            let c = self.0;
            let title = format!("Confusion matrix at threshold {:.2}", self.1);
            // Cells on [0, 2]²; row and column headers in the margins of the same space.
            let mut chart = ChartBuilder::on(root)
                .caption(&title, caption(&title))
                .margin(14)
                .build_cartesian_2d(-0.5f64..2f64, 0f64..2.2f64)?;
            let header = |t: &str, x: f64, y: f64| {
                Text::new(
                    t.to_string(),
                    (x, y),
                    TextStyle::from((FONT, 16).into_font())
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )
            };
            chart.draw_series([
                header("predicted no", 0.5, 2.1),
                header("predicted buy", 1.5, 2.1),
                header("actual no", -0.25, 1.5),
                header("actual buy", -0.25, 0.5),
            ])?;
            let total = c.total().max(1) as f64;
            let rate = |a: u64, b: u64| {
                if a + b == 0 {
                    0.0
                } else {
                    a as f64 / (a + b) as f64
                }
            };
            // (column, row from the bottom, count, text lines, base colour)
            let cells = [
                (
                    0.0,
                    1.0,
                    c.tn,
                    NON_BUYER,
                    "true negatives",
                    rate(c.tn, c.fp),
                    "of actual no",
                    rate(c.tn, c.fn_),
                    "of predicted no",
                ),
                (
                    1.0,
                    1.0,
                    c.fp,
                    REFERENCE,
                    "false positives",
                    rate(c.fp, c.tn),
                    "of actual no",
                    rate(c.fp, c.tp),
                    "of predicted buy",
                ),
                (
                    0.0,
                    0.0,
                    c.fn_,
                    REFERENCE,
                    "false negatives",
                    rate(c.fn_, c.tp),
                    "of actual buy",
                    rate(c.fn_, c.tn),
                    "of predicted no",
                ),
                (
                    1.0,
                    0.0,
                    c.tp,
                    BUYER,
                    "true positives",
                    rate(c.tp, c.fn_),
                    "of actual buy",
                    rate(c.tp, c.fp),
                    "of predicted buy",
                ),
            ];
            for (x, y, n, colour, name, row_rate, row_what, col_rate, col_what) in cells {
                let share = n as f64 / total;
                let fill = colour.mix(0.15 + 0.85 * share.sqrt());
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x + 0.02, y + 0.02), (x + 0.98, y + 0.98)],
                    fill.filled(),
                )))?;
                let lines = [
                    (format!("{n}"), 26, 0.70),
                    (name.to_string(), 15, 0.55),
                    (format!("{:.1} % {row_what}", row_rate * 100.0), 14, 0.40),
                    (format!("{:.1} % {col_what}", col_rate * 100.0), 14, 0.28),
                ];
                chart.draw_series(lines.into_iter().map(|(t, size, dy)| {
                    Text::new(t, (x + 0.08, y + dy), (FONT, size).into_font())
                }))?;
            }
            Ok(())
        }
    }
    render("Confusion matrix", DEFAULT_SIZE, &Heat(c, threshold))
}

/// The objective of every trial in order, and the best so far.
pub fn tuning_progress(result: &TuningResult) -> Result<Chart> {
    let name = result.config.objective.name();
    let pts: Vec<(f64, f64)> = result
        .trials
        .iter()
        .filter_map(|t| t.objective.map(|v| (t.number as f64, v)))
        .collect();
    if pts.is_empty() {
        return Err(Error::Shape("no trial has an objective value".into()));
    }
    let better = |a: f64, b: f64| match result.config.direction {
        Direction::Maximize => a > b,
        Direction::Minimize => a < b,
    };
    let mut best_so_far = Vec::with_capacity(pts.len());
    let mut best = pts[0].1;
    for &(x, v) in &pts {
        if better(v, best) {
            best = v;
        }
        best_so_far.push((x, best));
    }
    let (lo, hi) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    let pad = ((hi - lo) * 0.1).max(1e-6);
    struct Trials {
        name: String,
        pts: Vec<(f64, f64)>,
        best: Vec<(f64, f64)>,
        y: (f64, f64),
        n: f64,
    }
    impl Draw for Trials {
        fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
            let title = format!("Tuning: {} per trial", self.name);
            let mut chart = ChartBuilder::on(root)
                .caption(&title, caption(&title))
                .margin(14)
                .x_label_area_size(46)
                .y_label_area_size(70)
                .build_cartesian_2d(0.5f64..self.n + 0.5, self.y.0..self.y.1)?;
            chart
                .configure_mesh()
                .x_desc("Trial")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_desc(self.name.as_str())
                .label_style(label_style())
                .axis_desc_style((FONT, 16))
                .light_line_style(RGBColor(0xee, 0xee, 0xee))
                .draw()?;
            chart
                .draw_series(
                    self.pts
                        .iter()
                        .map(|&p| Circle::new(p, 4, ShapeStyle::from(MODEL).filled())),
                )?
                .label("trial")
                .legend(|(x, y)| Circle::new((x + 10, y), 4, ShapeStyle::from(MODEL).filled()));
            chart
                .draw_series(LineSeries::new(self.best.iter().copied(), line(BUYER, 3)))?
                .label("best so far")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line(BUYER, 3)));
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
            Ok(())
        }
    }
    render(
        "Tuning progress",
        DEFAULT_SIZE,
        &Trials {
            name: name.to_string(),
            n: result.trials.len() as f64,
            pts,
            best: best_so_far,
            y: (lo - pad, hi + pad),
        },
    )
}

/// The column called `name`, found by a scan of the names rather than polars' hashed schema
/// cache: in an evcxr notebook each cell links its own copy of polars, and a schema cached
/// by one cell's copy hashes names differently from another's (a lookup of a column that is
/// there fails).
fn column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a polars::prelude::Column> {
    df.columns()
        .iter()
        .find(|c| c.name().as_str() == name)
        .ok_or_else(|| Error::UnknownColumn {
            option: "chart".into(),
            column: name.to_string(),
            available: df
                .get_column_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        })
}

fn check_labels(df: &DataFrame, labels: &[u8]) -> Result<()> {
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
        },
    )
}

/// The distribution of a numeric column for buyers and non-buyers: two histograms on one
/// axis, each scaled to its class (share of the class per bin), missing values left out.
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
    let (lo, hi) = present
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (v, _)| {
            (a.min(*v), b.max(*v))
        });
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let bins = 30;
    let width = (hi - lo) / bins as f64;
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
                .y_label_area_size(60)
                .build_cartesian_2d(
                    self.lo..self.lo + self.width * bins as f64,
                    0f64..top.max(1e-9),
                )?;
            chart
                .configure_mesh()
                .x_desc(self.name.as_str())
                .y_desc("Share of the class")
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
                "`{name}` by class ({} missing)",
                values.len() - present.len()
            ),
            name: name.to_string(),
            lo,
            width,
            shares,
        },
    )
}

/// The purchase rate per level of a categorical column (the 20 most frequent levels,
/// highest rate first), with the overall rate for reference.
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
    render(
        "Purchase rate by category",
        DEFAULT_SIZE,
        &Bars {
            title: format!("Purchase rate by `{name}`"),
            x_desc: name.to_string(),
            y_desc: "Purchase rate".into(),
            bars: levels
                .into_iter()
                .map(|(k, n, b)| (k, b as f64 / n as f64, BUYER))
                .collect(),
            reference: Some((base, format!("overall {:.1} %", base * 100.0))),
            decimals: 2,
            horizontal: false,
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
            let pairs: Vec<(f64, f64)> = numeric[i]
                .1
                .iter()
                .zip(&numeric[j].1)
                .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
                .collect();
            let n = pairs.len() as f64;
            let (ma, mb) = pairs
                .iter()
                .fold((0.0, 0.0), |(x, y), (a, b)| (x + a / n, y + b / n));
            let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
            for (a, b) in &pairs {
                sab += (a - ma) * (b - mb);
                saa += (a - ma).powi(2);
                sbb += (b - mb).powi(2);
            }
            r[i][j] = if saa > 0.0 && sbb > 0.0 {
                sab / (saa * sbb).sqrt()
            } else {
                0.0
            };
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
            let mut chart = ChartBuilder::on(root)
                .caption(title, caption(title))
                .margin(14)
                .x_label_area_size(70)
                .y_label_area_size(170)
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
                .x_label_formatter(&|v| {
                    let mut s = name(v);
                    s.truncate(8);
                    s
                })
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => name(&SegmentValue::CenterOf(k - 1 - i)),
                    _ => String::new(),
                })
                .label_style(label_style())
                .draw()?;
            let colour = |v: f64| {
                let t = v.clamp(-1.0, 1.0).abs();
                let base = if v >= 0.0 { BUYER } else { MODEL };
                let mix = |c: u8| (255.0 + (c as f64 - 255.0) * t) as u8;
                RGBColor(mix(base.0), mix(base.1), mix(base.2))
            };
            for i in 0..k {
                for j in 0..k {
                    let v = self.r[i as usize][j as usize];
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
        },
    )
}
