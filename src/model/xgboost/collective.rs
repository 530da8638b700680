//! libxgboost's collective (rabit in XGBoost 1.7): the processes of one training job joined
//! through a tracker, so that each trains on its own rows and `XGBoosterUpdateOneIter`
//! allreduces the gradient histograms, the quantile sketches and the evaluation metrics, as
//! SageMaker's XGBoost container trains on several instances.
//!
//! [`Communicator::join`] initialises it (`XGCommunicatorInit`) and finalises it when dropped
//! (`XGCommunicatorFinalize`, which tells the tracker this worker is done). Beside what
//! libxgboost reduces itself, the pipeline exchanges its own values through [`Peers`]:
//! [`Peers::all_gather`] hands every process the bytes of every other, in the order of their
//! indices. [`Alone`] is the one-process case, where gathering is the identity: a job on one
//! instance runs the same code and behaves as before.
//!
//! The collective is a process-wide singleton in libxgboost: one [`Communicator`] per process
//! at a time.

use std::ffi::{c_int, c_void, CString};

use serde::Serialize;

use super::check;
use crate::error::{Error, Result};

#[link(name = "xgboost")]
extern "C" {
    fn XGCommunicatorInit(config: *const std::ffi::c_char) -> c_int;
    fn XGCommunicatorFinalize() -> c_int;
    fn XGCommunicatorGetRank() -> c_int;
    fn XGCommunicatorGetWorldSize() -> c_int;
    fn XGCommunicatorAllreduce(
        buffer: *mut c_void,
        count: usize,
        data_type: c_int,
        op: c_int,
    ) -> c_int;
}

/// `xgboost::collective::DataType` and `Operation` of XGBoost 1.7 (`communicator.h`).
const UINT8: c_int = 1;
const UINT64: c_int = 5;
const SUM: c_int = 2;

/// The processes of a job, as the pipeline sees them: its own index among them, how many
/// there are, and an all-gather of bytes. Every process calls the same operations in the same
/// order (a collective), or they wait for each other.
pub trait Peers {
    /// This process's index, `0..count()`; index 0 writes the job's outputs.
    fn index(&self) -> usize;
    /// How many processes the job has.
    fn count(&self) -> usize;
    /// Every process's `bytes`, in the order of their indices (this one's included).
    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>>;
    /// Every process's `values`, in the order of their indices.
    fn gather_u64(&self, values: &[u64]) -> Result<Vec<Vec<u64>>> {
        Ok(self
            .all_gather(&u64s_to_bytes(values))?
            .iter()
            .map(|part| bytes_to_u64s(part))
            .collect())
    }
    /// The sum of every process's `values`, element by element (all of the same length).
    fn sum_u64(&self, values: &[u64]) -> Result<Vec<u64>> {
        let mut total = vec![0u64; values.len()];
        for part in self.gather_u64(values)? {
            if part.len() != total.len() {
                return Err(Error::Collective(format!(
                    "a sum of {} values met a process with {}",
                    total.len(),
                    part.len()
                )));
            }
            for (t, v) in total.iter_mut().zip(part) {
                *t += v;
            }
        }
        Ok(total)
    }
}

/// One process alone: a job on one instance. Gathering returns its own bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Alone;

impl Peers for Alone {
    fn index(&self) -> usize {
        0
    }
    fn count(&self) -> usize {
        1
    }
    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        Ok(vec![bytes.to_vec()])
    }
}

