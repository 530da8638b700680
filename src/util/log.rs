//! The request log's writer, off the request path.
//!
//! `purchase-predict serve` logs every request. Written straight to stderr, each line cost
//! a locked `write` on the request's thread, halving the endpoint's throughput, and a stderr
//! nobody read (a full pipe) stopped the server after a few hundred requests, `/ping`
//! included. [`NonBlocking`] hands each finished line to a bounded queue that one thread
//! writes out; when the queue is full the line is dropped and counted
//! ([`dropped_lines`], reported by `GET /metrics`), never waited for.
//!
//! ```no_run
//! let writer = purchase_predict::util::log::NonBlocking::new(std::io::stderr(), 8192);
//! tracing_subscriber::fmt().with_writer(writer.clone()).init();
//! // ... serve ...
//! writer.flush_for(std::time::Duration::from_secs(1));
//! ```

use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Lines dropped because the queue was full, over the whole process.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Log lines dropped so far because the writer could not keep up (or its output blocked).
pub fn dropped_lines() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// A `tracing_subscriber` writer whose lines go through a bounded queue to a thread of
/// their own. Cloning it shares the queue.
#[derive(Clone)]
pub struct NonBlocking {
    queue: SyncSender<Vec<u8>>,
    /// Lines queued and not yet written.
    pending: Arc<AtomicUsize>,
}

impl NonBlocking {
    /// Start the writing thread for `out`, with room for `capacity` lines in the queue.
    pub fn new(out: impl Write + Send + 'static, capacity: usize) -> NonBlocking {
        let (queue, lines) = sync_channel::<Vec<u8>>(capacity.max(1));
        let pending = Arc::new(AtomicUsize::new(0));
        let written = pending.clone();
        let spawned = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || {
                let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
                while let Ok(line) = lines.recv() {
                    let _ = out.write_all(&line);
                    written.fetch_sub(1, Ordering::SeqCst);
                    // Batch what is queued; flush once the queue is empty.
                    while let Ok(line) = lines.try_recv() {
                        let _ = out.write_all(&line);
                        written.fetch_sub(1, Ordering::SeqCst);
                    }
                    let _ = out.flush();
                }
            });
        if spawned.is_err() {
            // No thread for it: every line is dropped (and counted) rather than blocking.
            eprintln!("warning: no thread for the request log; log lines will be dropped");
        }
        NonBlocking { queue, pending }
    }

    /// Wait until every queued line is written, at most `limit` (at shutdown).
    pub fn flush_for(&self, limit: Duration) {
        let until = Instant::now() + limit;
        while self.pending.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn send(&self, line: Vec<u8>) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.queue.try_send(line)
        {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One event's text, queued whole when the event is written.
pub struct LineWriter {
    line: Vec<u8>,
    to: NonBlocking,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            self.to.send(std::mem::take(&mut self.line));
        }
    }
}

#[cfg(feature = "cli")]
impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for NonBlocking {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            line: Vec::with_capacity(160),
            to: self.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that blocks until told to go on, as a pipe nobody reads does.
    struct Blocked(
        std::sync::mpsc::Receiver<()>,
        Arc<std::sync::Mutex<Vec<u8>>>,
    );

    impl Write for Blocked {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            self.1.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_blocked_output_drops_and_counts_lines_instead_of_blocking() {
        let (go, wait) = std::sync::mpsc::channel();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let w = NonBlocking::new(Blocked(wait, seen.clone()), 4);
        let before = dropped_lines();
        let started = Instant::now();
        for i in 0..100 {
            use tracing_subscriber::fmt::MakeWriter;
            let mut line = w.make_writer();
            writeln!(line, "line {i}").unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(1), "never waits");
        let dropped = dropped_lines() - before;
        // At most the queue and the line in the writer's hands got through.
        assert!(dropped >= 100 - 6, "{dropped} dropped");
        // Unblocked, what was queued is written, whole lines in order.
        for _ in 0..200 {
            let _ = go.send(());
        }
        w.flush_for(Duration::from_secs(5));
        let text = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
        assert!(text.starts_with("line 0\n"), "{text}");
        assert_eq!(text.lines().count() as u64, 100 - dropped);
    }
}
