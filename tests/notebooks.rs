//! The committed notebooks were executed by `scripts/notebooks.sh` (which fails on any error
//! or panic), and keep the walkthrough's shape: seven numbered notebooks, each opening with a
//! "what and why" and closing with "what we learned", run by the "purchase-predict" kernel, which
//! imports the crate when it starts (scripts/setup.sh), so no notebook has a `:dep` cell.

mod common;

use serde_json::Value;

const NOTEBOOKS: &[&str] = &[
    "01_explore",
    "02_preprocess",
    "03_train_tune",
    "04_evaluate",
    "05_deploy_invoke",
    "06_cleanup",
    "07_monitor",
];

fn source(cell: &Value) -> String {
    match &cell["source"] {
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

fn load(name: &str) -> Value {
    let path = common::root().join(format!("notebooks/{name}.ipynb"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn committed_notebooks_were_executed_cleanly() {
    for name in NOTEBOOKS {
        let nb = load(name);
        assert_eq!(
            nb["metadata"]["kernelspec"]["name"], "purchase-predict",
            "{name}: the project's evcxr kernel"
        );
        let cells = nb["cells"].as_array().unwrap();
        let mut last_count = 0;
        for (i, cell) in cells.iter().enumerate() {
            if cell["cell_type"] != "code" {
                continue;
            }
            let count = cell["execution_count"].as_u64().unwrap_or_else(|| {
                panic!("{name}.ipynb cell {i} was not executed; run scripts/notebooks.sh")
            });
            assert!(
                count > last_count,
                "{name}.ipynb cell {i}: cells ran out of order"
            );
            last_count = count;
            for out in cell["outputs"].as_array().unwrap() {
                assert_ne!(
                    out["output_type"], "error",
                    "{name}.ipynb cell {i} has an error output"
                );
                let text = match &out["text"] {
                    Value::Array(l) => l.iter().filter_map(Value::as_str).collect::<String>(),
                    Value::String(s) => s.clone(),
                    _ => String::new(),
                };
                assert!(
                    !text.contains("panicked at"),
                    "{name}.ipynb cell {i} panicked: {text}"
                );
                // A cell's `?` reports its error on stderr, and nothing else writes there.
                assert_ne!(
                    out["name"], "stderr",
                    "{name}.ipynb cell {i} wrote to stderr: {text}"
                );
            }
        }
    }
}

#[test]
fn notebooks_tell_a_story_and_import_the_crate_once() {
    for name in NOTEBOOKS {
        let nb = load(name);
        let cells = nb["cells"].as_array().unwrap();
        let first = cells.first().unwrap();
        assert_eq!(first["cell_type"], "markdown", "{name}: opens with prose");
        assert!(
            source(first).contains("What and why"),
            "{name}: opens with a what and why"
        );
        let last = cells.last().unwrap();
        assert!(
            source(last).contains("What we learned"),
            "{name}: ends with what we learned"
        );
        let deps: Vec<usize> = cells
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c["cell_type"] == "code" && source(c).lines().any(|l| l.starts_with(":dep"))
            })
            .map(|(i, _)| i)
            .collect();
        // A `:dep` cell would cost a cargo pass over the whole dependency graph each time it
        // runs; the kernel imports the crate once, when it starts.
        assert!(deps.is_empty(), "{name}: cells {deps:?} import a crate");
        let code: Vec<&Value> = cells.iter().filter(|c| c["cell_type"] == "code").collect();
        // Short cells: the logic lives in the crate.
        for c in &code {
            assert!(
                source(c).lines().count() <= 15,
                "{name}: a cell of {} lines",
                source(c).lines().count()
            );
        }
    }
}

/// No traps for someone running them by hand: no panic hook that exits the kernel, errors
/// passed up with `?` rather than `expect`, a settings cell at the top of 01, no machine paths
/// or debug prints in the outputs, and the walkthrough closes with what to try next.
#[test]
fn notebooks_have_no_traps_for_people() {
    let project = common::root().canonicalize().unwrap();
    let project = project.to_str().unwrap();
    for name in NOTEBOOKS {
        let nb = load(name);
        for (i, c) in nb["cells"].as_array().unwrap().iter().enumerate() {
            let src = source(c);
            if c["cell_type"] == "code" {
                assert!(!src.contains("set_hook"), "{name} cell {i}: a panic hook");
                assert!(
                    !src.contains(".expect("),
                    "{name} cell {i}: `.expect(` where `?` reads better"
                );
                assert!(!src.contains(".unwrap()"), "{name} cell {i}: `.unwrap()`");
            }
            let outputs = serde_json::to_string(&c["outputs"]).unwrap_or_default();
            assert!(
                !outputs.contains(project),
                "{name} cell {i}: a machine path in the output"
            );
            for debug in ["Endpoint {", "Some(", "e0\\n"] {
                assert!(
                    !outputs.contains(debug),
                    "{name} cell {i}: a debug print ({debug})"
                );
            }
        }
    }
    let first = load("01_explore");
    let settings = first["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cell_type"] == "code")
        .map(source)
        .unwrap();
    assert!(
        settings.contains("Walkthrough::start(&Settings::data(") && settings.contains(".backend("),
        "notebook 1 opens with the settings cell that names the table"
    );
    let last = load("06_cleanup");
    let text: String = last["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(source)
        .collect();
    assert!(
        text.contains("## Extensions"),
        "06 closes with what to try next"
    );
}

/// A frontend renders one MIME type per output (JupyterLab and nbconvert prefer HTML), so an
/// output holding an image beside HTML hides the image; and a cell ending in a block shows a
/// bare `()`. No committed output may be either.
#[test]
fn every_committed_chart_renders_and_no_cell_shows_a_unit() {
    for name in NOTEBOOKS {
        let nb = load(name);
        for (i, cell) in nb["cells"].as_array().unwrap().iter().enumerate() {
            for out in cell["outputs"].as_array().cloned().unwrap_or_default() {
                let data = &out["data"];
                assert!(
                    !data["image/png"].is_string() || data["text/html"].is_null(),
                    "{name}.ipynb cell {i}: an image and HTML in one output (the image is hidden)"
                );
                assert_ne!(
                    data["text/plain"].as_str().map(str::trim),
                    Some("()"),
                    "{name}.ipynb cell {i} shows `()`"
                );
            }
        }
    }
}

#[test]
fn the_charts_are_in_the_committed_outputs() {
    // Charts are PNG outputs, or PNG images inside an HTML output (several per cell).
    // 01: the missing values, the class balance, every one of the demo table's 14 feature
    // columns and the correlations; 03: the tuning trials; 04: the confusion matrix, ROC, PR,
    // F1 by threshold, profit, reliability, gains, lift, the baseline's ROC and the three
    // explanation charts; 05: the endpoint's explanation; 07: drift by column, the scores then
    // and now, the quality by day.
    for (name, want) in [
        ("01_explore", 17),
        ("03_train_tune", 1),
        ("04_evaluate", 12),
        ("05_deploy_invoke", 1),
        ("07_monitor", 3),
    ] {
        let nb = load(name);
        let images: usize = nb["cells"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["outputs"].as_array().cloned().unwrap_or_default())
            .map(|o| {
                let html = match &o["data"]["text/html"] {
                    Value::Array(l) => l.iter().filter_map(Value::as_str).collect::<String>(),
                    Value::String(s) => s.clone(),
                    _ => String::new(),
                };
                usize::from(o["data"]["image/png"].is_string())
                    + html.matches("data:image/png;base64,").count()
            })
            .sum();
        assert!(
            images >= want,
            "{name} shows {images} charts, expected at least {want}"
        );
    }
}

#[test]
fn the_kernel_imports_the_crate_as_one_shared_library_following_the_backend() {
    let setup = std::fs::read_to_string(common::root().join("scripts/setup.sh")).unwrap();
    assert!(
        setup.contains(r#":dep purchase_predict = { package = "purchase-predict-kernel", path = "%s/notebooks/kernel"%s }"#),
        "scripts/setup.sh writes the kernel's import"
    );
    assert!(setup.contains(r#"sagemaker) features=', features = ["sagemaker"]'"#));
    let facade =
        std::fs::read_to_string(common::root().join("notebooks/kernel/Cargo.toml")).unwrap();
    let manifest: toml_lines::Manifest = toml_lines::parse(&facade);
    assert_eq!(manifest.get("crate-type"), Some(r#"["rlib", "dylib"]"#));
    assert_eq!(
        manifest.get("purchase-predict"),
        Some(r#"{ path = "../..", default-features = false }"#),
        "local mode leaves the AWS SDK out"
    );
    assert_eq!(
        manifest.get("sagemaker"),
        Some(r#"["purchase-predict/sagemaker"]"#)
    );
}

/// Just enough of TOML to read `key = value` lines.
mod toml_lines {
    pub struct Manifest(Vec<(String, String)>);

    impl Manifest {
        pub fn get(&self, key: &str) -> Option<&str> {
            self.0
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        }
    }

    pub fn parse(text: &str) -> Manifest {
        Manifest(
            text.lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .filter_map(|l| l.split_once(" = "))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect(),
        )
    }
}
