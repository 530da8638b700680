//! Where work runs and data lives — a [`session::Session`] (local or SageMaker), its
//! [`storage`], jobs and endpoints as values ([`jobs`]), the SDK-shaped facade that runs them
//! ([`estimator`], [`endpoint`]), the one backend seam (`backend`: local or SageMaker), and
//! the raw SageMaker calls ([`sagemaker`], feature `sagemaker`).
//!
//! Dependencies point one way: `sagemaker` ← [`storage`] ← [`session`] ← [`jobs`] ←
//! `backend` ← [`estimator`], [`endpoint`].

pub(crate) mod backend;
pub mod endpoint;
pub mod estimator;
pub mod jobs;
pub mod sagemaker;
pub mod session;
pub mod storage;
