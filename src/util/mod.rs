//! Shared utilities: atomic files and checksums ([`files`]), progress reporting
//! ([`progress`]), the seeded RNG ([`random`]) and the one process runtime ([`runtime`]).

pub mod files;
pub mod progress;
pub mod random;
pub mod runtime;
