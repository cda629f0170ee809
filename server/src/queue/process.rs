//! This process as a member of the worker pools: who it is (host, pid, a fresh id per
//! start), which job attempts it is running right now, and how many jobs it has done. The
//! heartbeat writes that to `pool_workers` and vouches for the running attempts; the share
//! of each pool's size this process may use is worked out from the live members.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// One started attempt this process is running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveAttempt {
    pub job_id: Uuid,
    pub lease: Uuid,
    pub pool: String,
}

/// The identity and live state of this process; one per process, shared by its workers.
#[derive(Debug)]
pub struct WorkerProcess {
    pub id: Uuid,
    pub host: String,
    pub pid: u32,
    pub version: &'static str,
    active: Mutex<HashMap<Uuid, ActiveAttempt>>,
    jobs_done: Mutex<HashMap<String, i64>>,
    draining: AtomicBool,
}

impl WorkerProcess {
    pub fn new() -> WorkerProcess {
        WorkerProcess {
            id: Uuid::new_v4(),
            host: hostname(),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION"),
            active: Mutex::default(),
            jobs_done: Mutex::default(),
            draining: AtomicBool::new(false),
        }
    }

    /// Records an attempt as running here until the returned guard is dropped.
    pub fn track(self: &Arc<Self>, attempt: ActiveAttempt) -> Tracked {
        let lease = attempt.lease;
        lock(&self.active).insert(lease, attempt);
        Tracked { process: self.clone(), lease }
    }

    /// The attempts running here now.
    pub fn active(&self) -> Vec<ActiveAttempt> {
        lock(&self.active).values().cloned().collect()
    }

    pub fn running_in(&self, pool: &str) -> u32 {
        lock(&self.active).values().filter(|attempt| attempt.pool == pool).count() as u32
    }

    pub fn count_done(&self, pool: &str) {
        *lock(&self.jobs_done).entry(pool.to_owned()).or_default() += 1;
    }

    pub fn jobs_done(&self, pool: &str) -> i64 {
        lock(&self.jobs_done).get(pool).copied().unwrap_or(0)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

impl Default for WorkerProcess {
    fn default() -> WorkerProcess {
        WorkerProcess::new()
    }
}

/// Removes its attempt from the process's running set when dropped, however the attempt
/// ended (finished, failed, or abandoned at shutdown).
#[derive(Debug)]
pub struct Tracked {
    process: Arc<WorkerProcess>,
    lease: Uuid,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        lock(&self.process.active).remove(&self.lease);
    }
}

/// This process's slots of a pool of `size` shared by `members` (live, non-draining process
/// ids, in any order): an even split, the remainder going to the lowest ids, so every
/// member computes the same split from the same rows. Zero for a non-member.
pub fn share_of(size: u32, members: &[Uuid], me: Uuid) -> u32 {
    let mut sorted = members.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let Some(index) = sorted.iter().position(|id| *id == me) else {
        return 0;
    };
    let count = sorted.len() as u32;
    size / count + u32::from((index as u32) < size % count)
}

pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    #[test]
    fn a_pool_is_split_evenly_with_the_remainder_to_the_lowest_ids() {
        let members = ids(3);
        let shares: Vec<u32> = members.iter().map(|me| share_of(8, &members, *me)).collect();
        assert_eq!(shares, [3, 3, 2]);
        let reversed: Vec<Uuid> = members.iter().rev().copied().collect();
        assert_eq!(share_of(8, &reversed, members[0]), 3, "order of the rows does not matter");
        assert_eq!(shares.iter().sum::<u32>(), 8);
    }

    #[test]
    fn fewer_slots_than_members_leaves_some_with_none_and_outsiders_get_nothing() {
        let members = ids(3);
        let shares: Vec<u32> = members.iter().map(|me| share_of(1, &members, *me)).collect();
        assert_eq!(shares, [1, 0, 0]);
        assert_eq!(share_of(8, &members, Uuid::from_u128(99)), 0);
        assert_eq!(share_of(0, &members, members[0]), 0);
    }

    #[test]
    fn tracked_attempts_leave_the_running_set_when_their_guard_drops() {
        let process = Arc::new(WorkerProcess::new());
        let attempt =
            ActiveAttempt { job_id: Uuid::new_v4(), lease: Uuid::new_v4(), pool: "verify".into() };
        let guard = process.track(attempt.clone());
        assert_eq!(process.active(), [attempt]);
        assert_eq!(process.running_in("verify"), 1);
        assert_eq!(process.running_in("generate"), 0);
        drop(guard);
        assert!(process.active().is_empty());
    }
}
