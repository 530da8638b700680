//! Stage 7: the product around the library — the whole pipeline in one call ([`pipeline`]),
//! the `purchase-predict` command line ([`cli`]), SageMaker's container contract for our
//! own image ([`container`]), and the notebooks' settings and hand-overs
//! ([`walkthrough`]) and their findings in words ([`findings`]).

#[cfg(feature = "cli")]
pub mod cli;
pub mod container;
pub mod findings;
pub mod pipeline;
pub mod walkthrough;
