//! The model as the server holds it: the artifact, plus what makes small and large requests
//! fast.

use std::path::Path;

use super::error::ApiError;
use crate::data::FeatureMatrix;
use crate::error::Result;
use crate::model::artifact::Artifact;
use crate::model::explain::{explain_with_forest, Explanations};
use crate::model::forest::Forest;
use crate::model::xgboost::DMatrix;
use crate::model::Model;

/// The artifact, plus what makes small and large requests fast:
/// - `forest`: the trees evaluated in Rust (verified against libxgboost at load), for small
///   requests, where libxgboost's ~20 µs per call would be most of the work;
/// - `single_thread`: a copy of the booster with `nthread=1`, for the parallel parts of
///   large CSV requests (one part per core) and small requests when there is no forest.
pub(super) struct Loaded {
    pub(super) artifact: Artifact,
    pub(super) single_thread: Model,
    pub(super) forest: Option<Forest>,
}

impl Loaded {
    pub(super) fn load(path: &Path) -> Result<Loaded> {
        let artifact = Artifact::load(path)?;
        let json = artifact.model.to_bytes()?;
        let mut single_thread = Model::from_bytes(&json, artifact.manifest.feature_names.clone())?;
        single_thread.set_threads(1)?;
        let forest = Forest::from_xgboost_json(&json)
            .and_then(|f| f.verify(artifact.model.booster(), 1000).map(|()| f));
        let forest = match forest {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!("small requests will use libxgboost: {e}");
                None
            }
        };
        Ok(Loaded {
            artifact,
            single_thread,
            forest,
        })
    }

    /// Score rows with the forest when there is one and the request is small.
    /// Rows that cannot be scored (a shape the model does not take) are the client's: 400.
    pub(super) fn predict(
        &self,
        x: &[f32],
        small: bool,
    ) -> std::result::Result<Vec<f32>, ApiError> {
        let n = self.artifact.manifest.feature_names.len();
        let rows = x.len() / n.max(1);
        match (&self.forest, small) {
            (Some(f), true) => f.predict(x, rows),
            (None, true) => self.single_thread.booster().predict_dense(x, rows, n),
            (_, false) => self.artifact.model.booster().predict_dense(x, rows, n),
        }
        .map_err(|e| ApiError::BadRequest(e.to_string()))
    }

    /// Explain rows by model feature: the forest (one thread for a small request, all
    /// cores otherwise), or libxgboost's contributions when there is no forest.
    pub(super) fn explain(
        &self,
        x: Vec<f32>,
        small: bool,
    ) -> std::result::Result<Explanations, ApiError> {
        let names = self.artifact.manifest.feature_names.clone();
        let n = names.len();
        let rows = x.len() / n.max(1);
        let result = match &self.forest {
            Some(f) if small => f
                .contributions(&x, rows)
                .and_then(|c| Explanations::from_contributions(names, &c)),
            Some(f) => explain_with_forest(
                f,
                &FeatureMatrix {
                    names,
                    nrows: rows,
                    values: x,
                },
            ),
            None => DMatrix::from_dense(&x, rows, n)
                .and_then(|d| self.artifact.model.booster().contributions(&d))
                .and_then(|c| Explanations::from_contributions(names, &c)),
        };
        result.map_err(|e| ApiError::Internal(e.to_string()))
    }
}
