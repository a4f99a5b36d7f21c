//! The network side of the helper functions: name lookups (`dnsResolve`, `isResolvable`,
//! `isInNet` and their `Ex` variants) and the machine's address (`myIpAddress`).
//!
//! The resolver is async (the system's getaddrinfo runs on a blocking thread of a tokio runtime)
//! and an evaluation is synchronous. One thread for the whole process answers the lookups of
//! every PAC file: requests reach it through a bounded queue, each with the moment after which
//! no one waits for its answer; at most [`MAX_LOOKUPS`] system lookups run at once, and a
//! request whose moment passed while it waited for its turn is dropped unasked. The evaluation
//! waits on the wall clock, which its CPU-time limit does not count, within
//! [`super::Limits::dns_time`] and its own deadline.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use tokio::sync::{mpsc as queue, Semaphore};

use super::{DnsCache, Inner};
use crate::net::resolve::Resolver;

/// System lookups running at once (each holds a thread of the lookup runtime while
/// getaddrinfo runs); more wait for their turn.
const MAX_LOOKUPS: usize = 16;

/// Requests waiting for the lookup thread; when it is full (the thread is stuck), a lookup
/// fails at once instead of waiting.
const QUEUE: usize = 1024;

/// One lookup asked of the lookup thread.
struct Request {
    resolver: Arc<Resolver>,
    name: String,
    port: u16,
    /// no one waits for the answer after this
    until: Instant,
    reply: mpsc::SyncSender<Result<Vec<SocketAddr>, String>>,
}

/// The queue of the lookup thread, started at the first lookup (None until then).
static SERVICE: Mutex<Option<queue::Sender<Request>>> = Mutex::new(None);

/// Threads the lookups have started, for the tests: the lookup thread and those of its runtime.
static THREADS_STARTED: AtomicUsize = AtomicUsize::new(0);

/// How many threads name lookups have started in this process so far.
#[cfg(test)]
pub(super) fn threads_started() -> usize {
    THREADS_STARTED.load(Ordering::Relaxed)
}

/// The queue of the lookup thread, starting the thread if it is not running; None when it
/// cannot be started (no thread could be made), tried again at the next lookup.
fn service() -> Option<queue::Sender<Request>> {
    let mut service = SERVICE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(sender) = service.as_ref().filter(|s| !s.is_closed()) {
        return Some(sender.clone());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(MAX_LOOKUPS)
        .thread_name("pac-dns-lookup")
        .on_thread_start(|| {
            THREADS_STARTED.fetch_add(1, Ordering::Relaxed);
        })
        .build()
        .ok()?;
    let (sender, requests) = queue::channel(QUEUE);
    std::thread::Builder::new()
        .name("pac-dns".into())
        .spawn(move || {
            THREADS_STARTED.fetch_add(1, Ordering::Relaxed);
            runtime.block_on(serve(requests));
            // a lookup that hangs in getaddrinfo is not waited for
            runtime.shutdown_background();
        })
        .ok()?;
    *service = Some(sender.clone());
    Some(sender)
}

/// The lookup thread: each request is a task; the permits bound the lookups that run at once.
async fn serve(mut requests: queue::Receiver<Request>) {
    let turns = Arc::new(Semaphore::new(MAX_LOOKUPS));
    while let Some(request) = requests.recv().await {
        let turns = turns.clone();
        tokio::spawn(async move {
            let Ok(_turn) = turns.acquire_owned().await else {
                return;
            };
            if Instant::now() >= request.until {
                return;
            }
            let answer = request
                .resolver
                .resolve(&request.name, request.port)
                .await
                .map(|(addrs, _)| addrs);
            // the asker may have stopped waiting; the channel holds one answer, so this never
            // blocks the thread
            let _ = request.reply.try_send(answer);
        });
    }
}

/// The addresses of `name`, through the PAC's resolver, waiting at most `dns_time` and never
/// past the evaluation's deadline; None when it does not resolve in time. Results are kept for
/// the life of the [`super::Pac`], as browsers cache them.
pub(super) fn lookup(
    inner: &Inner,
    name: &str,
    port: u16,
    deadline: Instant,
) -> Option<Vec<IpAddr>> {
    let name = name.trim().to_ascii_lowercase();
    if let Ok(ip) = name.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Some(vec![ip]);
    }
    let plausible = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !plausible {
        return None;
    }
    let key = (name, port);
    if let Some(known) = cache(inner).get(&key) {
        return known.clone();
    }
    let now = Instant::now();
    let wait = inner
        .limits
        .dns_time
        .min(deadline.saturating_duration_since(now));
    if wait.is_zero() {
        return None;
    }
    let (reply, answer) = mpsc::sync_channel(1);
    let request = Request {
        resolver: inner.resolver.clone(),
        name: key.0.clone(),
        port,
        until: now + wait,
        reply,
    };
    // a full queue or no lookup thread: no answer now, perhaps at the next call
    service()?.try_send(request).ok()?;
    let (found, final_answer) = match answer.recv_timeout(wait) {
        Ok(Ok(addrs)) => {
            let mut ips: Vec<IpAddr> = Vec::new();
            for ip in addrs.iter().map(SocketAddr::ip) {
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
            (Some(ips), true)
        }
        Ok(Err(_)) => (None, true),
        // a lookup cut short by the evaluation's deadline may still succeed next time
        Err(mpsc::RecvTimeoutError::Timeout) => (None, wait == inner.limits.dns_time),
        // the lookup thread ended without answering: not an answer about the name
        Err(mpsc::RecvTimeoutError::Disconnected) => (None, false),
    };
    if final_answer {
        cache(inner).insert(key, found.clone());
    }
    found
}

fn cache(inner: &Inner) -> MutexGuard<'_, DnsCache> {
    // a panic elsewhere cannot leave the map half-written: inserts are single calls
    inner
        .dns
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The address of the interface that routes towards the internet, as browsers answer
/// `myIpAddress()`; 127.0.0.1 when there is none.
pub(super) fn machine_address() -> IpAddr {
    static ADDRESS: OnceLock<IpAddr> = OnceLock::new();
    *ADDRESS.get_or_init(|| {
        // Connecting a UDP socket sends nothing: the kernel only picks the route and the
        // source address. The destination is a documentation address (TEST-NET-2).
        UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
            .and_then(|socket| {
                socket.connect((Ipv4Addr::new(198, 51, 100, 1), 9))?;
                socket.local_addr()
            })
            .map(|a| a.ip())
            .ok()
            .filter(|ip| !ip.is_unspecified())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    })
}
