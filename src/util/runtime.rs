//! The one tokio runtime of the process: SageMaker calls, uploads, the local endpoint started
//! from synchronous code, and notebook cells all run on it, so AWS connections and server
//! threads are shared from call to call (and from cell to cell).

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

use crate::error::{Error, Result};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The process runtime, built on first use with `workers` worker threads. When it already
/// exists, it is returned as it is (the first caller decides its size: the `serve` command
/// sizes it by `--workers` before anything else runs).
pub fn init(workers: usize) -> Result<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    // Tokio panics when the system refuses a worker thread (a process limit): an error
    // that names the count instead.
    let built = std::panic::catch_unwind(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .enable_all()
            .thread_name("purchase-predict")
            .build()
    });
    let rt = match built {
        Ok(r) => r.map_err(|e| Error::io("tokio runtime", e))?,
        Err(_) => {
            return Err(Error::InvalidSetting {
                name: "workers".into(),
                reason: format!(
                    "the system would not start {workers} threads (a process or thread limit); use fewer"
                ),
            })
        }
    };
    // Two threads may race to build it; the loser's runtime is dropped unused.
    Ok(RUNTIME.get_or_init(|| rt))
}

/// The process runtime, with one worker per core unless [`init`] sized it first.
pub fn get() -> &'static Runtime {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    init(cores).expect("a tokio runtime")
}

/// Run an async call (a job, a deploy, an upload) to completion from synchronous code — a
/// notebook cell, a script — on the process runtime.
///
/// Panics when called from inside a tokio runtime (use `.await` there, or
/// [`block_on_anywhere`]).
///
/// ```
/// let session = purchase_predict::cloud::session::Session::local("work");
/// let base = purchase_predict::util::runtime::block_on(async { session.base_location() });
/// assert_eq!(base.to_string(), "work");
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    get().block_on(future)
}

/// [`block_on`] from anywhere, inside a runtime's thread too: the future is driven from a
/// thread of its own. For synchronous code that async code may call (a `Drop`, a
/// [`crate::serve::predictor::Transport`]).
pub fn block_on_anywhere<F>(future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| block_on(future))
            .join()
            .expect("a thread driving the runtime panicked")
    })
}

/// Run blocking `f` on a thread of its own, outside any runtime context: for blocking code
/// (a server started or stopped synchronously) called from async code.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("worker thread panicked"))
}
