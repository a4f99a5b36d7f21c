//! The threads PAC evaluations run on: at most one per core, each with its own [`Engine`] (a
//! QuickJS runtime with the file loaded once), started when calls queue up and ended with the
//! last clone of the [`super::Pac`].
//!
//! Callers, on any thread, queue their work and wait for its result. Only as many evaluations
//! as there are cores run at once, so each one's time limit counts its own running time, not the
//! time spent waiting for a core, and the memory of all the runtimes together stays within that
//! many times the limit of one.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};

use super::engine::Engine;
use super::{Inner, PacErrorKind};

/// Stack of each thread: room for the JavaScript stack ([`super::engine`] caps it at 512 KiB)
/// and the native frames around it.
const STACK: usize = 2 << 20;

/// Work for an engine; what it returns hands the result to the caller, once the thread is
/// counted free again (so that a caller's next call finds it free).
type Job = Box<dyn FnOnce(&mut Engine) -> Box<dyn FnOnce() + Send> + Send>;

/// The threads of one PAC file; dropping it ends them once they are idle.
pub(super) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    inner: Arc<Inner>,
    /// most threads
    max: usize,
    queue: Mutex<Queue>,
    /// a job was queued, or the pool closed
    wake: Condvar,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// threads running
    threads: usize,
    /// threads running a job
    busy: usize,
    /// the pool was dropped: threads end when the queue is empty
    closed: bool,
}

impl Pool {
    /// A pool for the file of `inner`, as many threads at most as the machine has cores; no
    /// thread starts before the first job.
    pub(super) fn new(inner: Arc<Inner>) -> Pool {
        let max = std::thread::available_parallelism().map_or(2, |n| n.get());
        Pool {
            shared: Arc::new(Shared {
                inner,
                max,
                queue: Mutex::new(Queue::default()),
                wake: Condvar::new(),
            }),
        }
    }

    /// Runs `work` on a thread of the pool, with its engine, and waits for the result; a thread
    /// is started when every running one is busy and there are fewer than the most.
    pub(super) fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Engine) -> R + Send + 'static,
    ) -> Result<R, PacErrorKind> {
        let (reply, result) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |engine| {
            let value = work(engine);
            Box::new(move || {
                // the caller waits until it has the result
                let _ = reply.send(value);
            })
        });
        {
            let mut queue = self.shared.lock();
            queue.jobs.push_back(job);
            let free = queue.threads - queue.busy;
            if queue.jobs.len() > free && queue.threads < self.shared.max {
                let shared = self.shared.clone();
                let started = std::thread::Builder::new()
                    .name("pac-eval".into())
                    .stack_size(STACK)
                    .spawn(move || serve(shared));
                match started {
                    Ok(_) => queue.threads += 1,
                    Err(e) if queue.threads == 0 => {
                        queue.jobs.pop_back();
                        return Err(PacErrorKind::Engine(format!(
                            "cannot start a thread for the evaluation: {e}"
                        )));
                    }
                    // the running threads will take it
                    Err(_) => {}
                }
            }
            self.shared.wake.notify_one();
        }
        result.recv().map_err(|_| {
            PacErrorKind::Engine("the evaluation stopped without an answer (a bug)".into())
        })
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // the queue is consistent between statements: a panic cannot leave it half-changed
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One thread of the pool: takes jobs until the pool is dropped.
fn serve(shared: Arc<Shared>) {
    let mut engine = Engine::new(shared.inner.clone());
    loop {
        let job = {
            let mut queue = shared.lock();
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    queue.busy += 1;
                    break job;
                }
                if queue.closed {
                    queue.threads -= 1;
                    return;
                }
                queue = shared.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
        };
        // A panic is a bug; it must not take the thread, and with it the callers waiting in
        // the queue. Its caller gets an error (the reply is dropped), and the engine, which may
        // be in any state, is replaced.
        let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut engine)));
        shared.lock().busy -= 1;
        match outcome {
            Ok(deliver) => deliver(),
            Err(_) => engine = Engine::new(shared.inner.clone()),
        }
    }
}
