//! Shared utilities: atomic files and checksums ([`files`]), progress reporting
//! ([`progress`]), the request log's non-blocking writer ([`log`]), the one process runtime
//! ([`runtime`]), outputs that appear whole even when interrupted ([`staging`]), stage times
//! and peak memory ([`timing`]); and, for this crate only, the seeded RNG (`random`) and what
//! an interruption removes (`interrupt`).

pub mod files;
pub(crate) mod interrupt;
pub mod log;
pub mod progress;
pub(crate) mod random;
pub mod runtime;
pub mod staging;
pub mod timing;
