//! Where a run's time goes: the seconds of each stage (load, split, fit, transform, write,
//! train, evaluate, save), and the process's peak memory.
//!
//! ```
//! use purchase_predict::util::timing::Stages;
//! let mut stages = Stages::start();
//! let rows = stages.time("load", || vec![1, 2, 3]);
//! stages.lap("count"); // the time since the last stage ended
//! assert_eq!(rows.len(), 3);
//! assert_eq!(stages.names(), vec!["load", "count"]);
//! assert!(stages.total_seconds() >= stages.seconds("load").unwrap());
//! ```

use std::time::Instant;

use serde::{Deserialize, Serialize};

/// One stage and its wall-clock seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub seconds: f64,
}

/// The stages of one piece of work, in the order they ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stages {
    pub stages: Vec<Stage>,
    #[serde(skip, default = "Instant::now")]
    last: Instant,
}

impl Default for Stages {
    fn default() -> Self {
        Self::start()
    }
}

impl PartialEq for Stages {
    fn eq(&self, other: &Self) -> bool {
        self.stages == other.stages
    }
}

impl Stages {
    /// No stages yet; the clock of the first [`Stages::lap`] starts now.
    pub fn start() -> Self {
        Stages {
            stages: Vec::new(),
            last: Instant::now(),
        }
    }

    /// Record `name` as the time since the last stage ended (or since the start).
    pub fn lap(&mut self, name: &str) {
        let now = Instant::now();
        self.add(name, now.duration_since(self.last).as_secs_f64());
        self.last = now;
    }

    /// Run `work` as stage `name`.
    pub fn time<T>(&mut self, name: &str, work: impl FnOnce() -> T) -> T {
        self.last = Instant::now();
        let out = work();
        self.lap(name);
        out
    }

    /// Add `seconds` to stage `name` (a new stage at the end, or more time for one that ran
    /// before), without moving the lap clock.
    pub fn add(&mut self, name: &str, seconds: f64) {
        match self.stages.iter_mut().find(|s| s.name == name) {
            Some(s) => s.seconds += seconds,
            None => self.stages.push(Stage {
                name: name.to_string(),
                seconds,
            }),
        }
    }

    /// Append another piece of work's stages (after these), restarting the lap clock.
    pub fn extend(&mut self, other: Stages) {
        for s in other.stages {
            self.add(&s.name, s.seconds);
        }
        self.last = Instant::now();
    }

    /// The seconds of stage `name`, if it ran.
    pub fn seconds(&self, name: &str) -> Option<f64> {
        self.stages
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.seconds)
    }

    /// The stage names in order.
    pub fn names(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.name.as_str()).collect()
    }

    /// The sum of every stage's seconds.
    pub fn total_seconds(&self) -> f64 {
        self.stages.iter().map(|s| s.seconds).sum()
    }

    /// One line: `load 0.81 s · split 0.05 s · … (total 4.20 s)`.
    pub fn line(&self) -> String {
        let parts: Vec<String> = self
            .stages
            .iter()
            .map(|s| format!("{} {:.2} s", s.name, s.seconds))
            .collect();
        format!(
            "{} (total {:.2} s)",
            parts.join(" · "),
            self.total_seconds()
        )
    }
}

/// Peak resident set size of this process (`VmHWM`), where the OS reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laps_follow_each_other_and_repeated_names_add_up() {
        let mut s = Stages::start();
        std::thread::sleep(std::time::Duration::from_millis(5));
        s.lap("a");
        s.time("b", || {
            std::thread::sleep(std::time::Duration::from_millis(5))
        });
        s.add("a", 1.0);
        assert_eq!(s.names(), vec!["a", "b"]);
        assert!(s.seconds("a").unwrap() >= 1.005);
        assert!(s.seconds("b").unwrap() >= 0.005);
        assert!(s.line().starts_with("a 1.0"), "{}", s.line());
        assert!(s.line().contains(" · b 0.0"), "{}", s.line());
        assert_eq!(s.seconds("c"), None);
    }
}
