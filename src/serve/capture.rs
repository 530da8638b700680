//! Data capture at the endpoint: each answered `/invocations` request's body and response,
//! written as SageMaker data-capture records ([`crate::codec::capture`]) in SageMaker's
//! layout, `<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm>-<ss>-<ms>-<uuid>.jsonl`.
//!
//! Off the request path: a request only decides whether it is sampled and hands its bodies
//! (reference-counted, not copied) to a bounded queue. One thread turns them into lines and
//! publishes a whole file at a time, every [`CaptureConfig::flush_interval`], at
//! [`CaptureConfig::max_file_bytes`] or when the hour changes: a file appears complete or not
//! at all (a local file is written beside and renamed; an S3 object is one PUT), so no reader
//! ever sees a partial line. When the queue is full the capture is dropped and counted, never
//! the request; a destination that fails (disk full, S3 error) is reported once per failure
//! and its records counted as failed, and the endpoint keeps serving. Shutting the server down
//! (SIGTERM included) publishes what is queued.
//!
//! The destination is a folder ([`CaptureDestination::Folder`]) or any [`CaptureSink`]: the
//! cloud layer's S3 sink (`cloud::storage::CaptureToStorage`) is one.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::codec::capture::{CaptureRecord, CapturedBody};
use crate::error::{ensure, Check, Error, Result};

/// Where captured files are published: a whole file at a time, under a relative key such as
/// `my-endpoint/AllTraffic/2026/12/07/10/04-05-123-<uuid>.jsonl`.
pub trait CaptureSink: Send + Sync {
    /// Write `bytes` as the file `key` (relative, `/`-separated), all or nothing.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    /// Check at start that files can be written (a clear error refuses the settings).
    fn probe(&self) -> Result<()> {
        Ok(())
    }
    /// Where the files go, for messages (`s3://bucket/prefix`, a folder).
    fn describe(&self) -> String;
}

/// Where a server publishes its captures.
#[derive(Clone)]
pub enum CaptureDestination {
    /// A local folder (created if missing).
    Folder(PathBuf),
    /// Any sink (S3 through the cloud layer, a test's).
    Sink(Arc<dyn CaptureSink>),
}

impl std::fmt::Debug for CaptureDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureDestination::Folder(p) => write!(f, "Folder({})", p.display()),
            CaptureDestination::Sink(s) => write!(f, "Sink({})", s.describe()),
        }
    }
}

