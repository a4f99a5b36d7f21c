//! One probe, start to verdict: the route (and the PAC decision), then the network steps
//! reach → tunnel → TLS → HTTP, then the judging of the chain; and the scheduling of many.
//!
//! Everything the network does is recorded as data in a `ProbeResult`; nothing here returns an
//! error. `run_all` runs many probes concurrently and hands results back in input order.
//!
//! - `result`: what a probe found (the types the reports serialise)
//! - `context`: what the probes of a run share, and the cache of analysed chains
//! - `reach`, `tunnel`, `tls`, `http`: the network steps, in the order they run
//! - `judge`: the chain analysed, the pins and the evidence turned into findings, classified
//! - `schedule`: many probes at once, results in input order

mod context;
mod http;
mod judge;
mod reach;
mod result;
mod schedule;
mod tls;
mod tunnel;

use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;

pub use context::{ChainAnalysis, Context, Settings};
pub use judge::analyse_chain;
pub use result::{HttpReport, PinCheck, PinMatch, ProbeResult, Timings, TlsParams, Trust, Warning};
pub use schedule::{run_all, run_jobs, Order};

use crate::endpoint::Endpoint;
use crate::proxy::Route;
use crate::verdict::{classify, Findings, HttpFailure, NetFailure, Stop};
use result::ms;

/// The deadlines of one probe, fixed when it starts.
pub(crate) struct Deadlines {
    /// DNS, TCP, CONNECT and the handshake together (as curl's --connect-timeout)
    connect: tokio::time::Instant,
    connect_limit: Duration,
    /// the whole probe (as curl's --max-time)
    probe: tokio::time::Instant,
    probe_limit: Duration,
}

impl Deadlines {
    fn start(settings: &Settings, start: Instant) -> Deadlines {
        let connect_limit = settings.connect_timeout.min(settings.timeout);
        Deadlines {
            connect: tokio::time::Instant::from_std(start + connect_limit),
            connect_limit,
            probe: tokio::time::Instant::from_std(start + settings.timeout),
            probe_limit: settings.timeout,
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Probes one endpoint on the route the context gives it. Never fails: every outcome is a
/// verdict.
pub async fn run(ctx: &Context, endpoint: &Endpoint) -> ProbeResult {
    run_route(ctx, endpoint, ctx.proxies().route_for(&endpoint.host)).await
}

/// What the network steps left for the judging.
#[derive(Default)]
struct Network {
    /// the step that failed, if one did
    failure: Option<NetFailure>,
    /// what was wrong with the HTTP answer
    http: Option<HttpFailure>,
    /// the presented chain, also when a later step failed
    chain: Vec<CertificateDer<'static>>,
}

/// Probes one endpoint on the given route (`--compare-direct` probes each endpoint twice).
pub async fn run_route(ctx: &Context, endpoint: &Endpoint, route: Route) -> ProbeResult {
    let start = Instant::now();
    let mut r = ProbeResult::new(endpoint);
    r.route = match ctx.proxies.decide(&endpoint.url, route).await {
        Ok(route) => route,
        Err(route) => {
            // the PAC file failed for this endpoint: a verdict, and the run goes on
            let detail = route.pac.as_ref().and_then(|p| p.error.clone());
            r.route = route;
            r.set(classify(&Findings::stopped(NetFailure::new(
                Stop::Pac,
                detail.unwrap_or_default(),
            ))));
            r.timings_ms.total = ms(start);
            return r;
        }
    };
    // the deadlines are the network's (as curl's --connect-timeout and --max-time): they start
    // once the PAC file, which may wait for a free core, has answered
    let clock = Deadlines::start(&ctx.settings, Instant::now());
    let network = network(ctx, endpoint, &clock, &mut r).await;
    let findings = judge::judge(
        ctx,
        Some(&endpoint.server_name),
        &network.chain,
        network.failure,
        network.http,
        &mut r,
    );
    r.set(classify(&findings));
    r.timings_ms.total = ms(start);
    r
}

/// The network steps in order: reach → tunnel → TLS → HTTP. The first that fails ends them.
async fn network(
    ctx: &Context,
    endpoint: &Endpoint,
    clock: &Deadlines,
    r: &mut ProbeResult,
) -> Network {
    let mut out = Network::default();
    let (mut tcp, hop) = match reach::first_hop(ctx, endpoint, clock, r).await {
        Ok(reached) => reached,
        Err(f) => {
            out.failure = Some(f);
            return out;
        }
    };
    r.route.taken(&hop);
    // a probe sends one small request; waiting to coalesce it would only add latency
    let _ = tcp.set_nodelay(true);
    if let Some(p) = r.route.proxy.clone() {
        if let Err(f) = tunnel::open(&mut tcp, &p, endpoint, clock, r).await {
            out.failure = Some(f);
            return out;
        }
    }
    let mut tls = match tls::handshake(ctx, endpoint, tcp, clock, r, &mut out.chain).await {
        Ok(tls) => tls,
        Err(f) => {
            out.failure = Some(f);
            return out;
        }
    };
    if ctx.settings.http {
        out.http = http::check(&mut tls, endpoint, clock, r).await;
    }
    out
}

#[cfg(test)]
mod tests;
