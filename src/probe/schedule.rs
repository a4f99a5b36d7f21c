//! Scheduling: many probes at once, at most `concurrency` in flight, results handed back in
//! input order or as they finish; a probe task that dies becomes an `internal-error` result.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::context::Context;
use super::result::ProbeResult;
use super::run_route;
use crate::endpoint::Endpoint;
use crate::proxy::Route;
use crate::verdict::Verdict;

/// to `emit` in input order as soon as it and all before it are done. A slow endpoint delays
/// only the printing of those after it, never their probes.
pub async fn run_all<F>(ctx: Arc<Context>, endpoints: Vec<Endpoint>, concurrency: usize, emit: F)
where
    F: FnMut(usize, ProbeResult),
{
    let jobs = endpoints
        .into_iter()
        .map(|e| {
            let route = ctx.proxies().route_for(&e.host);
            (e, route)
        })
        .collect();
    run_jobs(ctx, jobs, concurrency, Order::Input, emit).await
}

/// The order in which results reach the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// the order of the endpoints (text and JSON reports)
    Input,
    /// as each probe finishes (NDJSON: nothing is held back)
    Completion,
}

/// As `run_all`, with the route of each probe given (`--compare-direct` gives each endpoint
/// twice, direct and through the proxy) and the order of delivery chosen. Probes are started
/// only as slots free up, so at most `concurrency` exist at a time whatever the count; with
/// `Order::Input`, results that finish early wait for those before them.
pub async fn run_jobs<F>(
    ctx: Arc<Context>,
    jobs: Vec<(Endpoint, Route)>,
    concurrency: usize,
    order: Order,
    mut emit: F,
) where
    F: FnMut(usize, ProbeResult),
{
    let concurrency = concurrency.max(1);
    let mut queue = jobs.into_iter().enumerate();
    let mut tasks = JoinSet::new();
    // the endpoint of each task in flight, to report a task that died
    let mut in_flight: HashMap<tokio::task::Id, (usize, Endpoint)> = HashMap::new();
    let mut pending = BTreeMap::new();
    let mut next = 0;
    let mut deliver = |index: usize, result: ProbeResult| match order {
        Order::Completion => emit(index, result),
        Order::Input => {
            pending.insert(index, result);
            while let Some(result) = pending.remove(&next) {
                emit(next, result);
                next += 1;
            }
        }
    };
    loop {
        while tasks.len() < concurrency {
            let Some((index, (endpoint, route))) = queue.next() else {
                break;
            };
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
                deliver(index, result);
            }
            Some(Err(e)) => {
                if let Some((index, endpoint)) = in_flight.remove(&e.id()) {
                    deliver(
                        index,
                        ProbeResult::internal_error(&endpoint, &e.to_string()),
                    );
                }
            }
        }
    }
}
