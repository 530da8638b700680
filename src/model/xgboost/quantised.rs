//! A quantised matrix (libxgboost's `QuantileDMatrix`) built from batches through
//! `XGQuantileDMatrixCreateFromCallback`, which libxgboost 1.7.4 exports: a table's rows are
//! never held as floats, only as each value's bin (one byte with `max_bin` ≤ 256).

use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use super::{
    check, cstring, BstUlong, DMatrix, DMatrixHandle, XGDMatrixFree, XGDMatrixSetFloatInfo,
};
use crate::error::{Error, Result};

#[link(name = "xgboost")]
extern "C" {
    fn XGProxyDMatrixCreate(out: *mut DMatrixHandle) -> c_int;
    fn XGProxyDMatrixSetDataDense(handle: DMatrixHandle, array_interface: *const c_char) -> c_int;
    fn XGQuantileDMatrixCreateFromCallback(
        iter: *mut c_void,
        proxy: DMatrixHandle,
        reference: *mut c_void,
        reset: extern "C" fn(*mut c_void),
        next: extern "C" fn(*mut c_void) -> c_int,
        config: *const c_char,
        out: *mut DMatrixHandle,
    ) -> c_int;
    fn XGDMatrixNumRow(handle: DMatrixHandle, out: *mut BstUlong) -> c_int;
}

/// Batches of labelled rows that [`DMatrix::quantised`] reads, as many times as libxgboost
/// asks (twice: once to sketch each feature's bins, once to fill them).
pub trait RowBatches {
    /// Columns of every batch.
    fn ncols(&self) -> usize;
    /// Start again from the first batch.
    fn reset(&mut self) -> Result<()>;
    /// The next batch's row-major values (`NaN` = missing) and one label per row, or `None`
    /// after the last. The slices stay valid until the next call.
    fn next_batch(&mut self) -> Result<Option<(&[f32], &[f32])>>;
}

/// What the callbacks of [`DMatrix::quantised`] share.
struct Feed<'a> {
    batches: &'a mut dyn RowBatches,
    proxy: DMatrixHandle,
    /// The first error of a callback: libxgboost is told the data ended, and the matrix it
    /// then returns is dropped.
    error: Option<Error>,
}

impl Feed<'_> {
    fn next(&mut self) -> Result<bool> {
        let ncols = self.batches.ncols();
        let Some((values, labels)) = self.batches.next_batch()? else {
            return Ok(false);
        };
        if labels.is_empty() || values.len() != labels.len() * ncols {
            return Err(Error::Shape(format!(
                "a batch of {} values and {} labels for {ncols} columns",
                values.len(),
                labels.len()
            )));
        }
        // NumPy's array interface (version 3) of the batch, read in place by libxgboost.
        let interface = format!(
            r#"{{"data":[{},true],"shape":[{},{ncols}],"typestr":"<f4","version":3}}"#,
            values.as_ptr() as usize,
            labels.len()
        );
        let interface = cstring(&interface)?;
        let field = cstring("label")?;
        // SAFETY: the proxy is live; `values` and `labels` stay valid until the next callback,
        // which is when libxgboost is done with this batch.
        check(unsafe { XGProxyDMatrixSetDataDense(self.proxy, interface.as_ptr()) })?;
        check(unsafe {
            XGDMatrixSetFloatInfo(
                self.proxy,
                field.as_ptr(),
                labels.as_ptr(),
                labels.len() as BstUlong,
            )
        })?;
        Ok(true)
    }
}

extern "C" fn feed_reset(handle: *mut c_void) {
    // SAFETY: `handle` is the `Feed` that `quantised` passed, alive for the whole call.
    let feed = unsafe { &mut *(handle as *mut Feed<'_>) };
    if feed.error.is_none() {
        let reset = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| feed.batches.reset()));
        match reset {
            Ok(Ok(())) => {}
            Ok(Err(e)) => feed.error = Some(e),
            Err(_) => feed.error = Some(Error::XGBoost("reading a batch panicked".into())),
        }
    }
}

