//! Every chart renders: the PNG decodes at the requested size and is not blank, the SVG has the
//! title and axis labels.

mod common;

use std::collections::HashSet;

use purchase_predict::evaluate::plot::{self, Chart, DEFAULT_SIZE};
use purchase_predict::metrics::{evaluate, threshold_sweep};
use purchase_predict::model::artifact::Artifact;

/// Decode a PNG: (width, height, RGB bytes).
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Distinct colours in the middle of the image (the plot area, away from the title).
fn colours_in_plot_area(w: u32, h: u32, rgb: &[u8]) -> usize {
    let mut seen = HashSet::new();
    for y in h / 5..h * 4 / 5 {
        for x in w / 5..w * 4 / 5 {
            let i = (y * w + x) as usize * 3;
            seen.insert((rgb[i], rgb[i + 1], rgb[i + 2]));
        }
    }
    seen.len()
}

fn check(chart: &Chart, texts: &[&str]) {
    // PP_PLOT_DIR=folder keeps the images, to look at them.
    if let Some(dir) = std::env::var_os("PP_PLOT_DIR") {
        let name: String = chart
            .title
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        chart
            .save_png(std::path::Path::new(&dir).join(format!("{name}.png")))
            .unwrap();
    }
    let (w, h, rgb) = decode(&chart.png);
    assert_eq!((w, h), DEFAULT_SIZE, "{}", chart.title);
    assert_eq!((chart.width, chart.height), DEFAULT_SIZE);
    let colours = colours_in_plot_area(w, h, &rgb);
    assert!(
        colours >= 4,
        "{}: {colours} colours in the plot area",
        chart.title
    );
    // Text was drawn: dark pixels in the title band (the top 8 %).
    let dark_in_title = (0..h * 8 / 100)
        .flat_map(|y| (0..w).map(move |x| (y * w + x) as usize * 3))
        .filter(|&i| rgb[i] < 100 && rgb[i + 1] < 100 && rgb[i + 2] < 100)
        .count();
    assert!(dark_in_title > 100, "{}: no title text", chart.title);
    assert!(chart.svg.starts_with("<svg"), "{}", chart.title);
    for t in texts {
        assert!(chart.svg.contains(t), "{}: SVG lacks {t:?}", chart.title);
    }
}

#[test]
fn every_evaluation_chart_renders_with_its_labels() {
    let (dir, model) = common::demo_model(30);
    let artifact = Artifact::load(&model).unwrap();
    let test = common::read_numeric_csv(&dir.path().join("test.csv"));
    let labels: Vec<u8> = test.iter().map(|r| r[0] as u8).collect();
    let x = purchase_predict::data::FeatureMatrix {
        names: artifact.manifest.feature_names.clone(),
        nrows: test.len(),
        values: test.iter().flat_map(|r| r[1..].to_vec()).collect(),
    };
    let scores = artifact.model.predict(&x).unwrap();
    let m = evaluate(
        &labels,
        &scores,
        purchase_predict::metrics::Threshold::DEFAULT,
    )
    .unwrap();

    check(
        &plot::roc(&labels, &scores).unwrap(),
        &[
            "ROC curve",
            "False positive rate",
            "True positive rate",
            "AUC",
        ],
    );
    check(
        &plot::precision_recall(&labels, &scores).unwrap(),
        &["Precision-recall curve", "Recall", "Precision", "base rate"],
    );
    check(
        &plot::threshold_metrics(&threshold_sweep(&labels, &scores).unwrap(), 0.3).unwrap(),
        &[
            "Metrics by threshold",
            "Threshold",
            "F1",
            "chosen threshold 0.30",
        ],
    );
    check(
        &plot::gains(&labels, &scores).unwrap(),
        &[
            "Cumulative gains",
            "Share of customers contacted",
            "random order",
        ],
    );
    check(
        &plot::lift(&labels, &scores).unwrap(),
        &[
            "Cumulative lift by decile",
            "Lift over random calling",
            "10 %",
        ],
    );
    check(
        &plot::calibration(&labels, &scores).unwrap(),
        &[
            "Calibration",
            "Mean predicted probability",
            "Observed purchase rate",
        ],
    );
    check(
        &plot::confusion_matrix(&m.confusion, 0.5).unwrap(),
        &[
            "Confusion matrix at threshold 0.50",
            "true positives",
            "predicted buy",
            "actual no",
        ],
    );
    let top = artifact.model.feature_importance().unwrap()[0].0.clone();
    check(
        &plot::feature_importance(&artifact.model, 10).unwrap(),
        &["Feature importance (gain), top 10", &top],
    );
    // In a notebook: the evcxr protocol with the PNG in base64.
    use purchase_predict::evaluate::display::Displayable;
    let chart = plot::roc(&labels, &scores).unwrap();
    let shown = chart.evcxr_content();
    let body = shown
        .strip_prefix("EVCXR_BEGIN_CONTENT image/png\n")
        .and_then(|s| s.strip_suffix("\nEVCXR_END_CONTENT\n"))
        .expect("the evcxr protocol");
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap(),
        chart.png
    );
    // Another size on request.
    let big = plot::with_size((1200, 700), || plot::gains(&labels, &scores)).unwrap();
    assert_eq!((decode(&big.png).0, decode(&big.png).1), (1200, 700));
    assert!(big.svg.contains("width=\"1200\""));
    assert!(plot::with_size((10, 10), || plot::gains(&labels, &scores)).is_err());
    // Saved files are the same bytes.
    let png = dir.path().join("roc.png");
    let chart = plot::roc(&labels, &scores).unwrap();
    chart.save_png(&png).unwrap();
    assert_eq!(std::fs::read(&png).unwrap(), chart.png);
}

