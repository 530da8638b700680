//! What a training job yields, on either backend: its [`Artifact`] (the contract at the top
//! of [`super`]) and the same model with a decision threshold of its own. Both branch on the
//! job's backend, so they live here, behind the seam.

use crate::cloud::jobs::TrainingJob;
use crate::cloud::session::{Backend, Session};
use crate::cloud::storage::Location;
use crate::error::Result;
use crate::model::artifact::{read_sagemaker_model, Artifact};
use crate::model::Model;
use crate::prep::Preprocessor;

impl TrainingJob {
    /// Fetch the job's `model.tar.gz` (downloaded under the session's `models/<job>/` when
    /// it is in S3) and load it as an [`Artifact`] that scores raw customers. A local job's
    /// archive was assembled when it was trained and loads as it is; SageMaker's built-in
    /// container writes the booster alone, which is assembled here by the same rule, with
    /// `preprocessor` (default: the job's).
    pub async fn artifact(
        &self,
        session: &Session,
        preprocessor: Option<Preprocessor>,
    ) -> Result<Artifact> {
        let path = session
            .local_copy(&self.model_data, &format!("models/{}", self.name))
            .await?;
        // Who wrote the archive: this crate (locally, or in our image on SageMaker) writes
        // it whole; SageMaker's built-in container writes the booster alone.
        let whole = match self.backend {
            Backend::Local => true,
            Backend::SageMaker => self.pipeline_image,
        };
        if whole {
            return Artifact::load(&path);
        }
        let booster = read_sagemaker_model(&path)?;
        let preprocessor = match preprocessor.or_else(|| self.preprocessor.clone()) {
            Some(p) => p,
            // Without one, the booster says how many features it takes.
            None => {
                let n = crate::model::xgboost::Booster::from_bytes(&booster)?.num_features()?;
                Preprocessor::identity(&(0..n).map(|j| format!("f{j}")).collect::<Vec<_>>())
            }
        };
        let model = Model::from_bytes(&booster, preprocessor.feature_names.clone())?;
        Ok(self.assemble(model, Some(preprocessor), 0))
    }

    /// This job's model with a decision threshold of its own: its artifact
    /// ([`TrainingJob::artifact`], with `preprocessor`) saved with `threshold` and the rule
    /// that chose it in its manifest, as a new `model.tar.gz` under the session's `models/<job>-decision/`
    /// (uploaded beside the job's model on SageMaker). Deployed, an endpoint that reads the
    /// manifest (the local one, and our own image on SageMaker) answers JSON requests with a
    /// label at that threshold beside each probability; SageMaker's built-in XGBoost image
    /// answers probabilities only.
    ///
    /// `id_column` names the table's id column in the manifest, so that the endpoint takes a
    /// JSON record with the customer's id beside its columns (and reads past it).
    pub async fn with_decision(
        &self,
        session: &Session,
        preprocessor: Option<Preprocessor>,
        threshold: crate::metrics::Threshold,
        rule: crate::model::artifact::ThresholdRecord,
        id_column: Option<&str>,
    ) -> Result<TrainingJob> {
        let mut artifact = self.artifact(session, preprocessor).await?;
        artifact.manifest.threshold = threshold;
        artifact.manifest.threshold_rule = Some(rule);
        artifact.manifest.id_column = id_column.map(str::to_string);
        let name = format!("{}-decision", self.name);
        let path = session
            .root()
            .join("models")
            .join(&name)
            .join("model.tar.gz");
        artifact.save(&path)?;
        let model_data = match self.backend {
            Backend::Local => Location::Local(path),
            Backend::SageMaker => {
                let to = session
                    .base_location()
                    .join(&format!("models/{name}/model.tar.gz"));
                session.storage().upload_file(&path, &to).await?
            }
        };
        Ok(TrainingJob {
            name,
            model_data,
            ..self.clone()
        })
    }
}
