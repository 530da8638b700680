//! Hostile input, round two, the files a command touches: no command may replace a file it
//! reads, a device, a folder or a FIFO, nor lose a user's file when it is killed at any
//! instant. Each test failed before its fix (a replaced model, input or device, thousands of
//! a user's files deleted by the next run).

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `run` on `data` into `out`, 5 rounds, without the baseline.
fn run_args(data: &Path, out: &Path) -> Vec<String> {
    let mut args = common::run_args(data, out);
    args.push("--no-baseline".into());
    args
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn predict_never_replaces_the_model_it_reads() {
    let (dir, model) = common::demo_model(5);
    let before = common::sha(&model);
    let input = common::root().join("data/customers.csv");
    // Before: exit 0, and the archive became the scores CSV.
    let err = common::cli_err(&common::predict_args(&model, &input, &model));
    assert!(err.contains("it is the model file"), "{err}");
    assert_eq!(common::sha(&model), before);
    // Through a link to it, too.
    let link = dir.path().join("scores.csv");
    std::os::unix::fs::symlink(&model, &link).unwrap();
    let err = common::cli_err(&common::predict_args(&model, &input, &link));
    assert!(err.contains("it is the model file"), "{err}");
    assert_eq!(common::sha(&model), before);
}

#[test]
fn predict_replaces_only_regular_files_and_refuses_the_rest_before_scoring() {
    let (dir, model) = common::demo_model(5);
    let input = common::root().join("data/customers.csv");
    // A FIFO, and a link to a device: refused, left as they were. (Before, as root, the
    // temporary file was renamed over any path: /dev/null became a file of scores.)
    let fifo = dir.path().join("scores.fifo");
    mkfifo(&fifo);
    let err = common::cli_err(&common::predict_args(&model, &input, &fifo));
    assert!(err.contains("not a regular file"), "{err}");
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    let device = dir.path().join("null.csv");
    std::os::unix::fs::symlink("/dev/null", &device).unwrap();
    let err = common::cli_err(&common::predict_args(&model, &input, &device));
    assert!(err.contains("not a regular file"), "{err}");
    assert!(std::fs::symlink_metadata(&device)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    // A folder: refused before any scoring (before: after all of it).
    let folder = dir.path().join("scores");
    std::fs::create_dir(&folder).unwrap();
    let out = common::cli(&common::predict_args(&model, &input, &folder));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("it is a folder"), "{err}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("scored"),
        "refused before scoring"
    );
}

#[test]
fn a_replaced_output_keeps_its_mode_a_link_stays_a_link_and_stale_partials_go() {
    let (dir, model) = common::demo_model(5);
    let input = common::root().join("data/customers.csv");
    let out = dir.path().join("scores.csv");
    std::fs::write(&out, "earlier\n").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    // What a SIGKILL left: a partial file of a process that is gone, and one of a live one
    // (this test's own process), which is not ours to remove.
    let gone = common::dead_pid();
    let stale = dir.path().join(format!(".scores.csv.partial-{gone}"));
    std::fs::write(&stale, "half").unwrap();
    let live = dir
        .path()
        .join(format!(".scores.csv.partial-{}", std::process::id()));
    std::fs::write(&live, "in progress").unwrap();
    common::cli_ok(&common::predict_args(&model, &input, &out));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("customer_id,probability,label"));
    // Before: 600 became 644.
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        !stale.exists(),
        "the dead process's partial file is removed"
    );
    assert!(live.exists(), "a live process's partial file stays");
    // A link to a file: the link stays, the file it names gets the scores.
    let real = dir.path().join("real.csv");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    common::cli_ok(&common::predict_args(&model, &input, &link));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real)
        .unwrap()
        .starts_with("customer_id,probability"));
}

#[test]
fn run_refuses_to_replace_its_own_input() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = common::root().join("data/customers.csv");
    for name in ["train.csv", "test.csv", "validation.csv", "metrics.json"] {
        let data = dir.path().join(name);
        std::fs::copy(&shipped, &data).unwrap();
        let before = common::sha(&data);
        // Before: exit 0, and the user's table became the headerless preprocessed split.
        let out = Command::new(env!("CARGO_BIN_EXE_purchase-predict"))
            .args(as_strs(&run_args(Path::new(name), Path::new("."))))
            .current_dir(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: {err}");
        assert!(err.contains("which the run replaces"), "{name}: {err}");
        assert_eq!(common::sha(&data), before, "{name} was replaced");
        assert_eq!(names(dir.path()), [name], "nothing else written");
        std::fs::remove_file(&data).unwrap();
    }
}

#[test]
fn run_out_through_a_symlink_updates_the_folder_it_names_and_keeps_the_link() {
    let base = tempfile::tempdir().unwrap();
    let real = base.path().join("results");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("notes.txt"), "mine").unwrap();
    let link = base.path().join("latest");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let data = common::root().join("data/customers.csv");
    common::cli_ok(&as_strs(&run_args(&data, &link)));
    // Before: the link was replaced by a real folder and notes.txt moved out of `results`.
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let got = names(&real);
    assert!(got.contains(&"model.tar.gz".to_string()), "{got:?}");
    assert_eq!(
        std::fs::read_to_string(real.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(names(base.path()), ["latest", "results"]);
}

/// The staging folder beside `out`, if one exists.
fn staging_of(out: &Path) -> Option<PathBuf> {
    let parent = out.parent().unwrap();
    let prefix = format!(".{}.staging-", out.file_name().unwrap().to_string_lossy());
    std::fs::read_dir(parent)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
}

#[test]
fn sigkill_during_the_commit_then_another_run_loses_none_of_the_users_files() {
    let base = tempfile::tempdir().unwrap();
    let out = base.path().join("out");
    let data = common::root().join("data/customers.csv");
    let args = run_args(&data, &out);
    common::cli_ok(&as_strs(&args));
    // 20,000 files of the user's own, and a folder of them.
    let users = 20_000;
    for i in 0..users {
        std::fs::write(out.join(format!("user-{i:05}.txt")), i.to_string()).unwrap();
    }
    std::fs::create_dir(out.join("mine")).unwrap();
    std::fs::write(out.join("mine/deep.txt"), "deep").unwrap();
    let check = |when: &str| {
        for i in 0..users {
            let p = out.join(format!("user-{i:05}.txt"));
            assert_eq!(
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{when}: {p:?}: {e}")),
                i.to_string(),
                "{when}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(out.join("mine/deep.txt")).unwrap(),
            "deep"
        );
    };
    // Killed once the staging folder holds some of the user's files (before: they were
    // moved there, and the next run deleted 12,724 of them with the staging folder).
    let mut killed_mid_commit = false;
    for _attempt in 0..5 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_purchase-predict"))
            .args(as_strs(&args))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let mut seen = false;
        while started.elapsed() < Duration::from_secs(120) {
            if let Some(staging) = staging_of(&out) {
                if std::fs::read_dir(&staging)
                    .map(|d| {
                        d.flatten()
                            .any(|e| e.file_name().to_string_lossy().starts_with("user-"))
                    })
                    .unwrap_or(false)
                {
                    seen = true;
                    break;
                }
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        check("after the SIGKILL");
        if seen {
            killed_mid_commit = true;
            break;
        }
    }
    assert!(
        killed_mid_commit,
        "the commit was never caught with the user's files in the staging folder"
    );
    // The next run removes the dead run's staging folder, and loses nothing.
    common::cli_ok(&as_strs(&args));
    check("after the next run");
    assert_eq!(names(base.path()), ["out"], "no staging folder left");
}
