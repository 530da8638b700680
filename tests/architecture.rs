//! The source tree is the pipeline (ARCHITECTURE.md): each stage folder uses only the shared
//! ground and the stages before it, and inside `cloud/` the layers point one way. This test
//! reads every `crate::...` path in `src/` (comments and doc examples aside) and names each
//! one that reaches up.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The rank of a top-level module: a module may use modules of its own rank or lower.
/// Shared ground first (`error` below everything), then the stages in pipeline order.
const RANKS: &[(&str, u32)] = &[
    ("error", 0),
    ("util", 1),
    ("codec", 1),
    ("metrics", 1),
    ("data", 2),
    ("prep", 3),
    ("model", 4),
    ("evaluate", 5),
    ("serve", 6),
    ("cloud", 7),
    ("monitor", 8),
    ("app", 9),
    ("prelude", 10),
];

/// Inside `cloud/`, the same rule one level down.
const CLOUD_RANKS: &[(&str, u32)] = &[
    ("sagemaker", 0),
    ("storage", 1),
    ("session", 2),
    ("jobs", 3),
    ("backend", 4),
    ("estimator", 5),
    ("endpoint", 5),
];

fn rank(table: &[(&str, u32)], name: &str) -> Option<u32> {
    table.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `crate::a::b` paths in a file's code (not in comments), as (a, b).
fn crate_paths(text: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" // ").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let mut parts = rest.split("::").map(|p| {
                p.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            });
            let first = parts.next().unwrap_or_default();
            let second = parts.next().unwrap_or_default();
            found.insert((first, second));
        }
        // `use crate::{a, b}` groups name several top-level modules at once.
        if let Some(i) = code.find("crate::{") {
            for name in code[i + "crate::{".len()..]
                .split([',', '}'])
                .map(|p| p.trim().split("::").next().unwrap_or("").to_string())
            {
                found.insert((name, String::new()));
            }
        }
    }
    found
}

#[test]
fn no_module_reaches_a_later_stage() {
    let src = common::root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let mut components = relative.components().map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        });
        let top = components.next().unwrap();
        let sub = components.next().unwrap_or_default();
        let Some(own) = rank(RANKS, &top) else {
            continue; // lib.rs and main.rs stand above everything
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (first, second) in crate_paths(&text) {
            let Some(theirs) = rank(RANKS, &first) else {
                continue; // `crate::Error`, `crate::Result`, macros
            };
            if theirs > own {
                violations.push(format!("{}: uses crate::{first}", relative.display()));
            }
            if top == "cloud" && first == "cloud" {
                if let (Some(a), Some(b)) = (rank(CLOUD_RANKS, &sub), rank(CLOUD_RANKS, &second)) {
                    if b > a {
                        violations.push(format!(
                            "{}: uses crate::cloud::{second}",
                            relative.display()
                        ));
                    }
                }
            }
        }
    }
    assert!(files.len() > 40, "read only {} files", files.len());
    assert!(
        violations.is_empty(),
        "modules that reach up a layer:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_reader_finds_paths_in_code_and_skips_comments() {
    let found = crate_paths(
        "use crate::data::FeatureMatrix;\n// crate::app::cli\nlet x = crate::serve::Predictor::new(); // crate::cloud\nuse crate::{metrics, prep::Preprocessor};\n",
    );
    let names: Vec<&str> = found.iter().map(|(a, _)| a.as_str()).collect();
    assert!(names.contains(&"data") && names.contains(&"serve"));
    assert!(names.contains(&"metrics") && names.contains(&"prep"));
    assert!(!names.contains(&"app") && !names.contains(&"cloud"));
}