#[test]
fn the_tuning_chart_renders() {
    let dir = tempfile::tempdir().unwrap();
    let p = purchase_predict::app::pipeline::prepare(
        &purchase_predict::app::pipeline::RunConfig::demo(dir.path()),
    )
    .unwrap();
    let mut config = purchase_predict::model::tune::TunerConfig::new(
        purchase_predict::model::tune::TunerConfig::default_ranges(),
    )
    .max_jobs(6);
    config.base.num_round = 30;
    let r = purchase_predict::model::tune::tune(
        (&p.x_train, &p.y_train),
        p.validation(),
        &config,
        &mut purchase_predict::util::progress::Silent,
    )
    .unwrap();
    check(
        &plot::tuning_progress(&r).unwrap(),
        &["Tuning: validation:auc per trial", "Trial", "best so far"],
    );
}

#[test]
fn every_exploration_chart_renders_with_its_labels() {
    let ds = purchase_predict::data::load(
        common::root().join("data/customers.csv"),
        &purchase_predict::data::LoadOptions::new("purchased").id("customer_id"),
    )
    .unwrap();
    let df = &ds.features;
    check(
        &plot::class_balance(&ds.labels).unwrap(),
        &["Class balance: 15.9 % buy", "buy (1)", "Customers"],
    );
    check(
        &plot::numeric_by_class(df, "income", &ds.labels).unwrap(),
        &["income by class", "Share of the class", "buy"],
    );
    check(
        &plot::rate_by_category(df, "membership", &ds.labels).unwrap(),
        &["Purchase rate by membership", "platinum", "overall 15.9 %"],
    );
    check(
        &plot::correlation_heatmap(df).unwrap(),
        &["Correlation of numeric columns", "pages_viewed", "1.00"],
    );
    check(
        &plot::missing_values(df).unwrap(),
        &["Missing values", "income", "Share of rows missing"],
    );
    let e = plot::numeric_by_class(df, "shoe_size", &ds.labels).unwrap_err();
    assert!(e.to_string().contains("shoe_size"), "{e}");
}

/// The chart defects a reader of the notebooks saw, each kept fixed: counts without `.0` and
/// with thousands separators, rates in per cent like the tables beside them, full column
/// names and a colour bar on the heatmap, no `-0.00`, "PR AUC" as in the tables, no
/// backticks in titles, precision not drawn from a handful of customers.
#[test]
fn exploration_charts_read_like_the_tables_beside_them() {
    let ds = purchase_predict::data::load(
        common::root().join("data/customers.csv"),
        &purchase_predict::data::LoadOptions::new("purchased").id("customer_id"),
    )
    .unwrap();
    let df = &ds.features;
    let balance = plot::class_balance(&ds.labels).unwrap();
    assert!(
        balance.svg.contains("8,409") && balance.svg.contains("1,591"),
        "bar values as counts"
    );
    assert!(!balance.svg.contains("000.0"), "no counts with decimals");
    let rate = plot::rate_by_category(df, "membership", &ds.labels).unwrap();
    assert!(rate.svg.contains(" %"), "rates in per cent");
    let missing = plot::missing_values(df).unwrap();
    assert!(missing.svg.contains(" %"), "shares in per cent");
    let heat = plot::correlation_heatmap(df).unwrap();
    heat.save_svg(std::env::temp_dir().join("pp-heat.svg"))
        .unwrap();
    heat.save_png(std::env::temp_dir().join("pp-heat.png"))
        .unwrap();
    for name in [
        "days_since_last_purchase (9)",
        "minutes_on_site (5)",
        "tenure_months (3)",
    ] {
        assert!(heat.svg.contains(name), "full label {name}");
    }
    // plotters writes a text's content on its own line.
    for bar in ["\n+1\n", "\n-1\n", "\nr\n"] {
        assert!(heat.svg.contains(bar), "colour bar label {bar}");
    }
    assert!(!heat.svg.contains("-0.00"));
    for name in purchase_predict::data::numeric_columns(df) {
        let c = plot::numeric_by_class(df, &name, &ds.labels).unwrap();
        assert!(
            !c.title.contains('`') && !c.svg.contains('`'),
            "{name}: backticks"
        );
    }
    // An integer column is binned on whole numbers: bin edges at .5.
    let sessions = plot::numeric_by_class(df, "sessions_30d", &ds.labels).unwrap();
    assert!(sessions.svg.contains("sessions_30d by class"));

    let scores: Vec<f32> = ds
        .labels
        .iter()
        .enumerate()
        .map(|(i, &l)| (0.2 + 0.5 * f32::from(l) + (i % 10) as f32 * 0.03).min(0.99))
        .collect();
    let pr = plot::precision_recall(&ds.labels, &scores).unwrap();
    assert!(pr.svg.contains("PR AUC") && !pr.svg.contains("(AP "));
    let sweep = purchase_predict::metrics::threshold_sweep(&ds.labels, &scores).unwrap();
    let drawn = plot::precision_points(&sweep);
    assert!(drawn.len() < sweep.len());
    for (t, _) in &drawn {
        let p = sweep.iter().find(|p| p.threshold.get() == *t).unwrap();
        assert!(p.confusion.tp + p.confusion.fp >= plot::MIN_CALLED);
    }
    for c in [&balance, &rate, &missing, &heat, &pr] {
        c.save_png(
            std::env::temp_dir().join(format!("pp-chart-{}.png", c.title.replace(' ', "_"))),
        )
        .unwrap();
    }
}
