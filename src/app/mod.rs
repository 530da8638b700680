//! The product around the library — the whole pipeline in one call ([`pipeline`]),
//! the same for tables larger than memory ([`streaming`]), the `purchase-predict` command line (`cli`, behind the `cli` feature), what our image does
//! when SageMaker starts a training job ([`sagemaker_job`]), and the notebooks' settings and
//! hand-overs ([`walkthrough`]), their data dictionaries ([`dictionary`]) and their findings in
//! words ([`Findings`](walkthrough::Findings)).

#[cfg(feature = "cli")]
pub mod cli;
pub mod dictionary;
mod findings;
pub mod pipeline;
pub mod sagemaker_job;
pub mod streaming;
pub mod walkthrough;
pub mod workers;