fn u64s_to_bytes(values: &[u64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn bytes_to_u64s(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// Where a worker finds the tracker, and who it is (the `XGCommunicatorInit` configuration of
/// the rabit communicator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunicatorConfig {
    /// Always `rabit` (the communicator Debian's libxgboost 1.7 is built with).
    pub xgboost_communicator: String,
    /// The tracker's host name or address.
    pub rabit_tracker_uri: String,
    pub rabit_tracker_port: u16,
    /// The worker's task id; a tracker sorting by task ([`super::tracker::Tracker`], or
    /// xgboost's `RabitTracker(sortby="task")`) gives ranks in the order of these ids.
    pub rabit_task_id: String,
    pub rabit_world_size: usize,
    /// Connections to the tracker tried before giving up (`DMLC_WORKER_CONNECT_RETRY`).
    #[serde(rename = "DMLC_WORKER_CONNECT_RETRY")]
    pub connect_retry: u32,
}

impl CommunicatorConfig {
    /// The configuration of worker `index` of `world_size`, with the tracker at `host:port`.
    /// The task id is the index, zero-padded so that sorting the ids sorts the indices: the
    /// rank libxgboost gives the worker is its index.
    pub fn new(host: &str, port: u16, index: usize, world_size: usize) -> Self {
        CommunicatorConfig {
            xgboost_communicator: "rabit".into(),
            rabit_tracker_uri: host.into(),
            rabit_tracker_port: port,
            rabit_task_id: task_id(index),
            rabit_world_size: world_size,
            connect_retry: 5,
        }
    }
}

/// The task id of worker `index`: zero-padded, so that the tracker's sort by task id is the
/// order of the indices.
pub fn task_id(index: usize) -> String {
    format!("{index:06}")
}

/// This process's membership of the collective, finalised when dropped.
#[derive(Debug)]
pub struct Communicator {
    rank: usize,
    world_size: usize,
}

impl Communicator {
    /// Join the collective through the tracker in `config` (blocks until every worker has
    /// joined, or libxgboost gives up connecting). The rank libxgboost gives must be the
    /// worker's index: the tracker sorts by task id.
    pub fn join(config: &CommunicatorConfig, index: usize) -> Result<Communicator> {
        let json = serde_json::to_string(config).map_err(|e| Error::json("communicator", e))?;
        let c = CString::new(json).expect("JSON has no NUL");
        // SAFETY: a NUL-terminated JSON string; libxgboost copies what it keeps.
        check(unsafe { XGCommunicatorInit(c.as_ptr()) })?;
        // SAFETY: plain getters of the initialised communicator.
        let (rank, world_size) = unsafe { (XGCommunicatorGetRank(), XGCommunicatorGetWorldSize()) };
        let comm = Communicator {
            rank: usize::try_from(rank).unwrap_or(usize::MAX),
            world_size: usize::try_from(world_size).unwrap_or(0),
        };
        if comm.rank != index || comm.world_size != config.rabit_world_size {
            return Err(Error::Collective(format!(
                "the tracker gave rank {} of {} to worker {index} of {}: a tracker must sort \
                 workers by task id",
                comm.rank, comm.world_size, config.rabit_world_size
            )));
        }
        Ok(comm)
    }

    /// Sum `buffer` element-wise over every worker, in place.
    fn allreduce_sum_u8(&self, buffer: &mut [u8]) -> Result<()> {
        if buffer.is_empty() {
            return Ok(());
        }
        // SAFETY: `buffer` is valid for its length in bytes; u8 elements.
        check(unsafe {
            XGCommunicatorAllreduce(buffer.as_mut_ptr().cast(), buffer.len(), UINT8, SUM)
        })
    }

    fn allreduce_sum_u64(&self, buffer: &mut [u64]) -> Result<()> {
        // SAFETY: `buffer` is valid for its length in u64 elements.
        check(unsafe {
            XGCommunicatorAllreduce(buffer.as_mut_ptr().cast(), buffer.len(), UINT64, SUM)
        })
    }
}

impl Peers for Communicator {
    fn index(&self) -> usize {
        self.rank
    }
    fn count(&self) -> usize {
        self.world_size
    }
    /// Two allreduces: each worker's length in its slot (a sum of vectors zero elsewhere),
    /// then each worker's bytes at its offset of one buffer.
    /// One allreduce of the values themselves.
    fn sum_u64(&self, values: &[u64]) -> Result<Vec<u64>> {
        let mut total = values.to_vec();
        self.allreduce_sum_u64(&mut total)?;
        Ok(total)
    }
    fn all_gather(&self, bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
        let mut lengths = vec![0u64; self.world_size];
        lengths[self.rank] = bytes.len() as u64;
        self.allreduce_sum_u64(&mut lengths)?;
        let total: u64 = lengths.iter().sum();
        let offset: u64 = lengths[..self.rank].iter().sum();
        let mut buffer = vec![0u8; usize::try_from(total).expect("fits in memory")];
        buffer[offset as usize..offset as usize + bytes.len()].copy_from_slice(bytes);
        self.allreduce_sum_u8(&mut buffer)?;
        let mut parts = Vec::with_capacity(self.world_size);
        let mut at = 0usize;
        for len in lengths {
            parts.push(buffer[at..at + len as usize].to_vec());
            at += len as usize;
        }
        Ok(parts)
    }
}

impl Drop for Communicator {
    fn drop(&mut self) {
        // SAFETY: finalises the communicator this value initialised.
        let code = unsafe { XGCommunicatorFinalize() };
        if code != 0 {
            eprintln!("libxgboost's collective did not finalise cleanly");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alone_gathers_and_sums_its_own_values() {
        assert_eq!(Alone.all_gather(b"abc").unwrap(), vec![b"abc".to_vec()]);
        assert_eq!(Alone.sum_u64(&[1, 2, 3]).unwrap(), vec![1, 2, 3]);
        assert_eq!(Alone.gather_u64(&[4, 5]).unwrap(), vec![vec![4, 5]]);
        assert_eq!((Alone.index(), Alone.count()), (0, 1));
    }

    #[test]
    fn task_ids_sort_as_indices() {
        let mut ids: Vec<String> = [10, 2, 1, 0].iter().map(|&i| task_id(i)).collect();
        ids.sort();
        assert_eq!(ids, vec![task_id(0), task_id(1), task_id(2), task_id(10)]);
    }
}
