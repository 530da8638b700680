//! Shared utilities: atomic files and checksums ([`files`]), progress reporting
//! ([`progress`]), the request log's non-blocking writer ([`log`]), the seeded RNG ([`random`]), the one process runtime ([`runtime`]), outputs that
//! appear whole even when interrupted ([`staging`]; what an interruption removes: `interrupt`), and stage times and peak memory ([`timing`]).

pub mod files;
pub(crate) mod interrupt;
pub mod log;
pub mod progress;
pub mod random;
pub mod runtime;
pub mod staging;
pub mod timing;
