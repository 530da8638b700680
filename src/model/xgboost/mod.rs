//! A small, safe binding to libxgboost's C API (XGBoost 1.7, Debian's `libxgboost-dev`).
//!
//! Only what the pipeline needs: dense matrices, training one round at a time, evaluation,
//! prediction, slicing to the best round, feature scores, and model (de)serialisation in JSON
//! and in the legacy binary format that SageMaker's `xgboost:1.7-1` container writes.
//!
//! ```no_run
//! use purchase_predict::model::xgboost::{Booster, DMatrix};
//! let x = vec![0.0f32, 1.0, 1.0, 0.0, 0.5, 0.5, 1.0, 1.0];
//! let mut train = DMatrix::from_dense(&x, 4, 2)?;
//! train.set_labels(&[0.0, 1.0, 0.0, 1.0])?;
//! let mut booster = Booster::new(&[&train])?;
//! booster.set_param("objective", "binary:logistic")?;
//! for round in 0..10 {
//!     booster.update(round, &train)?;
//! }
//! let p = booster.predict(&train, None)?;
//! assert_eq!(p.len(), 4);
//! # Ok::<(), purchase_predict::Error>(())
//! ```

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr;

use crate::error::{Error, Result};

pub mod collective;
mod quantised;
pub mod tracker;

pub use quantised::RowBatches;

type BstUlong = u64;
type DMatrixHandle = *mut c_void;
type BoosterHandle = *mut c_void;

#[link(name = "xgboost")]
extern "C" {
    fn XGBGetLastError() -> *const c_char;
    fn XGBoostVersion(major: *mut c_int, minor: *mut c_int, patch: *mut c_int);
    fn XGDMatrixCreateFromMat(
        data: *const f32,
        nrow: BstUlong,
        ncol: BstUlong,
        missing: f32,
        out: *mut DMatrixHandle,
    ) -> c_int;
    fn XGDMatrixCreateFromMat_omp(
        data: *const f32,
        nrow: BstUlong,
        ncol: BstUlong,
        missing: f32,
        out: *mut DMatrixHandle,
        nthread: c_int,
    ) -> c_int;
    fn XGDMatrixSetFloatInfo(
        handle: DMatrixHandle,
        field: *const c_char,
        array: *const f32,
        len: BstUlong,
    ) -> c_int;
    fn XGDMatrixFree(handle: DMatrixHandle) -> c_int;
    fn XGBoosterCreate(
        dmats: *const DMatrixHandle,
        len: BstUlong,
        out: *mut BoosterHandle,
    ) -> c_int;
    fn XGBoosterFree(handle: BoosterHandle) -> c_int;
    fn XGBoosterSetParam(handle: BoosterHandle, name: *const c_char, value: *const c_char)
        -> c_int;
    fn XGBoosterUpdateOneIter(handle: BoosterHandle, iter: c_int, dtrain: DMatrixHandle) -> c_int;
    fn XGBoosterEvalOneIter(
        handle: BoosterHandle,
        iter: c_int,
        dmats: *const DMatrixHandle,
        evnames: *const *const c_char,
        len: BstUlong,
        out_result: *mut *const c_char,
    ) -> c_int;
    fn XGBoosterPredictFromDMatrix(
        handle: BoosterHandle,
        dmat: DMatrixHandle,
        config: *const c_char,
        out_shape: *mut *const BstUlong,
        out_dim: *mut BstUlong,
        out_result: *mut *const f32,
    ) -> c_int;
    fn XGBoosterPredictFromDense(
        handle: BoosterHandle,
        values: *const c_char,
        config: *const c_char,
        m: DMatrixHandle,
        out_shape: *mut *const BstUlong,
        out_dim: *mut BstUlong,
        out_result: *mut *const f32,
    ) -> c_int;
    fn XGBoosterLoadModelFromBuffer(
        handle: BoosterHandle,
        buf: *const c_void,
        len: BstUlong,
    ) -> c_int;
    fn XGBoosterSaveModelToBuffer(
        handle: BoosterHandle,
        config: *const c_char,
        out_len: *mut BstUlong,
        out_dptr: *mut *const c_char,
    ) -> c_int;
    fn XGBoosterSlice(
        handle: BoosterHandle,
        begin_layer: c_int,
        end_layer: c_int,
        step: c_int,
        out: *mut BoosterHandle,
    ) -> c_int;
    fn XGBoosterBoostedRounds(handle: BoosterHandle, out: *mut c_int) -> c_int;
    fn XGBoosterGetNumFeature(handle: BoosterHandle, out: *mut BstUlong) -> c_int;
    fn XGBoosterFeatureScore(
        handle: BoosterHandle,
        config: *const c_char,
        out_n_features: *mut BstUlong,
        out_features: *mut *const *const c_char,
        out_dim: *mut BstUlong,
        out_shape: *mut *const BstUlong,
        out_scores: *mut *const f32,
    ) -> c_int;
}

