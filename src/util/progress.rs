//! Progress of long work (training rounds now; tuning trials and uploads later).
//!
//! The library reports through the [`Progress`] trait; the terminal gets an indicatif bar,
//! a notebook or a CI log gets a status line every few seconds, tests get silence.

use std::time::{Duration, Instant};

/// Receives progress of one long task.
pub trait Progress {
    /// A task of `total` steps begins.
    fn start(&mut self, task: &str, total: u64);
    /// Step `done` of `total` is finished; `message` is a short status (e.g. a metric).
    fn update(&mut self, done: u64, message: &str);
    /// The task ended; `message` says how.
    fn finish(&mut self, message: &str);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn start(&mut self, _: &str, _: u64) {}
    fn update(&mut self, _: u64, _: &str) {}
    fn finish(&mut self, _: &str) {}
}

/// A terminal progress bar (indicatif) on stderr; hidden when stderr is not a terminal.
/// (Feature `cli`.)
#[cfg(feature = "cli")]
pub struct Bar {
    bar: Option<indicatif::ProgressBar>,
}

#[cfg(feature = "cli")]
impl Bar {
    /// A new bar, drawn at the first `start`.
    pub fn new() -> Self {
        Bar { bar: None }
    }
}

#[cfg(feature = "cli")]
impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "cli")]
impl Progress for Bar {
    fn start(&mut self, task: &str, total: u64) {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(task.to_string());
        self.bar = Some(bar);
    }
    fn update(&mut self, done: u64, message: &str) {
        if let Some(b) = &self.bar {
            b.set_position(done);
            b.set_message(message.to_string());
        }
    }
    fn finish(&mut self, message: &str) {
        if let Some(b) = self.bar.take() {
            b.finish_with_message(message.to_string());
        }
    }
}

/// A status line on stdout at most every `every` (and at the end): for notebooks and logs,
/// where a redrawn bar would print hundreds of lines.
pub struct Lines {
    every: Duration,
    task: String,
    total: u64,
    started: Instant,
    last: Option<Instant>,
}

impl Lines {
    /// Print at most one line per `every`.
    pub fn every(every: Duration) -> Self {
        Lines {
            every,
            task: String::new(),
            total: 0,
            started: Instant::now(),
            last: None,
        }
    }
}

impl Progress for Lines {
    fn start(&mut self, task: &str, total: u64) {
        self.task = task.to_string();
        self.total = total;
        self.started = Instant::now();
        self.last = None;
    }
    fn update(&mut self, done: u64, message: &str) {
        let due = self.last.is_none_or(|t| t.elapsed() >= self.every);
        if due {
            println!(
                "{}: {done}/{} {message} ({:.1} s)",
                self.task,
                self.total,
                self.started.elapsed().as_secs_f64()
            );
            self.last = Some(Instant::now());
        }
    }
    fn finish(&mut self, message: &str) {
        println!(
            "{}: done, {message} ({:.1} s)",
            self.task,
            self.started.elapsed().as_secs_f64()
        );
    }
}
