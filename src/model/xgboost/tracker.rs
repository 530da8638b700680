//! The rabit tracker of XGBoost 1.7, in Rust: the first host of a training job runs it (as
//! SageMaker's XGBoost container runs xgboost's Python `RabitTracker` there, on port 9099), and
//! every worker's `XGCommunicatorInit` asks it for a rank and for the peers to link to.
//!
//! The protocol is `xgboost/tracker.py` of XGBoost 1.7 (native-endian 32-bit integers;
//! strings as a length and bytes):
//!
//! 1. a worker connects, sends the magic `0xff99` and gets it back, then sends its rank (or
//!    -1), the world size (or -1), its task id and a command: `start`, `recover`, `print` or
//!    `shutdown`;
//! 2. once every worker has sent `start`, ranks are given in the order of the task ids (the
//!    Python tracker's `sortby="task"`), each worker told its parent in a binary tree, the
//!    world size, its tree neighbours and its ring neighbours;
//! 3. each worker says which links it already has; the tracker tells it the host, port and
//!    rank of each peer that is already listening (to connect to) and how many will connect
//!    to it, and takes the port it listens on;
//! 4. the tracker ends when every worker has sent `shutdown` (`XGCommunicatorFinalize`).
//!
//! Tested against xgboost 1.7's own tracker: the same workers train the same model through
//! either (`tests/workers.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, Result};

const MAGIC: i32 = 0xff99;
/// The longest a worker may take to answer the tracker within one exchange.
const WORKER_IO_TIMEOUT: Duration = Duration::from_secs(120);

/// A running tracker: its port, and the thread that serves the workers until each has shut
/// down.
#[derive(Debug)]
pub struct Tracker {
    port: u16,
    thread: JoinHandle<Result<()>>,
}