/// Turn a C API return code into a `Result`, with libxgboost's own message.
fn check(code: c_int) -> Result<()> {
    if code == 0 {
        return Ok(());
    }
    // SAFETY: XGBGetLastError returns a pointer to a thread-local, NUL-terminated string.
    let msg = unsafe { CStr::from_ptr(XGBGetLastError()) }.to_string_lossy();
    Err(Error::XGBoost(user_message(&msg)))
}

/// libxgboost's message without what only its developers read: the stack trace after
/// `Stack trace:` and the `[12:00:00] ../src/learner.cc:123: ` prefix of time and source line.
fn user_message(raw: &str) -> String {
    let text = raw.split("Stack trace:").next().unwrap_or(raw).trim();
    let text = match text.strip_prefix('[').and_then(|t| t.split_once("] ")) {
        Some((_, rest)) => rest,
        None => text,
    };
    let text = match text.split_once(": ") {
        Some((place, rest))
            if [".cc:", ".h:", ".cu:"].iter().any(|s| place.contains(s))
                && !place.contains(' ') =>
        {
            rest
        }
        _ => text,
    };
    text.trim().to_string()
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::XGBoost(format!("string contains a NUL byte: {s:?}")))
}

/// The version of the linked libxgboost, for example `(1, 7, 4)`.
pub fn version() -> (i32, i32, i32) {
    let (mut a, mut b, mut c) = (0, 0, 0);
    // SAFETY: plain out-parameters.
    unsafe { XGBoostVersion(&mut a, &mut b, &mut c) };
    (a, b, c)
}

/// The linked libxgboost's version as `major.minor.patch`.
pub fn version_string() -> String {
    let (a, b, c) = version();
    format!("{a}.{b}.{c}")
}

/// A dense feature matrix handed to libxgboost (`NaN` = missing).
pub struct DMatrix {
    handle: DMatrixHandle,
    nrow: usize,
    ncol: usize,
}

// SAFETY: a DMatrix is not shared; libxgboost allows using it from any one thread at a time.
unsafe impl Send for DMatrix {}

impl DMatrix {
    /// Copy a row-major `nrow × ncol` matrix into libxgboost.
    pub fn from_dense(values: &[f32], nrow: usize, ncol: usize) -> Result<Self> {
        if values.len() != nrow * ncol {
            return Err(Error::Shape(format!(
                "{} values for a {nrow} x {ncol} matrix",
                values.len()
            )));
        }
        let mut handle = ptr::null_mut();
        // SAFETY: `values` holds nrow*ncol floats; libxgboost copies them. Large matrices
        // (a training split) are copied on every core (0: OpenMP's default), as Python
        // xgboost does; a request's few rows on the calling thread alone.
        check(unsafe {
            if values.len() >= PARALLEL_DMATRIX_VALUES {
                XGDMatrixCreateFromMat_omp(
                    values.as_ptr(),
                    nrow as BstUlong,
                    ncol as BstUlong,
                    f32::NAN,
                    &mut handle,
                    0,
                )
            } else {
                XGDMatrixCreateFromMat(
                    values.as_ptr(),
                    nrow as BstUlong,
                    ncol as BstUlong,
                    f32::NAN,
                    &mut handle,
                )
            }
        })?;
        Ok(DMatrix { handle, nrow, ncol })
    }