impl PartialEq for CaptureDestination {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (CaptureDestination::Folder(a), CaptureDestination::Folder(b)) => a == b,
            (CaptureDestination::Sink(a), CaptureDestination::Sink(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// How an endpoint captures its traffic (SageMaker's `DataCaptureConfig`, locally).
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureConfig {
    /// Where the files go.
    pub destination: CaptureDestination,
    /// The share of requests captured, in percent (0 to 100; default 100).
    pub sampling_percentage: f64,
    /// The endpoint's name, the first folder under the destination (default `local-endpoint`).
    pub endpoint_name: String,
    /// The variant's name, the second folder (default `AllTraffic`, as SageMaker's one variant).
    pub variant_name: String,
    /// Captures waiting to be written (default 10,000); past it they are dropped and counted.
    pub queue_capacity: usize,
    /// How long a capture may wait before its file is published (default 5 s).
    pub flush_interval: Duration,
    /// A file is published once it holds this many bytes (default 8 MB).
    pub max_file_bytes: usize,
}

impl CaptureConfig {
    /// Capture every request into `destination`, with the defaults.
    pub fn new(destination: CaptureDestination) -> CaptureConfig {
        CaptureConfig {
            destination,
            sampling_percentage: 100.0,
            endpoint_name: "local-endpoint".into(),
            variant_name: "AllTraffic".into(),
            queue_capacity: 10_000,
            flush_interval: Duration::from_secs(5),
            max_file_bytes: 8 * 1024 * 1024,
        }
    }

    /// Capture every request into the folder `dir`.
    pub fn folder(dir: impl Into<PathBuf>) -> CaptureConfig {
        CaptureConfig::new(CaptureDestination::Folder(dir.into()))
    }

    /// The same settings with another sampling percentage.
    pub fn sampling(mut self, percentage: f64) -> CaptureConfig {
        self.sampling_percentage = percentage;
        self
    }

    /// The same settings under another endpoint name.
    pub fn endpoint_name(mut self, name: impl Into<String>) -> CaptureConfig {
        self.endpoint_name = name.into();
        self
    }

    /// The folder the capture files of this endpoint and variant go under, for a local
    /// destination (`<dir>/<endpoint>/<variant>`).
    pub fn local_root(&self) -> Option<PathBuf> {
        match &self.destination {
            CaptureDestination::Folder(dir) => {
                Some(dir.join(&self.endpoint_name).join(&self.variant_name))
            }
            CaptureDestination::Sink(_) => None,
        }
    }
}

/// SageMaker's rule for endpoint and variant names: letters, digits and single hyphens
/// inside, at most 63 characters.
fn check_name(setting: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    ensure!(
        ok,
        setting setting,
        "`{name}` is not a SageMaker name (letters, digits and inner hyphens, at most 63)"
    );
    Ok(())
}

impl Check for CaptureConfig {
    /// The percentage in 0..=100, the names SageMaker's, the bounds non-zero.
    fn check_ref(&self) -> Result<()> {
        let p = self.sampling_percentage;
        ensure!(
            p.is_finite() && (0.0..=100.0).contains(&p),
            setting "capture sampling_percentage",
            "{p} is outside 0 to 100"
        );
        check_name("capture endpoint_name", &self.endpoint_name)?;
        check_name("capture variant_name", &self.variant_name)?;
        ensure!(self.queue_capacity != 0, setting "capture queue_capacity", "must be ≥ 1");
        ensure!(self.max_file_bytes != 0, setting "capture max_file_bytes", "must be ≥ 1");
        ensure!(
            !self.flush_interval.is_zero(),
            setting "capture flush_interval",
            "must be longer than 0 s"
        );
        if let CaptureDestination::Folder(dir) = &self.destination {
            ensure!(
                !dir.as_os_str().is_empty(),
                setting "capture destination",
                "the folder is empty"
            );
        }
        Ok(())
    }
}

/// Writes capture files into a local folder, each atomically.
struct FolderSink {
    root: PathBuf,
}

impl CaptureSink for FolderSink {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        crate::util::files::write_atomically(self.root.join(key), |w| {
            w.write_all(bytes)
                .map_err(|e| Error::io(self.root.join(key), e))
        })
    }

    fn probe(&self) -> Result<()> {
        let fail = |e: std::io::Error| Error::InvalidSetting {
            name: "capture destination".into(),
            reason: format!("{} cannot be written: {e}", self.root.display()),
        };
        if self.root.exists() && !self.root.is_dir() {
            return Err(Error::InvalidSetting {
                name: "capture destination".into(),
                reason: format!("{} is not a folder", self.root.display()),
            });
        }
        std::fs::create_dir_all(&self.root).map_err(fail)?;
        let probe = self
            .root
            .join(format!(".capture-probe-{}", std::process::id()));
        std::fs::write(&probe, b"").map_err(fail)?;
        let _ = std::fs::remove_file(&probe);
        Ok(())
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// What capture has done so far (also on `GET /metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureCounts {
    /// Requests not chosen by the sampling percentage.
    pub sampled_out: u64,
    /// Captures dropped because the queue was full.
    pub dropped: u64,
    /// Captures in files that were published.
    pub written: u64,
    /// Captures in files the destination refused (disk full, S3 error).
    pub failed: u64,
    /// Files published.
    pub files: u64,
}

#[derive(Default)]
struct Counters {
    sampled_out: AtomicU64,
    dropped: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    files: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// One answered request, as the request path hands it over.
pub(super) struct Exchange {
    pub(super) input_type: String,
    pub(super) input: Bytes,
    pub(super) output_type: &'static str,
    pub(super) output: Bytes,
    pub(super) inference_id: Option<String>,
    pub(super) time: SystemTime,
}

enum Message {
    Capture(Exchange),
    /// Publish what is held and stop.
    Close,
}

/// How often the writer takes what is queued.
const POLL: Duration = Duration::from_millis(20);

/// A running capture: the queue, its writer thread and the counters.
pub(super) struct Capturer {
    queue: SyncSender<Message>,
    counters: Arc<Counters>,
    /// Sampling: a request is captured when the mixed value of the next count is below this.
    below: u64,
    every: bool,
    ticket: AtomicU64,
    closed: Arc<AtomicBool>,
    done: Arc<(Mutex<bool>, std::sync::Condvar)>,
    describe: String,
}

/// SplitMix64's finaliser: spreads consecutive counts over the whole range.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A random (version 4) UUID for a capture's event id and file name.
fn uuid_v4(state: &mut u64) -> String {
    let a = mix(*state);
    let b = mix(a ^ 0xA5A5_5A5A_1234_5678);
    *state = b;
    let hi = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let lo = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    mix(nanos ^ ((std::process::id() as u64) << 32))
}

impl Capturer {
    /// Check the destination and start the writer thread.
    pub(super) fn start(config: &CaptureConfig) -> Result<Capturer> {
        config.check_ref()?;
        let sink: Arc<dyn CaptureSink> = match &config.destination {
            CaptureDestination::Folder(dir) => Arc::new(FolderSink { root: dir.clone() }),
            CaptureDestination::Sink(s) => s.clone(),
        };
        sink.probe()?;
        let (queue, received) = sync_channel(config.queue_capacity);
        let counters = Arc::new(Counters::default());
        let closed = Arc::new(AtomicBool::new(false));
        let done = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let writer = Writer {
            sink: sink.clone(),
            prefix: format!("{}/{}", config.endpoint_name, config.variant_name),
            flush_interval: config.flush_interval,
            max_file_bytes: config.max_file_bytes,
            counters: counters.clone(),
            ids: seed(),
        };
        let finished = done.clone();
        std::thread::Builder::new()
            .name("capture-writer".into())
            .spawn(move || {
                writer.run(received);
                let (lock, cvar) = &*finished;
                *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
                cvar.notify_all();
            })
            .map_err(|e| Error::io("capture writer thread", e))?;
        let p = config.sampling_percentage / 100.0;
        Ok(Capturer {
            queue,
            counters,
            below: (p * u64::MAX as f64) as u64,
            every: p >= 1.0,
            ticket: AtomicU64::new(seed()),
            closed,
            done,
            describe: sink.describe(),
        })
    }

    /// Whether this request is captured (the sampling percentage), counted when it is not.
    pub(super) fn sample(&self) -> bool {
        if self.every {
            return true;
        }
        let chosen = mix(self.ticket.fetch_add(1, Ordering::Relaxed)) < self.below;
        if !chosen {
            self.counters.sampled_out.fetch_add(1, Ordering::Relaxed);
        }
        chosen
    }

    /// Queue a sampled exchange; a full queue drops it (counted), never waits.
    pub(super) fn offer(&self, exchange: Exchange) {
        if self.closed.load(Ordering::Relaxed) {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match self.queue.try_send(Message::Capture(exchange)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The counts so far.
    pub(super) fn counts(&self) -> CaptureCounts {
        let c = &self.counters;
        CaptureCounts {
            sampled_out: c.sampled_out.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            written: c.written.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            files: c.files.load(Ordering::Relaxed),
        }
    }

    /// Where captures go, for messages.
    pub(super) fn destination(&self) -> &str {
        &self.describe
    }

    /// Publish everything queued and stop the writer, waiting at most `limit` (at
    /// shutdown, after the requests in flight are answered).
    pub(super) fn close(&self, limit: Duration) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        let until = Instant::now() + limit;
        // The writer always empties the queue, so room for the marker comes soon.
        loop {
            match self.queue.try_send(Message::Close) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => break,
                Err(TrySendError::Full(_)) if Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                Err(TrySendError::Full(_)) => break,
            }
        }
        let (lock, cvar) = &*self.done;
        let mut finished = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !*finished {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    destination = %self.describe,
                    "captures still being written at shutdown; stopping anyway"
                );
                return;
            }
            finished = cvar
                .wait_timeout(finished, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let counts = self.counts();
        tracing::info!(
            destination = %self.describe,
            written = counts.written,
            dropped = counts.dropped,
            failed = counts.failed,
            "captures published"
        );
    }

    /// The last publishing error, if any.
    pub(super) fn last_error(&self) -> Option<String> {
        self.counters
            .last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The file being filled: its hour folder, when it was begun, its lines.
struct Pending {
    hour: (i32, u32, u32, u32),
    first: DateTime<Utc>,
    opened: Instant,
    lines: Vec<u8>,
    records: u64,
}

struct Writer {
    sink: Arc<dyn CaptureSink>,
    prefix: String,
    flush_interval: Duration,
    max_file_bytes: usize,
    counters: Arc<Counters>,
    ids: u64,
}

impl Writer {
    /// Take what is queued every [`POLL`], never blocking on the queue: a sender then never
    /// has a sleeping receiver to wake, so handing a capture over costs a request no
    /// system call.
    fn run(mut self, received: Receiver<Message>) {
        let mut pending: Option<Pending> = None;
        loop {
            loop {
                match received.try_recv() {
                    Ok(Message::Capture(x)) => self.add(x, &mut pending),
                    Err(TryRecvError::Empty) => break,
                    Ok(Message::Close) | Err(TryRecvError::Disconnected) => {
                        // What arrived before the marker was queued ahead of it.
                        self.publish(pending.take());
                        return;
                    }
                }
            }
            if pending
                .as_ref()
                .is_some_and(|p| p.opened.elapsed() >= self.flush_interval)
            {
                self.publish(pending.take());
            }
            std::thread::sleep(POLL);
        }
    }

    /// One capture into the file being filled (a file of its own when the hour changes).
    fn add(&mut self, x: Exchange, pending: &mut Option<Pending>) {
        let time: DateTime<Utc> = x.time.into();
        let hour = (time.year(), time.month(), time.day(), time.hour());
        if pending.as_ref().is_some_and(|p| p.hour != hour) {
            self.publish(pending.take());
        }
        let event_id = uuid_v4(&mut self.ids);
        let record = CaptureRecord::new(
            CapturedBody::new("INPUT", &x.input_type, &x.input),
            Some(CapturedBody::new("OUTPUT", x.output_type, &x.output)),
            event_id,
            x.inference_id,
            time,
        );
        let p = pending.get_or_insert_with(|| Pending {
            hour,
            first: time,
            opened: Instant::now(),
            lines: Vec::with_capacity(64 * 1024),
            records: 0,
        });
        p.lines.extend_from_slice(record.to_line().as_bytes());
        p.records += 1;
        if p.lines.len() >= self.max_file_bytes {
            self.publish(pending.take());
        }
    }

    fn publish(&mut self, pending: Option<Pending>) {
        let Some(p) = pending else { return };
        let t = p.first;
        let key = format!(
            "{}/{:04}/{:02}/{:02}/{:02}/{:02}-{:02}-{:03}-{}.jsonl",
            self.prefix,
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.timestamp_subsec_millis(),
            uuid_v4(&mut self.ids)
        );
        match self.sink.put(&key, &p.lines) {
            Ok(()) => {
                self.counters
                    .written
                    .fetch_add(p.records, Ordering::Relaxed);
                self.counters.files.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.counters.failed.fetch_add(p.records, Ordering::Relaxed);
                let message = format!("{} captures not written to {key}: {e}", p.records);
                tracing::warn!(destination = %self.sink.describe(), "{message}");
                *self
                    .counters
                    .last_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(i: usize, time: SystemTime) -> Exchange {
        Exchange {
            input_type: "text/csv".into(),
            input: Bytes::from(format!("{i},1\n")),
            output_type: "text/csv",
            output: Bytes::from(format!("0.{i}\n")),
            inference_id: Some(format!("id-{i}")),
            time,
        }
    }

    fn files(dir: &std::path::Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn captures_land_in_sagemakers_hourly_layout_whole_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let config = CaptureConfig::folder(dir.path()).endpoint_name("shop");
        let c = Capturer::start(&config).unwrap();
        let t0 = DateTime::parse_from_rfc3339("2026-12-07T09:59:59.900Z")
            .unwrap()
            .with_timezone(&Utc);
        for i in 0..3 {
            c.offer(exchange(i, t0.into()));
        }
        let t1 = t0 + chrono::Duration::milliseconds(200);
        c.offer(exchange(3, t1.into()));
        c.close(Duration::from_secs(5));
        let found = files(dir.path());
        assert_eq!(found.len(), 2, "{found:?}");
        let rel: Vec<String> = found
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert!(
            rel[0].starts_with("shop/AllTraffic/2026/12/07/09/59-59-900-"),
            "{rel:?}"
        );
        assert!(
            rel[1].starts_with("shop/AllTraffic/2026/12/07/10/00-00-100-"),
            "{rel:?}"
        );
        assert!(rel.iter().all(|r| r.ends_with(".jsonl")));
        let text = std::fs::read_to_string(&found[0]).unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| {
                CaptureRecord::parse_line(l)
                    .unwrap()
                    .event_metadata
                    .inference_id
                    .unwrap()
            })
            .collect();
        assert_eq!(ids, ["id-0", "id-1", "id-2"]);
        assert_eq!(c.counts().written, 4);
        assert_eq!(c.counts().files, 2);
    }

    #[test]
    fn sampling_keeps_about_its_share() {
        let dir = tempfile::tempdir().unwrap();
        let c = Capturer::start(&CaptureConfig::folder(dir.path()).sampling(20.0)).unwrap();
        let kept = (0..10_000).filter(|_| c.sample()).count();
        assert!((1_700..2_300).contains(&kept), "{kept} of 10,000 at 20 %");
        assert_eq!(c.counts().sampled_out as usize, 10_000 - kept);
        let none = Capturer::start(&CaptureConfig::folder(dir.path()).sampling(0.0)).unwrap();
        assert!((0..1000).all(|_| !none.sample()));
    }

    /// A sink that blocks until told to go on, then fails or succeeds.
    struct Stuck {
        go: Mutex<Receiver<bool>>,
        put: AtomicU64,
    }

    impl CaptureSink for Stuck {
        fn put(&self, _: &str, _: &[u8]) -> Result<()> {
            self.put.fetch_add(1, Ordering::SeqCst);
            let ok = self.go.lock().unwrap().recv().unwrap_or(false);
            if ok {
                Ok(())
            } else {
                Err(Error::Storage {
                    location: "s3://bucket/captures".into(),
                    message: "SlowDown".into(),
                })
            }
        }
        fn describe(&self) -> String {
            "stuck".into()
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_a_failing_sink_is_counted() {
        let (go, wait) = std::sync::mpsc::channel();
        let sink = Arc::new(Stuck {
            go: Mutex::new(wait),
            put: AtomicU64::new(0),
        });
        let mut config = CaptureConfig::new(CaptureDestination::Sink(sink.clone()));
        config.queue_capacity = 4;
        config.max_file_bytes = 1; // every capture is a file of its own
        let c = Capturer::start(&config).unwrap();
        let started = Instant::now();
        for i in 0..100 {
            c.offer(exchange(i, SystemTime::now()));
        }
        assert!(started.elapsed() < Duration::from_secs(1), "never waits");
        let dropped = c.counts().dropped;
        assert!(dropped >= 100 - 6, "{dropped} dropped");
        // The first file fails, the rest are written.
        go.send(false).unwrap();
        for _ in 0..10 {
            let _ = go.send(true);
        }
        c.close(Duration::from_secs(5));
        let n = c.counts();
        assert_eq!(n.failed, 1);
        assert_eq!(n.written + n.failed + n.dropped, 100);
        assert!(c.last_error().unwrap().contains("SlowDown"));
    }

    #[test]
    fn bad_settings_are_refused_with_the_setting_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let err = Capturer::start(&CaptureConfig::folder(&file))
            .err()
            .unwrap();
        assert!(err.to_string().contains("not a folder"), "{err}");
        for (config, word) in [
            (
                CaptureConfig::folder(dir.path()).sampling(101.0),
                "0 to 100",
            ),
            (
                CaptureConfig::folder(dir.path()).endpoint_name("no spaces"),
                "endpoint_name",
            ),
        ] {
            let err = Capturer::start(&config).err().unwrap();
            assert!(err.to_string().contains(word), "{err}");
        }
    }

    #[test]
    fn ids_are_version_4_uuids_and_differ() {
        let mut s = 7;
        let a = uuid_v4(&mut s);
        let b = uuid_v4(&mut s);
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]), "{a}");
    }
}
