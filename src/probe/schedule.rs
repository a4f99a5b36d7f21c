//! Scheduling: many probes at once, at most `concurrency` in flight, results handed back in
//! input order or as they finish; a probe task that dies becomes an `internal-error` result.
//!
//! Results put back in input order wait for those before them, so one slow endpoint would
//! hold back every result after it. No probe starts more than a window's width
//! ([`REORDER_WINDOW`], or `concurrency` when larger) past the first unfinished one: the
//! results waiting are bounded by that width whatever the count of endpoints, and a probe
//! that takes its full timeout delays the start of those a width after it, never their
//! results' order.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::context::Context;
use super::result::ProbeResult;
use super::run_route;
use crate::endpoint::Endpoint;
use crate::proxy::Route;
use crate::verdict::Verdict;

/// How many jobs, from the first unfinished one on, may have started when results are put
/// back in input order (`concurrency` when larger): at most this many results wait for one
/// before them. A result of a sweep takes a few KiB, so the wait costs tens of MiB at most;
/// and at the default `-j`, 32 times the probes in flight keep running past a slow one.
pub const REORDER_WINDOW: usize = 4096;

/// Probes every endpoint, each on the route its configuration gives, and hands each result
/// to `emit` in input order as soon as it and all before it are done. A slow endpoint delays
/// the printing of those after it, and the start of those a window after it.
pub async fn run_all<F>(ctx: Arc<Context>, endpoints: Vec<Endpoint>, concurrency: usize, emit: F)
where
    F: FnMut(usize, ProbeResult),
{
    let routing = Arc::clone(&ctx);
    let jobs = endpoints.into_iter().map(move |e| {
        let route = routing.proxies().route_for(&e.host);
        (e, route)
    });
    run_jobs(ctx, jobs, concurrency, Order::Input, emit).await
}

/// The order in which results reach the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// the order of the endpoints (text and JSON reports)
    Input,
    /// as each probe finishes (NDJSON: nothing is held back)
    Completion,
    /// as each probe finishes, to a caller that puts them back in input order as well
    /// (NDJSON beside a text report): probes keep to the window, as with `Input`
    CompletionAndInput,
}

/// As `run_all`, with the route of each probe given (`--compare-direct` gives each endpoint
/// twice, direct and through the proxy) and the order of delivery chosen. Jobs are taken
/// from `jobs` only as slots free up, so at most `concurrency` probes exist at a time, and
/// the list is never copied, whatever the count; with `Order::Input`, results that finish
/// early wait for those before them, at most a window's width of them.
pub async fn run_jobs<F>(
    ctx: Arc<Context>,
    jobs: impl IntoIterator<Item = (Endpoint, Route)>,
    concurrency: usize,
    order: Order,
    emit: F,
) where
    F: FnMut(usize, ProbeResult),
{
    let width = REORDER_WINDOW.max(concurrency);
    run_within(ctx, jobs, concurrency, order, width, emit).await
}

/// As `run_jobs`, with the window `width` jobs wide.
async fn run_within<F>(
    ctx: Arc<Context>,
    jobs: impl IntoIterator<Item = (Endpoint, Route)>,
    concurrency: usize,
    order: Order,
    width: usize,
    mut emit: F,
) where
    F: FnMut(usize, ProbeResult),
{
    let concurrency = concurrency.max(1);
    let mut queue = jobs.into_iter().enumerate();
    let mut tasks = JoinSet::new();
    // the endpoint of each task in flight, to report a task that died
    let mut in_flight: HashMap<tokio::task::Id, (usize, Endpoint)> = HashMap::new();
    let mut window = (order != Order::Completion).then(|| Window::new(width));
    let mut deliver = |window: &mut Option<Window>, index: usize, result: ProbeResult| {
        let Some(window) = window else {
            return emit(index, result);
        };
        if order == Order::Input {
            window.finish(index, Some(Box::new(result)));
        } else {
            emit(index, result);
            window.finish(index, None);
        }
        while let Some((index, held)) = window.pop() {
            if let Some(result) = held {
                emit(index, *result);
            }
        }
    };
    loop {
        while tasks.len() < concurrency && window.as_ref().is_none_or(Window::has_room) {
            let Some((index, (endpoint, route))) = queue.next() else {
                break;
            };
            if let Some(window) = &mut window {
                window.start();
            }
            let ctx = Arc::clone(&ctx);
            let kept = endpoint.clone();
            let handle = tasks.spawn(async move {
                let result = run_route(&ctx, &endpoint, route).await;
                if let Some(p) = &ctx.progress {
                    p.done(result.verdict == Verdict::Ok);
                }
                (index, result)
            });
            in_flight.insert(handle.id(), (index, kept));
        }
        match tasks.join_next_with_id().await {
            None => break,
            Some(Ok((id, (index, result)))) => {
                in_flight.remove(&id);
                deliver(&mut window, index, result);
            }
            Some(Err(e)) => {
                if let Some((index, endpoint)) = in_flight.remove(&e.id()) {
                    let result = ProbeResult::internal_error(&endpoint, &e.to_string());
                    deliver(&mut window, index, result);
                }
            }
        }
    }
}

