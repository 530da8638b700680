//! The hosts of a training job on several instances, as our image runs it: who they are
//! ([`Hosts`], from `resourceconfig.json`: sorted, the first one leads, as SageMaker's XGBoost
//! container picks its master), how they meet ([`join`]) and how a lost host fails the job
//! on every other host instead of leaving them waiting.
//!
//! The first host serves a **rendezvous** (port [`RENDEZVOUS_PORT`]) beside the rabit tracker
//! (port [`TRACKER_PORT`], [`crate::model::xgboost::tracker`]). Every host, the first
//! included, connects to it, says who it is and whether its own input is sound, and waits:
//!
//! - when every host has joined soundly, each is told `go` and the tracker's port;
//! - when one reports a fault, or one has not joined within the join timeout
//!   ([`JOIN_TIMEOUT_ENV`], [`DEFAULT_JOIN_TIMEOUT`]), every host that joined is told why and
//!   fails with that reason;
//! - a host that cannot reach the first host within the join timeout fails with the address
//!   it tried and the last error.
//!
//! After `go`, the connections stay open and both ends write a heartbeat every second. A
//! host whose process ends (its connection closes) or that falls silent for
//! [`HEARTBEAT_TIMEOUT`] is reported to every other host, and each of them runs the abort
//! action it joined with: `purchase-predict train` writes the reason to SageMaker's failure
//! file and exits, even while libxgboost waits inside an allreduce. So no host waits for a lost
//! one longer than the heartbeat timeout, and none waits to start longer than the join
//! timeout.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::model::xgboost::tracker::Tracker;

/// The port of the first host's rendezvous.
pub const RENDEZVOUS_PORT: u16 = 9100;
/// The port of the rabit tracker on the first host (SageMaker's XGBoost container's).
pub const TRACKER_PORT: u16 = 9099;
/// Where the hosts find the first host's rendezvous, as `address:port`; unset, the first
/// host's name and [`RENDEZVOUS_PORT`] (SageMaker resolves host names such as `algo-1`).
/// `run --workers` sets it to a loopback port, and the tracker then takes a free port.
pub const FIRST_HOST_ENV: &str = "PURCHASE_PREDICT_FIRST_HOST";
/// A rabit tracker already running, as `address:port` (xgboost 1.7's own Python
/// `RabitTracker`, started with `sortby="task"`, where Python can run): the first host then
/// starts none and every host joins that one.
pub const TRACKER_ENV: &str = "PURCHASE_PREDICT_TRACKER";
/// Seconds the hosts wait for each other to join (default [`DEFAULT_JOIN_TIMEOUT`]).
pub const JOIN_TIMEOUT_ENV: &str = "PURCHASE_PREDICT_JOIN_TIMEOUT";
/// How long the hosts wait for each other to start: SageMaker starts a job's instances within
/// a few minutes of each other.
pub const DEFAULT_JOIN_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a host may stay silent before the others give it up.
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(30);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
/// How long a host whose training failed waits for the rendezvous to name a lost host before
/// it reports its own error: libxgboost sees a dead peer only as a failed allreduce.
pub const LOSS_NAMING_WAIT: Duration = Duration::from_secs(3);

/// The hosts of a job, sorted; this process is one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    names: Vec<String>,
    index: usize,
}

impl Hosts {
    /// The hosts of `resourceconfig.json`, sorted (the first leads, as in SageMaker's XGBoost
    /// container); `current` must be one of them.
    pub fn new(current: &str, hosts: &[String]) -> Result<Hosts> {
        let mut names = hosts.to_vec();
        names.sort();
        names.dedup();
        if names.len() != hosts.len() {
            return Err(Error::Collective(format!(
                "the hosts {} name one host twice",
                hosts.join(", ")
            )));
        }
        let index = names.iter().position(|h| h == current).ok_or_else(|| {
            Error::Collective(format!(
                "the current host {current} is not among the hosts {}",
                hosts.join(", ")
            ))
        })?;
        Ok(Hosts { names, index })
    }

    /// This host's position in the sorted hosts (its rank in the collective).
    pub fn index(&self) -> usize {
        self.index
    }
    pub fn count(&self) -> usize {
        self.names.len()
    }
    pub fn current(&self) -> &str {
        &self.names[self.index]
    }
    /// The host that runs the tracker and writes the job's outputs.
    pub fn first(&self) -> &str {
        &self.names[0]
    }
    pub fn is_first(&self) -> bool {
        self.index == 0
    }
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Where the rendezvous is and how long to wait, read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    /// The first host's rendezvous, `host:port`.
    pub rendezvous: String,
    /// The tracker's port on the first host (0: a free one, announced at `go`).
    pub tracker_port: u16,
    /// A tracker already running elsewhere ([`TRACKER_ENV`]): `(address, port)`.
    pub external_tracker: Option<(String, u16)>,
    pub join_timeout: Duration,
    pub heartbeat_timeout: Duration,
}