    /// Set the 0/1 labels, one per row.
    pub fn set_labels(&mut self, labels: &[f32]) -> Result<()> {
        if labels.len() != self.nrow {
            return Err(Error::Shape(format!(
                "{} labels for {} rows",
                labels.len(),
                self.nrow
            )));
        }
        let field = cstring("label")?;
        // SAFETY: `labels` has nrow floats; libxgboost copies them.
        check(unsafe {
            XGDMatrixSetFloatInfo(
                self.handle,
                field.as_ptr(),
                labels.as_ptr(),
                labels.len() as BstUlong,
            )
        })
    }

    /// Number of rows.
    pub fn nrow(&self) -> usize {
        self.nrow
    }

    /// Number of columns.
    pub fn ncol(&self) -> usize {
        self.ncol
    }
}

/// From this many values on, [`DMatrix::from_dense`] copies them on every core.
const PARALLEL_DMATRIX_VALUES: usize = 1 << 20;

impl Drop for DMatrix {
    fn drop(&mut self) {
        // SAFETY: the handle came from XGDMatrixCreateFromMat and is freed once.
        unsafe { XGDMatrixFree(self.handle) };
    }
}

/// A gradient-boosted tree model.
pub struct Booster {
    handle: BoosterHandle,
}

// SAFETY: a Booster owns its handle. Everything that changes the model (parameters,
// training rounds, evaluation) takes `&mut self`; what takes `&self` is prediction and
// serialisation, which libxgboost documents as thread safe (its output buffers are
// thread-local), so a loaded model can serve requests from several threads at once.
unsafe impl Send for Booster {}
unsafe impl Sync for Booster {}

impl Booster {
    /// A new booster whose training will use (and cache) these matrices.
    pub fn new(cache: &[&DMatrix]) -> Result<Self> {
        let handles: Vec<DMatrixHandle> = cache.iter().map(|d| d.handle).collect();
        let mut handle = ptr::null_mut();
        // SAFETY: `handles` lives through the call.
        check(unsafe {
            XGBoosterCreate(handles.as_ptr(), handles.len() as BstUlong, &mut handle)
        })?;
        Ok(Booster { handle })
    }

