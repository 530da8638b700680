//! Charts of a model: how it ranks, how it is calibrated, what it uses, how it was tuned.

use super::drawing::*;
use super::*;

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
            series: vec![(format!("model (PR AUC {ap:.3})"), MODEL, pts)],
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

/// Fewest predicted buyers a precision is plotted from: above the threshold where fewer are
/// left, precision jumps about on a handful of customers.
pub const MIN_CALLED: u64 = 20;

/// The precision points [`threshold_metrics`] draws: where at least [`MIN_CALLED`]
/// customers are predicted buyers.
pub fn precision_points(sweep: &[ThresholdPoint]) -> Vec<(f64, f64)> {
    sweep
        .iter()
        .filter(|p| p.confusion.tp + p.confusion.fp >= MIN_CALLED)
        .map(|p| (p.threshold.get(), p.precision))
        .collect()
}

/// Precision, recall and F1 against the threshold, with `chosen` marked.
pub fn threshold_metrics(sweep: &[ThresholdPoint], chosen: f64) -> Result<Chart> {
    if sweep.is_empty() {
        return Err(Error::Shape("an empty threshold sweep".into()));
    }
    let get = |f: fn(&ThresholdPoint) -> f64| -> Vec<(f64, f64)> {
        sweep.iter().map(|p| (p.threshold.get(), f(p))).collect()
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
                    format!("precision ({MIN_CALLED}+ predicted buyers)"),
                    MODEL,
                    precision_points(sweep),
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
            percent: false,
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
            percent: false,
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

/// The objective of every trial in order, and the best so far; trial 0, the defaults, is
/// marked apart, with the level the search had to beat.
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
    let defaults = result
        .trials
        .first()
        .filter(|t| t.number == 0)
        .and_then(|t| t.objective);
    let stopped: Vec<(f64, f64)> = result
        .trials
        .iter()
        .filter(|t| matches!(t.status, TrialStatus::Stopped { .. }))
        .filter_map(|t| t.objective.map(|v| (t.number as f64, v)))
        .collect();
    struct Trials {
        name: String,
        pts: Vec<(f64, f64)>,
        best: Vec<(f64, f64)>,
        defaults: Option<f64>,
        stopped: Vec<(f64, f64)>,
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
                .build_cartesian_2d(-0.5f64..self.n - 0.5, self.y.0..self.y.1)?;
            chart
                .configure_mesh()
                .x_desc("Trial")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_desc(self.name.as_str())
                .label_style(label_style())
                .axis_desc_style((FONT, 16))
                .light_line_style(RGBColor(0xee, 0xee, 0xee))
                .draw()?;
            if let Some(d) = self.defaults {
                chart
                    .draw_series(LineSeries::new(
                        [(-0.5, d), (self.n - 0.5, d)],
                        line(REFERENCE, 1),
                    ))?
                    .label("trial 0: the defaults, to beat")
                    .legend(|(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], line(REFERENCE, 1))
                    });
                chart.draw_series(std::iter::once(TriangleMarker::new(
                    (0.0, d),
                    7,
                    ShapeStyle::from(REFERENCE).filled(),
                )))?;
            }
            chart
                .draw_series(
                    self.pts
                        .iter()
                        .filter(|p| self.defaults.is_none() || p.0 > 0.0)
                        .filter(|p| !self.stopped.contains(p))
                        .map(|&p| Circle::new(p, 4, ShapeStyle::from(MODEL).filled())),
                )?
                .label("searched trial")
                .legend(|(x, y)| Circle::new((x + 10, y), 4, ShapeStyle::from(MODEL).filled()));
            if !self.stopped.is_empty() {
                chart
                    .draw_series(
                        self.stopped
                            .iter()
                            .map(|&p| Circle::new(p, 4, ShapeStyle::from(MODEL).stroke_width(2))),
                    )?
                    .label("stopped early (median rule)")
                    .legend(|(x, y)| {
                        Circle::new((x + 10, y), 4, ShapeStyle::from(MODEL).stroke_width(2))
                    });
            }
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
            defaults,
            stopped,
            y: (lo - pad, hi + pad),
        },
    )
}
