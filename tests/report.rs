//! report.html: self-contained, and what a browser shows (headless Chromium).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--hide-scrollbars",
        "--window-size=1100,2400",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn run_writes_a_self_contained_report() {
    let (dir, _model) = common::demo_model(20);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert_eq!(html.matches("src=\"data:image/png;base64,").count(), 8);
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    for text in [
        "accuracy",
        "precision",
        "recall",
        "ROC AUC",
        "Hyperparameters",
        "eta",
    ] {
        assert!(html.contains(text), "report lacks {text}");
    }
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        common::skip("Chromium is not installed (.ci/run installs Debian's chromium)");
        return;
    };
    let (dir, model) = common::demo_model(20);
    // `evaluate` writes the same page for any labelled table.
    let out = dir.path().join("evaluation");
    let stdout = common::cli_ok(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--data",
        common::root().join("data/customers.csv").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.contains("evaluated 10000 rows"), "{stdout}");
    let page = format!("file://{}", out.join("report.html").display());
    let profile = tempfile::tempdir().unwrap();

    let dom = headless(&browser, profile.path())
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    for text in [
        "accuracy",
        "precision",
        "recall",
        "F1",
        "ROC AUC",
        "log loss",
    ] {
        assert!(dom.contains(text), "the rendered page lacks {text}");
    }

    let shot = dir.path().join("report.png");
    let s = headless(&browser, profile.path())
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&page)
        .output()
        .unwrap();
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let bytes = std::fs::read(&shot).unwrap();
    let mut reader = png::Decoder::new(bytes.as_slice()).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    assert_eq!((info.width, info.height), (1100, 2400));
    let white = pixels.iter().filter(|p| p[..3] == [255, 255, 255]).count();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    assert!(
        white < pixels.len() * 97 / 100 && colours.len() > 50,
        "a blank page: {white} white of {} pixels, {} colours",
        pixels.len(),
        colours.len()
    );
}
