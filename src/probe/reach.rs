//! Reaching the endpoint: the ways to reach it tried in order (direct, or each entry of a PAC
//! answer), each by name resolution and TCP connect.

use std::time::Instant;

use tokio::net::TcpStream;
use tokio::time::timeout_at;

use super::context::Context;
use super::result::{ms, ProbeResult};
use super::{seconds, Deadlines};
use crate::endpoint::Endpoint;
use crate::proxy::{Hop, Skipped};
use crate::verdict::{NetFailure, Phase, Stop};

/// Tries the ways to reach the endpoint in order: one, or the entries of a PAC answer, each
/// tried when the one before could not be reached (as browsers do). What was passed over, and
/// why, is recorded on the route's PAC decision.
pub(super) async fn first_hop(
    ctx: &Context,
    endpoint: &Endpoint,
    clock: &Deadlines,
    r: &mut ProbeResult,
) -> Result<(TcpStream, Hop), NetFailure> {
    let hops = r.route.hops();
    let mut reached = None;
    let mut failure = None;
    let mut skipped: Vec<Skipped> = Vec::new();
    for (i, hop) in hops.iter().enumerate() {
        let last = i + 1 == hops.len();
        let (host, port, whose) = match hop {
            Hop::Unsupported { entry, why } => {
                skipped.push(Skipped {
                    entry: entry.clone(),
                    why: why.clone(),
                });
                continue;
            }
            Hop::Direct => (endpoint.host.as_str(), endpoint.port, String::new()),
            Hop::Proxy(p) => (p.host.as_str(), p.port, format!("the proxy {}: ", p.url())),
        };
        match reach(ctx, host, port, &whose, clock, r).await {
            Ok(stream) => {
                reached = Some((stream, hop.clone()));
                break;
            }
            Err(f) if !last && hops.len() > 1 => skipped.push(Skipped {
                entry: hop.describe(),
                why: f.detail,
            }),
            Err(f) => {
                failure = Some(f);
                break;
            }
        }
    }
    if let Some(pac) = r.route.pac.as_mut() {
        pac.skipped = skipped.clone();
    }
    if let Some(reached) = reached {
        return Ok(reached);
    }
    let failure = failure.unwrap_or(NetFailure::new(
        Stop::Connect,
        "no entry of the PAC answer could be used",
    ));
    let detail = if skipped.is_empty() {
        failure.detail
    } else {
        let passed: Vec<String> = skipped
            .iter()
            .map(|s| format!("{}: {}", s.entry, s.why))
            .collect();
        format!("{} (after {})", failure.detail, passed.join("; "))
    };
    Err(NetFailure::new(failure.stop, detail))
}

/// Resolves `host` and opens TCP to it (the endpoint, or a proxy: `whose` says which in
/// messages), trying each address in turn as curl does without happy eyeballs.
async fn reach(
    ctx: &Context,
    host: &str,
    port: u16,
    whose: &str,
    clock: &Deadlines,
    r: &mut ProbeResult,
) -> Result<TcpStream, NetFailure> {
    let t = Instant::now();
    let resolved = timeout_at(clock.connect, ctx.resolver.resolve(host, port)).await;
    r.timings_ms.dns = Some(ms(t));
    let addrs = match resolved {
        Err(_) => {
            return Err(NetFailure {
                stop: Stop::Timeout(Phase::Dns),
                detail: format!(
                    "phase dns: {whose}{host} did not resolve within {}",
                    seconds(clock.connect_limit)
                ),
            })
        }
        Ok(Err(e)) => {
            return Err(NetFailure {
                stop: Stop::Dns,
                detail: format!("{whose}{e}"),
            })
        }
        Ok(Ok((addrs, source))) => {
            r.resolved_by = Some(source);
            addrs
        }
    };
    let t = Instant::now();
    let mut errors = Vec::new();
    for addr in addrs.iter().take(8) {
        r.address = Some(*addr);
        match timeout_at(clock.connect, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                r.timings_ms.connect = Some(ms(t));
                return Ok(stream);
            }
            Ok(Err(e)) if out_of_files(&e) => {
                r.timings_ms.connect = Some(ms(t));
                return Err(out_of_files_failure(whose, *addr, &e));
            }
            Ok(Err(e)) => errors.push(format!("{addr}: {}", io_text(&e))),
            Err(_) => {
                r.timings_ms.connect = Some(ms(t));
                return Err(NetFailure {
                    stop: Stop::Timeout(Phase::Connect),
                    detail: format!(
                        "phase connect: {whose}no TCP answer from {addr} within {}",
                        seconds(clock.connect_limit)
                    ),
                });
            }
        }
    }
    r.timings_ms.connect = Some(ms(t));
    Err(NetFailure {
        stop: Stop::Connect,
        detail: format!("{whose}{}", errors.join("; ")),
    })
}

/// Whether `e` says this process (EMFILE) or the system (ENFILE) has no open file left: a
/// local shortage, not an answer of the network.
fn out_of_files(e: &std::io::Error) -> bool {
    // EMFILE and ENFILE have these numbers on Linux, macOS and the BSDs; WSAEMFILE on Windows
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    const WSAEMFILE: i32 = 10024;
    match e.raw_os_error() {
        Some(WSAEMFILE) => cfg!(windows),
        Some(EMFILE | ENFILE) => cfg!(unix),
        _ => false,
    }
}

/// The local failure of a socket that could not be opened for want of a descriptor.
fn out_of_files_failure(whose: &str, addr: std::net::SocketAddr, e: &std::io::Error) -> NetFailure {
    NetFailure::new(
        Stop::Local,
        format!(
            "{whose}pinprobe ran out of open files before connecting to {addr} ({e}): nothing was learnt about the network; lower -j or raise the open-file limit (ulimit -n)"
        ),
    )
}

fn io_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection refused".into(),
        K::ConnectionReset => "connection reset".into(),
        K::TimedOut => "timed out".into(),
        _ => e.to_string(),
    }
}
