//! A pool's slots in one process. Two halves: a tower layer in front of the apalis handler
//! that keeps the worker from fetching while every slot is busy (apalis asks the service
//! whether it is ready before it claims a task), and the slot itself, taken when a task
//! arrives. The slot is taken at arrival rather than held while waiting for work, so that a
//! pause or a smaller share applies at once: a task that arrives without a free slot is put
//! back in the queue for whichever process has room.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Slots of one pool in this process: how many may run, and how many do.
#[derive(Debug, Default)]
pub struct PoolGate {
    size: AtomicU32,
    running: AtomicU32,
    /// Workers waiting for room, woken when a slot frees or the size grows.
    waiting: Mutex<Vec<Waker>>,
}

impl PoolGate {
    pub fn new(size: u32) -> PoolGate {
        PoolGate { size: AtomicU32::new(size), ..PoolGate::default() }
    }

    pub fn size(&self) -> u32 {
        self.size.load(Ordering::SeqCst)
    }

    pub fn running(&self) -> u32 {
        self.running.load(Ordering::SeqCst)
    }

    /// Changes the number of slots. Running jobs are never interrupted: after a shrink, no
    /// new job starts until the running ones are below the new size.
    pub fn resize(&self, size: u32) {
        self.size.store(size, Ordering::SeqCst);
        self.wake_all();
    }

    /// Takes a slot if one is free.
    pub fn try_enter(self: &Arc<Self>) -> Option<Slot> {
        let mut running = self.running.load(Ordering::SeqCst);
        loop {
            if running >= self.size() {
                return None;
            }
            match self.running.compare_exchange(
                running,
                running + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Some(Slot { gate: self.clone() }),
                Err(now) => running = now,
            }
        }
    }

    /// Ready once a slot is free; otherwise the caller is woken when that may have changed.
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.has_room() {
            return Poll::Ready(());
        }
        {
            let mut waiting = self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if !waiting.iter().any(|waker| waker.will_wake(cx.waker())) {
                waiting.push(cx.waker().clone());
            }
        }
        // Room may have appeared between the check and the registration.
        if self.has_room() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    fn has_room(&self) -> bool {
        self.running() < self.size()
    }

    fn wake_all(&self) {
        let waiting = std::mem::take(
            &mut *self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for waker in waiting {
            waker.wake();
        }
    }
}

/// A taken slot, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    gate: Arc<PoolGate>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gate.running.fetch_sub(1, Ordering::SeqCst);
        self.gate.wake_all();
    }
}

/// Makes a service wait for room in `gate` before it reports ready.
#[derive(Clone, Debug)]
pub struct RoomLayer {
    gate: Arc<PoolGate>,
}

impl RoomLayer {
    pub fn new(gate: Arc<PoolGate>) -> RoomLayer {
        RoomLayer { gate }
    }
}

impl<S> tower::Layer<S> for RoomLayer {
    type Service = Room<S>;

    fn layer(&self, inner: S) -> Room<S> {
        Room { inner, gate: self.gate.clone() }
    }
}

#[derive(Clone, Debug)]
pub struct Room<S> {
    inner: S,
    gate: Arc<PoolGate>,
}

impl<S, Request> tower::Service<Request> for Room<S>
where
    S: tower::Service<Request>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        std::task::ready!(self.gate.poll_room(cx));
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> S::Future {
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_taken_up_to_the_size_and_given_back_on_drop() {
        let gate = Arc::new(PoolGate::new(2));
        let first = gate.try_enter().expect("a free slot");
        let second = gate.try_enter().expect("another free slot");
        assert!(gate.try_enter().is_none(), "both slots are busy");
        drop(first);
        assert_eq!(gate.running(), 1);
        let third = gate.try_enter().expect("a freed slot");
        drop((second, third));
        assert_eq!(gate.running(), 0);
    }

    #[test]
    fn a_shrink_applies_to_the_next_arrival_without_interrupting_running_jobs() {
        let gate = Arc::new(PoolGate::new(2));
        let running = gate.try_enter().unwrap();
        gate.resize(0);
        assert!(gate.try_enter().is_none(), "paused: nothing new starts");
        assert_eq!(gate.running(), 1, "the running job keeps its slot");
        drop(running);
        gate.resize(1);
        assert!(gate.try_enter().is_some());
    }

    #[test]
    fn a_waiting_worker_is_woken_when_room_appears() {
        let gate = Arc::new(PoolGate::new(1));
        let busy = gate.try_enter().unwrap();
        let woken = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let waker = waker_setting(woken.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(gate.poll_room(&mut cx).is_pending());
        drop(busy);
        assert!(woken.load(Ordering::SeqCst), "freeing the slot wakes the worker");
        assert!(gate.poll_room(&mut cx).is_ready());
    }

    fn waker_setting(flag: Arc<std::sync::atomic::AtomicBool>) -> Waker {
        struct Flag(Arc<std::sync::atomic::AtomicBool>);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        Waker::from(Arc::new(Flag(flag)))
    }
}