    /// Load a model from bytes: XGBoost JSON, UBJSON or the legacy binary format.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let booster = Booster::new(&[])?;
        // SAFETY: `bytes` lives through the call; libxgboost copies what it needs.
        check(unsafe {
            XGBoosterLoadModelFromBuffer(
                booster.handle,
                bytes.as_ptr() as *const c_void,
                bytes.len() as BstUlong,
            )
        })?;
        Ok(booster)
    }

    /// Set one libxgboost parameter (`eta`, `max_depth`, `nthread`, ...).
    pub fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
        let (n, v) = (cstring(name)?, cstring(value)?);
        // SAFETY: both strings live through the call.
        check(unsafe { XGBoosterSetParam(self.handle, n.as_ptr(), v.as_ptr()) })
    }

    /// Run boosting round `iteration` on `train`.
    pub fn update(&mut self, iteration: usize, train: &DMatrix) -> Result<()> {
        // SAFETY: both handles are live.
        check(unsafe { XGBoosterUpdateOneIter(self.handle, iteration as c_int, train.handle) })
    }

    /// Evaluate the configured metrics on named matrices after round `iteration`; returns
    /// libxgboost's line, for example `[3]\tvalidation-auc:0.91`.
    pub fn eval(&mut self, iteration: usize, sets: &[(&str, &DMatrix)]) -> Result<String> {
        let names: Vec<CString> = sets
            .iter()
            .map(|(n, _)| cstring(n))
            .collect::<Result<_>>()?;
        let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
        let handles: Vec<DMatrixHandle> = sets.iter().map(|(_, d)| d.handle).collect();
        let mut out: *const c_char = ptr::null();
        // SAFETY: arrays and strings live through the call; the result is copied at once.
        check(unsafe {
            XGBoosterEvalOneIter(
                self.handle,
                iteration as c_int,
                handles.as_ptr(),
                name_ptrs.as_ptr(),
                handles.len() as BstUlong,
                &mut out,
            )
        })?;
        Ok(unsafe { CStr::from_ptr(out) }
            .to_string_lossy()
            .into_owned())
    }

    /// Predicted probabilities, one per row. `rounds` limits prediction to the first trees
    /// (`None` = all).
    pub fn predict(&self, data: &DMatrix, rounds: Option<usize>) -> Result<Vec<f32>> {
        let config = format!(
            r#"{{"type": 0, "training": false, "iteration_begin": 0, "iteration_end": {}, "strict_shape": false}}"#,
            rounds.unwrap_or(0)
        );
        self.predict_from_dmatrix(data, &config, data.nrow)
    }

    /// Exact TreeSHAP feature contributions (libxgboost's `pred_contribs`): for each row,
    /// `ncol + 1` values in margin (log-odds) space, one per feature and the bias last; a
    /// row's values add up to its margin. Row-major, `nrow * (ncol + 1)` values.
    pub fn contributions(&self, data: &DMatrix) -> Result<Vec<f32>> {
        self.predict_from_dmatrix(
            data,
            r#"{"type": 2, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false}"#,
            data.nrow * (data.ncol + 1),
        )
    }

    /// `XGBoosterPredictFromDMatrix` with a JSON `config`, expecting `expected` values.
    fn predict_from_dmatrix(
        &self,
        data: &DMatrix,
        config: &str,
        expected: usize,
    ) -> Result<Vec<f32>> {
        let config = cstring(config)?;
        let mut shape: *const BstUlong = ptr::null();
        let mut dim: BstUlong = 0;
        let mut result: *const f32 = ptr::null();
        // SAFETY: handles are live; the result buffer is valid until the next call on this
        // thread, and is copied at once.
        check(unsafe {
            XGBoosterPredictFromDMatrix(
                self.handle,
                data.handle,
                config.as_ptr(),
                &mut shape,
                &mut dim,
                &mut result,
            )
        })?;
        // SAFETY: libxgboost just filled shape/dim/result for this call on this thread.
        unsafe { copy_predictions(shape, dim, result, expected) }
    }

    /// Predicted probabilities straight from a row-major dense matrix (NaN = missing),
    /// without building a DMatrix: XGBoost's "inplace" prediction, the low-latency path
    /// for serving. Same values as [`Booster::predict`].
    pub fn predict_dense(&self, values: &[f32], nrow: usize, ncol: usize) -> Result<Vec<f32>> {
        if values.len() != nrow * ncol {
            return Err(Error::Shape(format!(
                "{} values for a {nrow} x {ncol} matrix",
                values.len()
            )));
        }
        if nrow == 0 {
            return Ok(Vec::new());
        }
        // The __array_interface__ protocol: the data's address, shape and little-endian f32.
        let array = cstring(&format!(
            r#"{{"data": [{}, true], "shape": [{nrow}, {ncol}], "typestr": "<f4", "version": 3}}"#,
            values.as_ptr() as usize
        ))?;
        let config = cstring(
            r#"{"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "cache_id": 0, "missing": NaN}"#,
        )?;
        let mut shape: *const BstUlong = ptr::null();
        let mut dim: BstUlong = 0;
        let mut result: *const f32 = ptr::null();
        // SAFETY: `values` outlives the call and holds nrow*ncol floats as described; the
        // result buffer is valid until the next call on this thread and is copied at once.
        check(unsafe {
            XGBoosterPredictFromDense(
                self.handle,
                array.as_ptr(),
                config.as_ptr(),
                ptr::null_mut(),
                &mut shape,
                &mut dim,
                &mut result,
            )
        })?;
        // SAFETY: libxgboost just filled shape/dim/result for this call on this thread.
        unsafe { copy_predictions(shape, dim, result, nrow) }
    }

    /// The model as XGBoost JSON (loads in XGBoost 1.7 and 3.x alike).
    pub fn to_json(&self) -> Result<Vec<u8>> {
        self.save_to_buffer(r#"{"format": "json"}"#)
    }

    /// The model in XGBoost's legacy binary format, as SageMaker's 1.7-1 container saves it.
    /// XGBoost 3.1 and later refuse this format; prefer [`Booster::to_json`].
    pub fn to_legacy_binary(&self) -> Result<Vec<u8>> {
        self.save_to_buffer(r#"{"format": "deprecated"}"#)
    }

    fn save_to_buffer(&self, config: &str) -> Result<Vec<u8>> {
        let config = cstring(config)?;
        let mut len: BstUlong = 0;
        let mut data: *const c_char = ptr::null();
        // SAFETY: the buffer is valid until the next call on this thread; copied at once.
        check(unsafe {
            XGBoosterSaveModelToBuffer(self.handle, config.as_ptr(), &mut len, &mut data)
        })?;
        Ok(unsafe { std::slice::from_raw_parts(data as *const u8, len as usize) }.to_vec())
    }

    /// A new booster holding only the first `rounds` boosting rounds.
    pub fn slice(&self, rounds: usize) -> Result<Booster> {
        let mut out = ptr::null_mut();
        // SAFETY: handle is live; `out` receives a new handle that we own.
        check(unsafe { XGBoosterSlice(self.handle, 0, rounds as c_int, 1, &mut out) })?;
        Ok(Booster { handle: out })
    }

    /// Number of boosting rounds in the model.
    pub fn boosted_rounds(&self) -> Result<usize> {
        let mut out: c_int = 0;
        // SAFETY: plain out-parameter.
        check(unsafe { XGBoosterBoostedRounds(self.handle, &mut out) })?;
        Ok(out as usize)
    }

    /// Number of features the model expects.
    pub fn num_features(&self) -> Result<usize> {
        let mut out: BstUlong = 0;
        // SAFETY: plain out-parameter.
        check(unsafe { XGBoosterGetNumFeature(self.handle, &mut out) })?;
        Ok(out as usize)
    }

    /// Feature importance of the given type (`gain`, `weight`, `cover`, `total_gain`,
    /// `total_cover`), as (feature index, score) for the features used by any tree.
    pub fn feature_scores(&self, importance_type: &str) -> Result<Vec<(usize, f32)>> {
        let config = cstring(&format!(r#"{{"importance_type": "{importance_type}"}}"#))?;
        let mut n_features: BstUlong = 0;
        let mut features: *const *const c_char = ptr::null();
        let mut dim: BstUlong = 0;
        let mut shape: *const BstUlong = ptr::null();
        let mut scores: *const f32 = ptr::null();
        // SAFETY: out-buffers are valid until the next call on this thread; copied at once.
        check(unsafe {
            XGBoosterFeatureScore(
                self.handle,
                config.as_ptr(),
                &mut n_features,
                &mut features,
                &mut dim,
                &mut shape,
                &mut scores,
            )
        })?;
        let mut out = Vec::with_capacity(n_features as usize);
        for i in 0..n_features as usize {
            let name = unsafe { CStr::from_ptr(*features.add(i)) }.to_string_lossy();
            // Without feature names libxgboost names them f0, f1, ...
            let index = name
                .trim_start_matches('f')
                .parse::<usize>()
                .map_err(|_| Error::XGBoost(format!("unexpected feature name {name}")))?;
            out.push((index, unsafe { *scores.add(i) }));
        }
        Ok(out)
    }
}

impl Drop for Booster {
    fn drop(&mut self) {
        // SAFETY: the handle came from XGBoosterCreate/Slice and is freed once.
        unsafe { XGBoosterFree(self.handle) };
    }
}

/// Copy a prediction result out of libxgboost's thread-local buffer, checking that it holds
/// one value per row.
///
/// # Safety
/// `shape` must point to `dim` sizes and `result` to their product of floats, as a
/// libxgboost predict call on this thread just returned them.
unsafe fn copy_predictions(
    shape: *const BstUlong,
    dim: BstUlong,
    result: *const f32,
    nrow: usize,
) -> Result<Vec<f32>> {
    let n = if dim == 0 {
        0
    } else {
        (0..dim as usize)
            .map(|i| unsafe { *shape.add(i) } as usize)
            .product()
    };
    if n != nrow {
        return Err(Error::Shape(format!(
            "xgboost returned {n} values where {nrow} were expected"
        )));
    }
    Ok(unsafe { std::slice::from_raw_parts(result, n) }.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libxgboost_messages_lose_the_stack_trace_and_source_line() {
        let raw = "[09:12:01] ../src/data/data.cc:512: Check failed: n_features > 0 (0 vs. 0) : no features\nStack trace:\n  [bt] (0) /usr/lib/x86_64-linux-gnu/libxgboost.so(+0x1f3c9) [0x7f]\n";
        assert_eq!(
            user_message(raw),
            "Check failed: n_features > 0 (0 vs. 0) : no features"
        );
        assert_eq!(user_message("Unknown metric: foo"), "Unknown metric: foo");
        // Through the FFI: an unknown objective, refused at the first round.
        let (d, _) = toy();
        let mut b = Booster::new(&[&d]).unwrap();
        let err = b
            .set_param("objective", "no:such")
            .and_then(|()| b.update(0, &d))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no:such"), "{err}");
        assert!(
            !err.contains("Stack trace") && !err.contains(".cc:"),
            "{err}"
        );
    }

    fn toy() -> (DMatrix, Vec<f32>) {
        // y = 1 when x0 > 0.5
        let n = 200;
        let mut x = Vec::with_capacity(n * 2);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let a = i as f32 / n as f32;
            let b = ((i * 7919) % n) as f32 / n as f32;
            x.push(a);
            x.push(b);
            y.push(if a > 0.5 { 1.0 } else { 0.0 });
        }
        let mut d = DMatrix::from_dense(&x, n, 2).unwrap();
        d.set_labels(&y).unwrap();
        (d, y)
    }

    #[test]
    fn links_against_xgboost_1_7() {
        let (major, minor, _) = version();
        assert_eq!((major, minor), (1, 7), "linked {}", version_string());
    }

    #[test]
    fn trains_predicts_and_round_trips_json_and_binary() {
        let (d, y) = toy();
        let mut b = Booster::new(&[&d]).unwrap();
        b.set_param("objective", "binary:logistic").unwrap();
        b.set_param("nthread", "1").unwrap();
        for i in 0..5 {
            b.update(i, &d).unwrap();
        }
        let p = b.predict(&d, None).unwrap();
        let right = p
            .iter()
            .zip(&y)
            .filter(|(p, y)| (**p >= 0.5) == (**y == 1.0))
            .count();
        assert_eq!(right, y.len());
        assert_eq!(b.boosted_rounds().unwrap(), 5);
        assert_eq!(b.num_features().unwrap(), 2);
        for bytes in [b.to_json().unwrap(), b.to_legacy_binary().unwrap()] {
            let again = Booster::from_bytes(&bytes).unwrap();
            assert_eq!(again.predict(&d, None).unwrap(), p);
        }
        let first = b.slice(2).unwrap();
        assert_eq!(first.boosted_rounds().unwrap(), 2);
        assert_eq!(
            first.predict(&d, None).unwrap(),
            b.predict(&d, Some(2)).unwrap()
        );
        let scores = b.feature_scores("gain").unwrap();
        assert_eq!(scores[0].0, 0, "only x0 separates the classes");
    }

    #[test]
    fn inplace_dense_prediction_equals_dmatrix_prediction_with_missing_values() {
        let (d, _) = toy();
        let mut b = Booster::new(&[&d]).unwrap();
        b.set_param("objective", "binary:logistic").unwrap();
        for i in 0..5 {
            b.update(i, &d).unwrap();
        }
        let x = [0.9, 0.1, f32::NAN, 0.7, 0.2, f32::NAN, 0.6, 0.4];
        let via_dmatrix = b
            .predict(&DMatrix::from_dense(&x, 4, 2).unwrap(), None)
            .unwrap();
        assert_eq!(b.predict_dense(&x, 4, 2).unwrap(), via_dmatrix);
        assert!(b.predict_dense(&x, 3, 2).is_err());
        assert!(b.predict_dense(&[], 0, 2).unwrap().is_empty());
    }

    #[test]
    fn errors_carry_xgboost_messages() {
        assert!(matches!(
            Booster::from_bytes(b"not a model"),
            Err(Error::XGBoost(_))
        ));
        let (d, _) = toy();
        let mut b = Booster::new(&[&d]).unwrap();
        let err = match b.set_param("objective", "no:such") {
            Ok(()) => b.update(0, &d),
            Err(e) => Err(e),
        };
        assert!(matches!(err, Err(Error::XGBoost(m)) if m.contains("no:such")));
        assert!(DMatrix::from_dense(&[1.0, 2.0, 3.0], 2, 2).is_err());
    }
}