impl Tracker {
    /// Listen on `bind` (`0.0.0.0:9099` on a SageMaker host; port 0 picks a free one) and serve
    /// `n_workers` workers on a thread of their own.
    pub fn start(bind: SocketAddr, n_workers: usize) -> Result<Tracker> {
        let listener = TcpListener::bind(bind)
            .map_err(|e| Error::Collective(format!("the tracker cannot listen on {bind}: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Collective(format!("the tracker's address: {e}")))?
            .port();
        let thread = std::thread::Builder::new()
            .name("rabit-tracker".into())
            .spawn(move || serve(&listener, n_workers))
            .map_err(|e| Error::Collective(format!("the tracker's thread: {e}")))?;
        Ok(Tracker { port, thread })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether every worker has shut down (the thread ended).
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Wait for every worker to shut down; the tracker's error if it failed.
    pub fn join(self) -> Result<()> {
        self.thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

struct Link {
    stream: TcpStream,
    host: String,
}

impl Link {
    fn recv_int(&mut self) -> Result<i32> {
        let mut b = [0u8; 4];
        self.stream
            .read_exact(&mut b)
            .map_err(|e| self.broken("read from", e))?;
        Ok(i32::from_ne_bytes(b))
    }
    fn send_int(&mut self, v: i32) -> Result<()> {
        self.stream
            .write_all(&v.to_ne_bytes())
            .map_err(|e| self.broken("write to", e))
    }
    fn recv_str(&mut self) -> Result<String> {
        let n = self.recv_int()?;
        if !(0..=1 << 20).contains(&n) {
            return Err(Error::Collective(format!(
                "worker at {} sent a string of {n} bytes",
                self.host
            )));
        }
        let mut b = vec![0u8; n as usize];
        self.stream
            .read_exact(&mut b)
            .map_err(|e| self.broken("read from", e))?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }
    fn send_str(&mut self, s: &str) -> Result<()> {
        self.send_int(s.len() as i32)?;
        self.stream
            .write_all(s.as_bytes())
            .map_err(|e| self.broken("write to", e))
    }
    fn broken(&self, what: &str, e: std::io::Error) -> Error {
        Error::Collective(format!(
            "the tracker could not {what} the worker at {}: {e}",
            self.host
        ))
    }
}

/// A worker that has said hello.
struct Entry {
    link: Link,
    rank: i32,
    world_size: i32,
    task_id: String,
    cmd: String,
    /// Peers yet to connect to it.
    wait_accept: usize,
    port: Option<i32>,
}

fn hello(stream: TcpStream, peer: SocketAddr) -> Result<Entry> {
    stream.set_read_timeout(Some(WORKER_IO_TIMEOUT)).ok();
    stream.set_write_timeout(Some(WORKER_IO_TIMEOUT)).ok();
    let mut link = Link {
        stream,
        host: peer.ip().to_string(),
    };
    let magic = link.recv_int()?;
    if magic != MAGIC {
        return Err(Error::Collective(format!(
            "a connection from {} to the tracker is not a rabit worker (magic {magic:#x})",
            link.host
        )));
    }
    link.send_int(MAGIC)?;
    let rank = link.recv_int()?;
    let world_size = link.recv_int()?;
    let task_id = link.recv_str()?;
    let cmd = link.recv_str()?;
    Ok(Entry {
        link,
        rank,
        world_size,
        task_id,
        cmd,
        wait_accept: 0,
        port: None,
    })
}

/// The tree, parent and ring maps of `n` workers, as xgboost 1.7's `get_link_map`.
struct LinkMap {
    tree: BTreeMap<i32, Vec<i32>>,
    parent: BTreeMap<i32, i32>,
    ring: BTreeMap<i32, (i32, i32)>,
}

fn neighbours(rank: i32, n: i32) -> Vec<i32> {
    let r = rank + 1;
    let mut out = Vec::new();
    if r > 1 {
        out.push(r / 2 - 1);
    }
    if r * 2 - 1 < n {
        out.push(r * 2 - 1);
    }
    if r * 2 < n {
        out.push(r * 2);
    }
    out
}

fn share_ring(tree: &BTreeMap<i32, Vec<i32>>, parent: &BTreeMap<i32, i32>, rank: i32) -> Vec<i32> {
    let children: Vec<i32> = tree[&rank]
        .iter()
        .copied()
        .filter(|&v| v != parent[&rank])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = vec![rank];
    for (k, &v) in children.iter().enumerate() {
        let mut sub = share_ring(tree, parent, v);
        if k + 1 == children.len() {
            sub.reverse();
        }
        out.extend(sub);
    }
    out
}

fn link_map(n: i32) -> LinkMap {
    let tree: BTreeMap<i32, Vec<i32>> = (0..n).map(|r| (r, neighbours(r, n))).collect();
    let parent: BTreeMap<i32, i32> = (0..n).map(|r| (r, (r + 1) / 2 - 1)).collect();
    let order = share_ring(&tree, &parent, 0);
    let mut ring = BTreeMap::new();
    for r in 0..n as usize {
        let prev = order[(r + n as usize - 1) % n as usize];
        let next = order[(r + 1) % n as usize];
        ring.insert(order[r], (prev, next));
    }
    // Relabel so that the ring is 0, 1, 2, … in order.
    let mut relabel = BTreeMap::from([(0, 0)]);
    let mut k = 0;
    for i in 0..n - 1 {
        k = ring[&k].1;
        relabel.insert(k, i + 1);
    }
    LinkMap {
        ring: ring
            .iter()
            .map(|(k, (p, q))| (relabel[k], (relabel[p], relabel[q])))
            .collect(),
        tree: tree
            .iter()
            .map(|(k, v)| (relabel[k], v.iter().map(|x| relabel[x]).collect()))
            .collect(),
        parent: parent
            .iter()
            .map(|(k, p)| (relabel[k], if *k == 0 { -1 } else { relabel[p] }))
            .collect(),
    }
}

/// Tell `entry` its rank and links, and settle which peers it connects to; the ranks whose
/// every expected peer has now connected.
fn assign(
    entry: &mut Entry,
    rank: i32,
    waiting: &BTreeMap<i32, (String, i32, usize)>,
    map: &LinkMap,
) -> Result<Vec<i32>> {
    entry.rank = rank;
    let mut links: BTreeSet<i32> = map.tree[&rank].iter().copied().collect();
    let (prev, next) = map.ring[&rank];
    let l = &mut entry.link;
    l.send_int(rank)?;
    l.send_int(map.parent[&rank])?;
    l.send_int(map.tree.len() as i32)?;
    l.send_int(links.len() as i32)?;
    for &r in &links {
        l.send_int(r)?;
    }
    for r in [prev, next] {
        if r != -1 && r != rank {
            links.insert(r);
            l.send_int(r)?;
        } else {
            l.send_int(-1)?;
        }
    }
    loop {
        let n_good = l.recv_int()?;
        let mut good = BTreeSet::new();
        for _ in 0..n_good.max(0) {
            good.insert(l.recv_int()?);
        }
        let bad: Vec<i32> = links.difference(&good).copied().collect();
        let connect: Vec<i32> = bad
            .iter()
            .copied()
            .filter(|r| waiting.contains_key(r))
            .collect();
        l.send_int(connect.len() as i32)?;
        l.send_int((bad.len() - connect.len()) as i32)?;
        for r in &connect {
            let (host, port, _) = &waiting[r];
            l.send_str(host)?;
            l.send_int(*port)?;
            l.send_int(*r)?;
        }
        let n_err = l.recv_int()?;
        if n_err != 0 {
            continue;
        }
        entry.port = Some(l.recv_int()?);
        entry.wait_accept = bad.len() - connect.len();
        return Ok(connect);
    }
}

fn serve(listener: &TcpListener, n_workers: usize) -> Result<()> {
    let mut n = n_workers as i32;
    let mut shut_down = BTreeSet::new();
    // Ranks still expecting connections: host, port, how many.
    let mut waiting: BTreeMap<i32, (String, i32, usize)> = BTreeMap::new();
    let mut by_task: BTreeMap<String, i32> = BTreeMap::new();
    let mut pending: Vec<Entry> = Vec::new();
    let mut map: Option<LinkMap> = None;
    let mut todo: Vec<i32> = Vec::new();
    while shut_down.len() < n as usize {
        let (stream, peer) = listener
            .accept()
            .map_err(|e| Error::Collective(format!("the tracker's listening socket: {e}")))?;
        let mut entry = match hello(stream, peer) {
            Ok(e) => e,
            // A stray connection (a port check, as SageMaker's container makes before
            // rabit.init) is not a worker.
            Err(_) => continue,
        };
        match entry.cmd.as_str() {
            "print" => {
                let msg = entry.link.recv_str()?;
                println!("{}", msg.trim());
                continue;
            }
            "shutdown" => {
                shut_down.insert(entry.rank);
                continue;
            }
            "start" | "recover" => {}
            other => {
                return Err(Error::Collective(format!(
                    "worker {} sent the unknown command `{other}`",
                    entry.link.host
                )))
            }
        }
        if map.is_none() {
            if entry.world_size > 0 {
                n = entry.world_size;
            }
            map = Some(link_map(n));
            todo = (0..n).collect();
        }
        let map = map.as_ref().expect("made above");
        let mut settle = |entry: &mut Entry, rank: i32| -> Result<()> {
            for r in assign(entry, rank, &waiting, map)? {
                if let Some(w) = waiting.get_mut(&r) {
                    w.2 -= 1;
                    if w.2 == 0 {
                        waiting.remove(&r);
                    }
                }
            }
            if entry.wait_accept > 0 {
                waiting.insert(
                    rank,
                    (
                        entry.link.host.clone(),
                        entry.port.unwrap_or(0),
                        entry.wait_accept,
                    ),
                );
            }
            Ok(())
        };
        let known = if entry.rank >= 0 {
            Some(entry.rank)
        } else {
            by_task.get(&entry.task_id).copied()
        };
        match known {
            Some(rank) => {
                todo.retain(|&r| r != rank);
                settle(&mut entry, rank)?;
            }
            None => {
                pending.push(entry);
                if pending.len() == todo.len() {
                    pending.sort_by(|a, b| a.task_id.cmp(&b.task_id));
                    for mut e in std::mem::take(&mut pending) {
                        let rank = todo.remove(0);
                        if e.task_id != "NULL" {
                            by_task.insert(e.task_id.clone(), rank);
                        }
                        settle(&mut e, rank)?;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_maps_are_xgboost_1_7s() {
        // Printed by xgboost 1.7.6's RabitTracker.get_link_map(n) for n = 1, 2, 4 and 5.
        let m = link_map(1);
        assert_eq!(m.ring[&0], (0, 0));
        assert_eq!(m.parent[&0], -1);
        let m = link_map(2);
        assert_eq!(m.tree[&0], vec![1]);
        assert_eq!(m.ring[&0], (1, 1));
        let m = link_map(4);
        assert_eq!(
            m.tree,
            BTreeMap::from([(0, vec![1, 3]), (1, vec![0, 2]), (2, vec![1]), (3, vec![0])])
        );
        assert_eq!(
            m.ring,
            BTreeMap::from([(0, (3, 1)), (1, (0, 2)), (2, (1, 3)), (3, (2, 0))])
        );
        let m = link_map(5);
        assert_eq!(
            m.tree,
            BTreeMap::from([
                (0, vec![1, 4]),
                (1, vec![0, 2, 3]),
                (2, vec![1]),
                (3, vec![1]),
                (4, vec![0])
            ])
        );
        assert_eq!(
            m.parent,
            BTreeMap::from([(0, -1), (1, 0), (2, 1), (3, 1), (4, 0)])
        );
        assert_eq!(
            m.ring,
            BTreeMap::from([
                (0, (4, 1)),
                (1, (0, 2)),
                (2, (1, 3)),
                (3, (2, 4)),
                (4, (3, 0))
            ])
        );
    }
}
