//! The shipped data, the real datasets, Parquet input and artifact integrity.

mod common;

use purchase_predict::app::pipeline::{run, RunConfig};
use purchase_predict::data::generate::{customers_csv, DEFAULT_ROWS, DEFAULT_SEED};
use purchase_predict::data::{load, LoadOptions};
use purchase_predict::model::artifact::{
    Artifact, MANIFEST_MEMBER, MODEL_MEMBER, PREPROCESSOR_MEMBER,
};
use purchase_predict::polars::prelude::*;
use purchase_predict::util::progress::Silent;
use purchase_predict::Error;

#[test]
fn shipped_customers_csv_is_what_the_generator_makes() {
    let shipped = std::fs::read_to_string(common::root().join("data/customers.csv")).unwrap();
    assert!(
        shipped == customers_csv(DEFAULT_ROWS, DEFAULT_SEED),
        "data/customers.csv differs from the generator: run `purchase-predict generate`"
    );
}

#[test]
fn bank_marketing_loads_as_it_is() {
    let Some(p) = common::shared_dataset("bank-marketing/bank-additional-full.csv") else {
        return;
    };
    let ds = load(&p, &LoadOptions::new("y")).unwrap();
    assert_eq!(ds.len(), 41_188);
    assert_eq!(ds.labels.iter().filter(|&&l| l == 1).count(), 4_640);
    assert_eq!(ds.features.width(), 20);
    let job = ds.features.column("job").unwrap();
    assert_eq!(job.dtype(), &DataType::String);
    let unknown = job
        .str()
        .unwrap()
        .iter()
        .filter(|v| *v == Some("unknown"))
        .count();
    assert_eq!(unknown, 330, "`unknown` stays a level of its own");
    assert_eq!(
        ds.features.column("euribor3m").unwrap().dtype(),
        &DataType::Float64
    );
}

#[test]
fn kaggle_customer_purchase_loads_as_it_is() {
    let Some(p) = common::shared_dataset("customer-purchase/customer_purchase_data.csv") else {
        return;
    };
    // CRLF plus a trailing empty line: the blank line is not a row.
    let ds = load(&p, &LoadOptions::new("PurchaseStatus")).unwrap();
    assert_eq!(ds.len(), 1_500);
    assert_eq!(ds.labels.iter().filter(|&&l| l == 1).count(), 648);
    assert_eq!(ds.features.width(), 8);
}

#[test]
fn parquet_input_gives_the_same_model_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = common::root().join("data/customers.csv");
    let mut df = purchase_predict::data::read_table(&csv, None).unwrap();
    let pq = dir.path().join("customers.parquet");
    let file = std::fs::File::create(&pq).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();

    let mut a = RunConfig::demo(dir.path().join("a"));
    a.hyperparameters.nthread = Some(1);
    let mut b = a.clone();
    b.data = pq;
    b.out_dir = dir.path().join("b");
    let ra = run(&a, &mut Silent).unwrap();
    let rb = run(&b, &mut Silent).unwrap();
    assert_eq!(ra.n_rows, rb.n_rows);
    assert_eq!(ra.metrics.confusion, rb.metrics.confusion);
    assert_eq!(ra.metrics.roc_auc, rb.metrics.roc_auc);
}

fn members(path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let f = std::fs::File::open(path).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type().is_file() {
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            out.push((name, data));
        }
    }
    out
}

fn pack(path: &std::path::Path, members: &[(String, Vec<u8>)]) {
    let f = std::fs::File::create(path).unwrap();
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::fast(),
    ));
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
}

#[test]
fn artifact_layout_checksums_and_corruption() {
    let (dir, path) = common::demo_model(5);
    let m = members(&path);
    let names: Vec<&str> = m.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![MODEL_MEMBER, PREPROCESSOR_MEMBER, MANIFEST_MEMBER]
    );
    // SageMaker's container loads every top-level file as a booster: only xgboost-model is there.
    assert_eq!(names.iter().filter(|n| !n.contains('/')).count(), 1);
    Artifact::load(&path).unwrap();

    // Truncated archive.
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        Artifact::load(&cut),
        Err(Error::CorruptArtifact { .. })
    ));
    // Not an archive at all.
    let junk = dir.path().join("junk.tar.gz");
    std::fs::write(&junk, b"hello").unwrap();
    assert!(matches!(
        Artifact::load(&junk),
        Err(Error::CorruptArtifact { .. })
    ));
    // A member changed after the manifest was written.
    let mut changed = m.clone();
    let pre = String::from_utf8(changed[1].1.clone()).unwrap();
    changed[1].1 = pre.replacen("\"mean\": ", "\"mean\": 1", 1).into_bytes();
    let tampered = dir.path().join("tampered.tar.gz");
    pack(&tampered, &changed);
    match Artifact::load(&tampered) {
        Err(e @ Error::CorruptArtifact { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains(PREPROCESSOR_MEMBER) && msg.contains("checksum"),
                "{msg}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A member missing.
    let missing = dir.path().join("missing.tar.gz");
    pack(&missing, &m[..2]);
    match Artifact::load(&missing) {
        Err(e) => assert!(e.to_string().contains("manifest.json"), "{e}"),
        Ok(_) => panic!("loaded without a manifest"),
    }
    // A missing file is FileNotFound.
    assert!(matches!(
        Artifact::load(dir.path().join("nope.tar.gz")),
        Err(Error::FileNotFound { .. })
    ));
}
