//! Charts with plotters, each a function from our types to a [`Chart`]: a PNG and an SVG of
//! the same drawing, at a fixed size (800 × 520 unless told), with the DejaVu Sans font
//! shipped in `data/fonts` (so text renders on a machine with no fonts and no fontconfig) and
//! one palette: buyers orange, non-buyers teal, the model blue, references grey.
//!
//! Exploration: [`class_balance`], [`numeric_by_class`], [`rate_by_category`],
//! [`correlation_heatmap`], [`missing_values`]. Evaluation: [`confusion_matrix`], [`roc`],
//! [`precision_recall`], [`threshold_metrics`], [`gains`], [`lift`], [`calibration`],
//! [`feature_importance`], [`roc_comparison`] (XGBoost beside the baseline), [`profit_curve`].
//! Explanations: [`contribution_importance`], [`beeswarm`], [`waterfall`]. Tuning:
//! [`tuning_progress`]. Monitoring: [`drift_by_column`], [`score_distributions`],
//! [`quality_over_time`].
//!
//! ```no_run
//! # fn demo(labels: &[u8], scores: &[f32]) -> purchase_predict::Result<()> {
//! let chart = purchase_predict::evaluate::plot::roc(labels, scores)?;
//! chart.save_png("out/roc.png")?;
//! # Ok(()) }
//! ```

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

use crate::error::{ensure, Error, Result};
use crate::metrics::{self, Confusion, ThresholdPoint};
use crate::model::train::Model;
use crate::model::tune::{Direction, TrialStatus, TuningResult};
use crate::prep::numeric_values;
use crate::util::files::write_atomically;
use polars::prelude::{DataFrame, DataType};

mod data;
mod drawing;
mod explain;
mod model;
mod monitor;

pub use data::{
    class_balance, correlation_heatmap, missing_values, numeric_by_class, rate_by_category,
};
pub use explain::{beeswarm, contribution_importance, profit_curve, roc_comparison, waterfall};
pub use model::{
    calibration, confusion_matrix, feature_importance, gains, lift, precision_points,
    precision_recall, roc, threshold_metrics, tuning_progress, MIN_CALLED,
};
pub use monitor::{drift_by_column, quality_over_time, score_distributions};

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
/// use purchase_predict::evaluate::plot;
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

const FONT_BYTES: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans.ttf");
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
    ensure!(w >= 200 && h >= 150, setting "chart size", "{w} × {h} is too small; use at least 200 × 150");
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