impl ClusterSettings {
    /// [`FIRST_HOST_ENV`] and [`JOIN_TIMEOUT_ENV`], or SageMaker's defaults.
    pub fn from_env(hosts: &Hosts) -> Result<ClusterSettings> {
        let (rendezvous, tracker_port) = match std::env::var(FIRST_HOST_ENV) {
            Ok(addr) if !addr.is_empty() => (addr, 0),
            _ => (format!("{}:{RENDEZVOUS_PORT}", hosts.first()), TRACKER_PORT),
        };
        let join_timeout = match std::env::var(JOIN_TIMEOUT_ENV) {
            Ok(s) if !s.is_empty() => {
                Duration::from_secs(s.trim().parse::<u64>().ok().filter(|&s| s > 0).ok_or_else(
                    || Error::InvalidSetting {
                        name: JOIN_TIMEOUT_ENV.into(),
                        reason: format!("`{s}` is not a whole number of seconds above 0"),
                    },
                )?)
            }
            _ => DEFAULT_JOIN_TIMEOUT,
        };
        let external_tracker = match std::env::var(TRACKER_ENV) {
            Ok(t) if !t.is_empty() => Some(
                t.rsplit_once(':')
                    .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
                    .ok_or_else(|| Error::InvalidSetting {
                        name: TRACKER_ENV.into(),
                        reason: format!("`{t}` is not address:port"),
                    })?,
            ),
            _ => None,
        };
        Ok(ClusterSettings {
            rendezvous,
            tracker_port,
            external_tracker,
            join_timeout,
            heartbeat_timeout: HEARTBEAT_TIMEOUT,
        })
    }

    /// The first host's address without the port.
    pub fn first_address(&self) -> &str {
        self.rendezvous
            .rsplit_once(':')
            .map_or(self.rendezvous.as_str(), |(h, _)| h)
    }

    /// Where the workers find the tracker: the external one, else the first host.
    pub fn tracker_address(&self) -> &str {
        self.external_tracker
            .as_ref()
            .map_or(self.first_address(), |(h, _)| h.as_str())
    }
}

/// What a host does when the job is lost while it waits on the others: write the reason where
/// SageMaker reads it and end the process.
pub type AbortAction = Arc<dyn Fn(&str) + Send + Sync>;

/// This host's place in a job that has started: the tracker's port, and the heartbeat that
/// runs the abort action if another host is lost. [`Membership::done`] says this host
/// finished its part.
pub struct Membership {
    /// The rabit tracker's port on the first host.
    pub tracker_port: u16,
    stream: Arc<Mutex<TcpStream>>,
    done: Arc<AtomicBool>,
    /// The first host's rendezvous and tracker (kept running until the process ends).
    _server: Option<(JoinHandle<()>, Option<Tracker>)>,
}

impl std::fmt::Debug for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Membership")
            .field("tracker_port", &self.tracker_port)
            .finish_non_exhaustive()
    }
}

impl Membership {
    /// Tell the first host this host finished its part: its end of the connection may close
    /// without failing the job.
    pub fn done(&self) {
        self.done.store(true, Ordering::SeqCst);
        if let Ok(mut s) = self.stream.lock() {
            let _ = s.write_all(b"done\n");
        }
    }

    /// Tell the first host this host failed, and why: every other host fails with the
    /// reason (not only with "lost").
    pub fn fail(&self, reason: &str) {
        self.done.store(true, Ordering::SeqCst);
        if let Ok(mut s) = self.stream.lock() {
            let _ = s.write_all(format!("fail {}\n", one_line(reason)).as_bytes());
        }
    }
}

fn lost(reason: impl Into<String>) -> Error {
    Error::Collective(reason.into())
}