extern "C" fn feed_next(handle: *mut c_void) -> c_int {
    // SAFETY: as in `feed_reset`.
    let feed = unsafe { &mut *(handle as *mut Feed<'_>) };
    if feed.error.is_some() {
        return 0;
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| feed.next())) {
        Ok(Ok(more)) => c_int::from(more),
        Ok(Err(e)) => {
            feed.error = Some(e);
            0
        }
        Err(_) => {
            feed.error = Some(Error::XGBoost("reading a batch panicked".into()));
            0
        }
    }
}

impl DMatrix {
    /// A quantised matrix (libxgboost's `QuantileDMatrix`) built from `batches` without ever
    /// holding them whole: each value becomes its bin's index (one byte with `max_bin` ≤ 256),
    /// which `tree_method=hist` trains on directly. A validation matrix takes the training
    /// matrix as `reference`, so that both share its bins.
    pub fn quantised(
        batches: &mut dyn RowBatches,
        reference: Option<&DMatrix>,
        max_bin: usize,
        nthread: usize,
    ) -> Result<Self> {
        let ncol = batches.ncols();
        batches.reset()?;
        let mut proxy = ptr::null_mut();
        // SAFETY: out-pointer for a new proxy, freed below.
        check(unsafe { XGProxyDMatrixCreate(&mut proxy) })?;
        let mut feed = Feed {
            batches,
            proxy,
            error: None,
        };
        let config = cstring(&format!(
            r#"{{"missing":NaN,"nthread":{nthread},"max_bin":{max_bin}}}"#
        ))?;
        let mut handle = ptr::null_mut();
        // SAFETY: `feed` outlives the call; the callbacks only touch it through the handle.
        let code = unsafe {
            XGQuantileDMatrixCreateFromCallback(
                &mut feed as *mut Feed<'_> as *mut c_void,
                proxy,
                reference.map_or(ptr::null_mut(), |r| r.handle),
                feed_reset,
                feed_next,
                config.as_ptr(),
                &mut handle,
            )
        };
        // SAFETY: the proxy came from XGProxyDMatrixCreate and is freed once.
        unsafe { XGDMatrixFree(proxy) };
        if let Some(e) = feed.error.take() {
            if !handle.is_null() {
                // SAFETY: a matrix built from data that ended early is not handed out.
                unsafe { XGDMatrixFree(handle) };
            }
            return Err(e);
        }
        check(code)?;
        let mut rows: BstUlong = 0;
        // SAFETY: a live matrix handle and an out-pointer.
        check(unsafe { XGDMatrixNumRow(handle, &mut rows) })?;
        Ok(DMatrix {
            handle,
            nrow: rows as usize,
            ncol,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::xgboost::Booster;

    /// A matrix fed in batches of `rows`.
    struct Slices {
        values: Vec<f32>,
        labels: Vec<f32>,
        ncols: usize,
        rows: usize,
        at: usize,
        resets: usize,
        fail_at: Option<usize>,
    }

    impl RowBatches for Slices {
        fn ncols(&self) -> usize {
            self.ncols
        }
        fn reset(&mut self) -> Result<()> {
            self.at = 0;
            self.resets += 1;
            Ok(())
        }
        fn next_batch(&mut self) -> Result<Option<(&[f32], &[f32])>> {
            let n = self.labels.len();
            if self.at >= n {
                return Ok(None);
            }
            if self.fail_at == Some(self.at) {
                return Err(Error::Shape("batch 2 is bad".into()));
            }
            let end = (self.at + self.rows).min(n);
            let r = (
                &self.values[self.at * self.ncols..end * self.ncols],
                &self.labels[self.at..end],
            );
            self.at = end;
            Ok(Some(r))
        }
    }

    fn noisy(n: usize) -> (Vec<f32>, Vec<f32>) {
        let mut rng = crate::util::random::Rng::new(5);
        let mut values = Vec::with_capacity(n * 3);
        let mut labels = Vec::with_capacity(n);
        for _ in 0..n {
            let row = [
                rng.normal() as f32,
                rng.normal() as f32,
                if rng.bernoulli(0.1) {
                    f32::NAN
                } else {
                    rng.uniform() as f32
                },
            ];
            let p = 1.0 / (1.0 + (-(2.0 * row[0] - row[1]) as f64).exp());
            labels.push(f32::from(u8::from(rng.bernoulli(p))));
            values.extend(row);
        }
        (values, labels)
    }

    #[test]
    fn a_quantised_matrix_fed_in_batches_trains_the_model_the_whole_matrix_trains() {
        // Few rows: every distinct value is its own bin either way, so the models agree.
        let (values, labels) = noisy(600);
        let mut whole = DMatrix::from_dense(&values, 600, 3).unwrap();
        whole.set_labels(&labels).unwrap();
        let mut batches = Slices {
            values: values.clone(),
            labels,
            ncols: 3,
            rows: 128,
            at: 0,
            resets: 0,
            fail_at: None,
        };
        let quantised = DMatrix::quantised(&mut batches, None, 256, 1).unwrap();
        assert_eq!((quantised.nrow(), quantised.ncol()), (600, 3));
        assert!(batches.resets >= 1);
        let mut predictions = Vec::new();
        for m in [&whole, &quantised] {
            let mut b = Booster::new(&[m]).unwrap();
            for (k, v) in [
                ("objective", "binary:logistic"),
                ("tree_method", "hist"),
                ("nthread", "1"),
                ("seed", "0"),
            ] {
                b.set_param(k, v).unwrap();
            }
            for round in 0..20 {
                b.update(round, m).unwrap();
            }
            predictions.push(b.predict_dense(&values, 600, 3).unwrap());
        }
        let worst = predictions[0]
            .iter()
            .zip(&predictions[1])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "{worst}");
        // A validation matrix shares the training matrix's bins.
        let (v, l) = noisy(300);
        let mut val = Slices {
            values: v,
            labels: l,
            ncols: 3,
            rows: 100,
            at: 0,
            resets: 0,
            fail_at: None,
        };
        assert_eq!(
            DMatrix::quantised(&mut val, Some(&quantised), 256, 1)
                .unwrap()
                .nrow(),
            300
        );
    }

    #[test]
    fn a_failing_batch_fails_the_matrix_with_its_error() {
        let (values, labels) = noisy(300);
        let mut batches = Slices {
            values,
            labels,
            ncols: 3,
            rows: 100,
            at: 0,
            resets: 0,
            fail_at: Some(100),
        };
        let err = DMatrix::quantised(&mut batches, None, 256, 1)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("batch 2 is bad"), "{err}");
    }
}