/// The jobs started from the first unfinished one on, in input order: which have finished,
/// and (when results go out in input order) the results that wait for one before them.
struct Window {
    /// the index of the job in the first slot
    first: usize,
    /// one slot per job started from `first` on
    slots: VecDeque<Slot>,
    /// the most slots there may be
    width: usize,
}

/// One started job of the window.
enum Slot {
    Running,
    /// finished; its result when it waits here to go out in input order (boxed: a slot that
    /// holds none stays small)
    Finished(Option<Box<ProbeResult>>),
}

impl Window {
    fn new(width: usize) -> Window {
        Window {
            first: 0,
            slots: VecDeque::new(),
            width: width.max(1),
        }
    }

    /// True when one more job may start.
    fn has_room(&self) -> bool {
        self.slots.len() < self.width
    }

    /// The next job (the index after the last started) has started.
    fn start(&mut self) {
        self.slots.push_back(Slot::Running);
    }

    /// The job at `index` has finished, with its result to hold when it must wait.
    fn finish(&mut self, index: usize, held: Option<Box<ProbeResult>>) {
        if let Some(slot) = index
            .checked_sub(self.first)
            .and_then(|i| self.slots.get_mut(i))
        {
            *slot = Slot::Finished(held);
        }
    }

    /// The first job, when it has finished: its index and the result it held, and the
    /// window moves past it.
    fn pop(&mut self) -> Option<(usize, Option<Box<ProbeResult>>)> {
        if !matches!(self.slots.front(), Some(Slot::Finished(_))) {
            return None;
        }
        let index = self.first;
        self.first += 1;
        match self.slots.pop_front() {
            Some(Slot::Finished(held)) => Some((index, held)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::chain::trust::{AnchorSet, Store};
    use crate::evidence::Interceptors;
    use crate::lab::{Behaviour, Ca, KeyKind, LeafSpec, Server};
    use crate::net::resolve::Resolver;
    use crate::probe::Settings;

    #[test]
    fn the_window_gives_results_back_in_order_and_never_grows_past_its_width() {
        let mut window = Window::new(3);
        for _ in 0..3 {
            assert!(window.has_room());
            window.start();
        }
        assert!(!window.has_room());
        window.finish(2, None);
        window.finish(1, None);
        assert!(window.pop().is_none(), "the first job still runs");
        assert!(!window.has_room());
        window.finish(0, None);
        let popped: Vec<usize> = std::iter::from_fn(|| window.pop())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(popped, [0, 1, 2]);
        assert!(window.has_room());
        window.start();
        window.finish(3, None);
        assert_eq!(window.pop().map(|(i, _)| i), Some(3));
    }

    /// A slow endpoint first, then `fast` quick ones; each result's index as it reached
    /// `emit`, with `width`.
    async fn run_behind_a_slow_endpoint(order: Order, fast: usize, width: usize) -> Vec<usize> {
        let root = Ca::root("Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let leaf = root
            .leaf(&LeafSpec::new(["slow.test", "fast.test"]))
            .unwrap();
        let start = |behaviour| Server::start(leaf.chain(), leaf.key.clone_key(), behaviour);
        let slow = start(Behaviour::DelayedHttp {
            status: 200,
            body: "OK".into(),
            delay: Duration::from_millis(1500),
        })
        .await
        .unwrap();
        let quick = start(Behaviour::Http {
            status: 200,
            body: "OK".into(),
        })
        .await
        .unwrap();
        let resolver = Resolver::fixed_addrs([
            (("slow.test".to_string(), 443), vec![slow.addr()]),
            (("fast.test".to_string(), 443), vec![quick.addr()]),
        ]);
        let ctx = Context::new(
            Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
            AnchorSet::from_certificates(Store::Public, &[root.der().clone()], "test root"),
            AnchorSet::from_certificates(Store::Os, &[], "test"),
            Vec::new(),
            Interceptors::bundled().unwrap(),
            resolver,
            Settings::default(),
        )
        .unwrap();
        let urls = std::iter::once("https://slow.test/".to_string())
            .chain((0..fast).map(|i| format!("https://fast.test/{i}")));
        let jobs = urls.map(|u| (Endpoint::parse(&u).unwrap(), Route::direct(None)));
        let mut seen = Vec::new();
        run_within(Arc::new(ctx), jobs, 4, order, width, |index, result| {
            assert_eq!(result.verdict, Verdict::Ok, "{index}");
            seen.push(index);
        })
        .await;
        seen
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_slow_first_endpoint_holds_back_at_most_a_window_of_results() {
        // as they finish, to a caller that keeps input order too: however fast the others,
        // no more than the width minus the slow one finish before it
        let seen = run_behind_a_slow_endpoint(Order::CompletionAndInput, 30, 8).await;
        assert_eq!(seen.len(), 31);
        let before = seen.iter().position(|i| *i == 0).unwrap();
        assert!(
            before <= 7,
            "{before} results finished before the first: {seen:?}"
        );
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..31).collect::<Vec<_>>());
        // in input order: every result, in order
        let seen = run_behind_a_slow_endpoint(Order::Input, 30, 8).await;
        assert_eq!(seen, (0..31).collect::<Vec<_>>());
    }
}