/// Join the job: the first host starts the rendezvous and the tracker; every host connects,
/// reports `fault` (its own input's error, `None` when sound) and waits for `go`. Returns when
/// every host has joined soundly; an error naming the host and the reason otherwise (its own
/// fault included). After it returns, `abort` runs if a host is lost before [`Membership::done`].
pub fn join(
    hosts: &Hosts,
    settings: &ClusterSettings,
    fault: Option<&str>,
    abort: AbortAction,
) -> Result<Membership> {
    let server = if hosts.is_first() {
        let port = settings
            .rendezvous
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .ok_or_else(|| Error::InvalidSetting {
                name: FIRST_HOST_ENV.into(),
                reason: format!("`{}` is not address:port", settings.rendezvous),
            })?;
        let listener = TcpListener::bind(("0.0.0.0", port))
            .map_err(|e| lost(format!("the first host cannot listen on port {port}: {e}")))?;
        let tracker = match &settings.external_tracker {
            Some(_) => None,
            None => Some(Tracker::start(
                SocketAddr::from(([0, 0, 0, 0], settings.tracker_port)),
                hosts.count(),
            )?),
        };
        let names = hosts.names().to_vec();
        let s = settings.clone();
        let tracker_port = match (&tracker, &settings.external_tracker) {
            (Some(t), _) => t.port(),
            (None, Some((_, port))) => *port,
            (None, None) => unreachable!("a tracker is started or given"),
        };
        let thread = std::thread::Builder::new()
            .name("rendezvous".into())
            .spawn(move || serve(&listener, &names, &s, tracker_port))
            .map_err(|e| lost(format!("the rendezvous thread: {e}")))?;
        Some((thread, tracker))
    } else {
        None
    };

    let deadline = Instant::now() + settings.join_timeout;
    let mut stream = connect(&settings.rendezvous, deadline, hosts.first())?;
    let hello = match fault {
        None => format!("join {}\nok\n", hosts.current()),
        Some(f) => format!("join {}\nfault {}\n", hosts.current(), one_line(f)),
    };
    stream
        .write_all(hello.as_bytes())
        .map_err(|e| lost(format!("writing to the first host {}: {e}", hosts.first())))?;
    // The answer comes once every host has joined, or the first host gives up on one.
    stream
        .set_read_timeout(Some(settings.join_timeout + Duration::from_secs(30)))
        .ok();
    let mut reader = BufReader::new(
        stream
            .try_clone()
            .map_err(|e| lost(format!("the rendezvous connection: {e}")))?,
    );
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => {
            return Err(lost(format!(
                "the first host {} closed the rendezvous before every host joined",
                hosts.first()
            )))
        }
        Err(e) => {
            return Err(lost(format!(
                "no answer from the first host {} within {} s: {e}",
                hosts.first(),
                settings.join_timeout.as_secs() + 30
            )))
        }
        Ok(_) => {}
    }
    let line = line.trim_end();
    let tracker_port = if let Some(port) = line.strip_prefix("go ") {
        port.parse::<u16>()
            .map_err(|_| lost(format!("the first host answered `{line}`")))?
    } else if let Some(reason) = line.strip_prefix("abort ") {
        return Err(lost(reason.to_string()));
    } else {
        return Err(lost(format!("the first host answered `{line}`")));
    };
    if let Some(f) = fault {
        return Err(lost(f.to_string()));
    }

    let done = Arc::new(AtomicBool::new(false));
    let stream = Arc::new(Mutex::new(stream));
    // Heartbeats out.
    {
        let stream = Arc::clone(&stream);
        let done = Arc::clone(&done);
        std::thread::Builder::new()
            .name("heartbeat".into())
            .spawn(move || loop {
                std::thread::sleep(HEARTBEAT_EVERY);
                if done.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut s) = stream.lock() else { break };
                if s.write_all(b"beat\n").is_err() {
                    break;
                }
            })
            .map_err(|e| lost(format!("the heartbeat thread: {e}")))?;
    }
    // Heartbeats and aborts in.
    {
        let done = Arc::clone(&done);
        let first = hosts.first().to_string();
        let timeout = settings.heartbeat_timeout;
        reader.get_ref().set_read_timeout(Some(timeout)).ok();
        std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                let reason = loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) => break format!("lost the first host {first}: its process ended"),
                        Err(e) => {
                            break format!(
                                "lost the first host {first}: silent for {} s ({e})",
                                timeout.as_secs()
                            )
                        }
                        Ok(_) => {}
                    }
                    if let Some(reason) = line.trim_end().strip_prefix("abort ") {
                        break reason.to_string();
                    }
                };
                if !done.load(Ordering::SeqCst) {
                    abort(&reason);
                }
            })
            .map_err(|e| lost(format!("the watchdog thread: {e}")))?;
    }
    Ok(Membership {
        tracker_port,
        stream,
        done,
        _server: server,
    })
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Connect to `addr`, retrying every half second until `deadline` (the other hosts may start
/// later, and SageMaker's host names resolve once the instances are up).
fn connect(addr: &str, deadline: Instant, first: &str) -> Result<TcpStream> {
    loop {
        let attempt = addr
            .to_socket_addrs()
            .and_then(|mut a| {
                a.next()
                    .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))
            })
            .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(5)));
        match attempt {
            Ok(s) => {
                s.set_nodelay(true).ok();
                return Ok(s);
            }
            Err(e) if Instant::now() >= deadline => {
                return Err(lost(format!(
                    "could not reach the first host {first} at {addr} within the join \
                     timeout: {e}"
                )))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// A joined host's connection on the first host.
struct Joined {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

/// The first host's rendezvous: gather every host, answer `go` or `abort`, then relay a lost
/// host to the others until every host is done.
fn serve(listener: &TcpListener, names: &[String], s: &ClusterSettings, tracker_port: u16) {
    let deadline = Instant::now() + s.join_timeout;
    listener.set_nonblocking(true).ok();
    let mut joined: BTreeMap<String, Joined> = BTreeMap::new();
    let mut faults: Vec<String> = Vec::new();
    while joined.len() < names.len() {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).ok();
                stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
                stream.set_nodelay(true).ok();
                let Ok(writer) = stream.try_clone() else {
                    continue;
                };
                let mut reader = BufReader::new(stream);
                let (mut hello, mut status) = (String::new(), String::new());
                if reader.read_line(&mut hello).is_err() || reader.read_line(&mut status).is_err() {
                    continue;
                }
                let Some(name) = hello.trim_end().strip_prefix("join ") else {
                    continue;
                };
                if !names.iter().any(|n| n == name) || joined.contains_key(name) {
                    continue;
                }
                if let Some(f) = status.trim_end().strip_prefix("fault ") {
                    faults.push(format!("{name}: {f}"));
                }
                joined.insert(name.to_string(), Joined { writer, reader });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let missing: Vec<&str> = names
        .iter()
        .filter(|n| !joined.contains_key(*n))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        faults.push(format!(
            "{} did not join within {} s (the join timeout); the job needs all {} hosts",
            missing.join(", "),
            s.join_timeout.as_secs(),
            names.len()
        ));
    }
    if !faults.is_empty() {
        let message = format!("abort {}\n", one_line(&faults.join("; ")));
        // The first host's own connection last: told, its process ends, and this thread
        // with it.
        for j in joined.values_mut().rev() {
            let _ = j.writer.write_all(message.as_bytes());
        }
        return;
    }
    let go = format!("go {tracker_port}\n");
    for j in joined.values_mut() {
        let _ = j.writer.write_all(go.as_bytes());
    }
    relay(joined, s.heartbeat_timeout);
}

/// Heartbeats to every host; the first host lost (closed or silent before `done`) is reported
/// to every other host that is not done.
fn relay(joined: BTreeMap<String, Joined>, timeout: Duration) {
    let writers: Arc<Mutex<BTreeMap<String, TcpStream>>> = Arc::new(Mutex::new(
        joined
            .iter()
            .filter_map(|(n, j)| j.writer.try_clone().ok().map(|w| (n.clone(), w)))
            .collect(),
    ));
    let (tx, rx) = std::sync::mpsc::channel::<(String, Option<String>)>();
    for (name, j) in joined {
        let tx = tx.clone();
        let mut reader = j.reader;
        reader.get_ref().set_read_timeout(Some(timeout)).ok();
        std::thread::spawn(move || {
            let outcome = loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) => break Some(format!("{name} was lost: its process ended")),
                    Err(e) => {
                        break Some(format!(
                            "{name} was lost: silent for {} s ({e})",
                            timeout.as_secs()
                        ))
                    }
                    Ok(_) if line.trim_end() == "done" => break None,
                    Ok(_) => {
                        if let Some(reason) = line.trim_end().strip_prefix("fail ") {
                            break Some(format!("{name} failed: {reason}"));
                        }
                    }
                }
            };
            let _ = tx.send((name, outcome));
        });
    }
    drop(tx);
    // Heartbeats out until every host is done.
    {
        let writers = Arc::clone(&writers);
        std::thread::spawn(move || loop {
            std::thread::sleep(HEARTBEAT_EVERY);
            let Ok(mut w) = writers.lock() else { break };
            if w.is_empty() {
                break;
            }
            w.retain(|_, s| s.write_all(b"beat\n").is_ok());
        });
    }
    for (name, outcome) in rx {
        let Ok(mut w) = writers.lock() else { break };
        w.remove(&name);
        if let Some(reason) = outcome {
            let message = format!("abort {}\n", one_line(&reason));
            for s in w.values_mut().rev() {
                let _ = s.write_all(message.as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_sorted_and_the_first_leads() {
        let h = Hosts::new("algo-2", &["algo-2".into(), "algo-1".into()]).unwrap();
        assert_eq!((h.index(), h.count(), h.first()), (1, 2, "algo-1"));
        assert!(!h.is_first());
        assert!(Hosts::new("algo-3", &["algo-1".into()]).is_err());
        assert!(Hosts::new("algo-1", &["algo-1".into(), "algo-1".into()]).is_err());
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn settings(port: u16, join_s: u64) -> ClusterSettings {
        ClusterSettings {
            rendezvous: format!("127.0.0.1:{port}"),
            tracker_port: 0,
            external_tracker: None,
            join_timeout: Duration::from_secs(join_s),
            heartbeat_timeout: Duration::from_secs(5),
        }
    }

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("algo-{i}")).collect()
    }

    /// An abort action that hands its reason to the receiver.
    fn recorded() -> (AbortAction, std::sync::mpsc::Receiver<String>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = Mutex::new(tx);
        let abort: AbortAction = Arc::new(move |r: &str| {
            let _ = tx.lock().unwrap().send(r.to_string());
        });
        (abort, rx)
    }

    #[test]
    fn a_host_that_never_joins_fails_the_others_within_the_join_timeout() {
        let s = settings(free_port(), 2);
        let hosts = Hosts::new("algo-1", &names(2)).unwrap();
        let t = Instant::now();
        let err = join(&hosts, &s, None, Arc::new(|_| {}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("algo-2 did not join within 2 s"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_host_that_cannot_reach_the_first_fails_within_the_join_timeout() {
        let s = settings(free_port(), 1);
        let hosts = Hosts::new("algo-2", &names(2)).unwrap();
        let err = join(&hosts, &s, None, Arc::new(|_| {}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("could not reach the first host algo-1"),
            "{err}"
        );
    }

    #[test]
    fn a_silent_host_aborts_the_others_after_the_heartbeat_timeout() {
        let port = free_port();
        let mut s = settings(port, 20);
        s.heartbeat_timeout = Duration::from_secs(2);
        // The second host joins by hand, then says nothing more, its connection open (a
        // host cut off by the network).
        let silent = std::thread::spawn(move || {
            let mut stream = connect(
                &format!("127.0.0.1:{port}"),
                Instant::now() + Duration::from_secs(10),
                "algo-1",
            )
            .unwrap();
            stream.write_all(b"join algo-2\nok\n").unwrap();
            let mut line = String::new();
            BufReader::new(stream.try_clone().unwrap())
                .read_line(&mut line)
                .unwrap();
            assert!(line.starts_with("go "), "{line}");
            std::thread::sleep(Duration::from_secs(8));
            drop(stream);
        });
        let (abort, rx) = recorded();
        let hosts = Hosts::new("algo-1", &names(2)).unwrap();
        let m = join(&hosts, &s, None, abort).unwrap();
        let t = Instant::now();
        let reason = rx.recv_timeout(Duration::from_secs(7)).unwrap();
        assert!(
            reason.contains("algo-2 was lost: silent for 2 s"),
            "{reason}"
        );
        assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
        drop(m);
        silent.join().unwrap();
    }

    #[test]
    fn a_fault_reaches_every_host_and_a_lost_host_aborts_the_others() {
        let port = free_port();
        // A fault on one host fails both, each naming it.
        let s = settings(port, 20);
        let s2 = s.clone();
        let other = std::thread::spawn(move || {
            let hosts = Hosts::new("algo-2", &names(2)).unwrap();
            join(
                &hosts,
                &s2,
                Some("no file in the channel"),
                Arc::new(|_| {}),
            )
            .unwrap_err()
            .to_string()
        });
        let hosts = Hosts::new("algo-1", &names(2)).unwrap();
        let err = join(&hosts, &s, None, Arc::new(|_| {}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("algo-2: no file in the channel"), "{err}");
        assert!(other.join().unwrap().contains("no file in the channel"));

        // A host that goes away after `go` aborts the other with its name.
        let s = settings(free_port(), 20);
        let s2 = s.clone();
        let other = std::thread::spawn(move || {
            let hosts = Hosts::new("algo-2", &names(2)).unwrap();
            let m = join(&hosts, &s2, None, Arc::new(|_| {})).unwrap();
            // Dropping the membership closes nothing by itself: shut the socket as a dying
            // process would.
            m.stream
                .lock()
                .unwrap()
                .shutdown(std::net::Shutdown::Both)
                .unwrap();
        });
        let (abort, rx) = recorded();
        let hosts = Hosts::new("algo-1", &names(2)).unwrap();
        let m = join(&hosts, &s, None, abort).unwrap();
        other.join().unwrap();
        let reason = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(reason.contains("algo-2 was lost"), "{reason}");
        drop(m);
    }
}
