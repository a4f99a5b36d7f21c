//! `pinprobe serve`: a Prometheus exporter of pin checks, in the manner of blackbox_exporter
//! (which leaves pins out). `GET /probe?target=URL` probes once and answers the probe's metric
//! families; `GET /metrics` answers the exporter's own. Prometheus supplies the targets through
//! its relabelling, as for blackbox_exporter, so the exporter keeps no list of its own.
//!
//! A tiny HTTP/1.1 server on tokio, bounded everywhere: one request per connection, a head of
//! at most [`MAX_HEAD`] bytes read within [`HEAD_DEADLINE`], at most [`MAX_CONNECTIONS`]
//! connections at once (more wait in the kernel's queue), at most `--max-concurrent` probes at
//! once (more are answered 503), each probe within the run's `--timeout`.
//!
//! - `params`: the parameters of `/probe`, turned into an endpoint
//! - `request`: reading a request head, writing an answer

mod params;
mod request;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::probe::{self, Context, ProbeResult};
use crate::report::prometheus::{self, Measured, Series};
use params::Known;
use request::{Answer, Read, Request};

/// Where `serve` listens unless `--listen` says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9780";

/// Probes at a time unless `--max-concurrent` says otherwise.
pub const DEFAULT_MAX_CONCURRENT: usize = 16;

/// Most bytes of a request head (request line and headers).
pub const MAX_HEAD: usize = 8 * 1024;

/// Longest a client may take to send its request head.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(10);

/// Longest an answer may take to be written.
const WRITE_DEADLINE: Duration = Duration::from_secs(10);

/// Most connections served at once; further clients wait to be accepted.
pub const MAX_CONNECTIONS: usize = 256;

/// What `/` answers: the exporter's paths.
const INDEX: &str = concat!(
    "pinprobe serve: a Prometheus exporter of TLS and certificate-pinning checks\n",
    "\n",
    "GET /probe?target=https://host[:port]/path[&pinset=NAME][&profile-endpoint=URL]\n",
    "    probes the target once and answers its metrics (probe_success, pinprobe_verdict, ...)\n",
    "GET /metrics\n",
    "    the exporter's own metrics\n",
);

/// The exporter: the probes' shared context, what `/probe`'s parameters may name, the limit on
/// probes at once and the counts `/metrics` shows.
pub struct Exporter {
    context: Arc<Context>,
    known: Known,
    probes: Arc<Semaphore>,
    max_concurrent: usize,
    probe_deadline: Duration,
    stats: Mutex<prometheus::Exporter>,
}

impl Exporter {
    /// An exporter probing with `context`. `config` gives the pin sets `pinset=` may name and
    /// the deadline of a probe; `endpoints` are the profile's, for `profile-endpoint=`;
    /// `default_pinset` is the pin set of a target asked without either.
    pub fn new(
        context: Context,
        config: &Config,
        endpoints: Vec<Endpoint>,
        default_pinset: Option<String>,
        max_concurrent: usize,
    ) -> Exporter {
        let mut pinsets: Vec<String> = config.pinsets.iter().map(|s| s.name.clone()).collect();
        pinsets.sort_unstable();
        let start_time = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let max_concurrent = max_concurrent.max(1);
        Exporter {
            context: Arc::new(context),
            known: Known {
                endpoints,
                pinsets,
                default_pinset,
                profile: config.source.clone(),
            },
            probes: Arc::new(Semaphore::new(max_concurrent)),
            max_concurrent,
            probe_deadline: config.settings.timeout,
            stats: Mutex::new(prometheus::Exporter {
                max_in_flight: max_concurrent,
                start_time,
                ..prometheus::Exporter::default()
            }),
        }
    }

    /// Longest one connection may live: its head, its probe, its answer, and a margin for the
    /// analysis after the probe's network deadline.
    fn connection_deadline(&self) -> Duration {
        HEAD_DEADLINE + self.probe_deadline + WRITE_DEADLINE + Duration::from_secs(5)
    }

    /// Answers one connection: one request, one answer, then the connection closes.
    async fn connection(self: Arc<Self>, mut tcp: TcpStream) {
        let _ = tcp.set_nodelay(true);
        let (path, answer) = match request::read(&mut tcp, MAX_HEAD, HEAD_DEADLINE).await {
            Read::Gone => return,
            Read::Refused(status, message) => ("other", Answer::message(status, &message)),
            Read::Request(request) => (path_label(&request.path), self.answer(&request).await),
        };
        self.count(path, answer.status);
        answer.send(&mut tcp, WRITE_DEADLINE).await;
    }

    /// The answer to a request head.
    async fn answer(&self, request: &Request) -> Answer {
        if request.method != "GET" {
            return Answer::message(
                405,
                &format!(
                    "method {:?} is not allowed: the exporter answers GET",
                    request.method
                ),
            );
        }
        match request.path.as_str() {
            "/probe" => self.probe(&request.query).await,
            "/metrics" => self.own_metrics(),
            "/" => Answer::text(200, INDEX),
            other => Answer::message(
                404,
                &format!(
                    "no page at {other:?}: the exporter answers /probe?target=URL and /metrics"
                ),
            ),
        }
    }

    /// `/probe`: the parameters checked, one probe run within the limit on probes at once, its
    /// metric families.
    async fn probe(&self, query: &str) -> Answer {
        let endpoint = match params::endpoint(query, &self.known) {
            Ok(endpoint) => endpoint,
            Err(message) => return Answer::message(400, &message),
        };
        let Ok(permit) = Arc::clone(&self.probes).try_acquire_owned() else {
            return Answer::message(
                503,
                &format!(
                    "{} probes are running already (--max-concurrent {}): try again later",
                    self.max_concurrent, self.max_concurrent
                ),
            );
        };
        let start = Instant::now();
        let context = Arc::clone(&self.context);
        let probed = endpoint.clone();
        // the probe runs as a task of its own, holding its slot until it ends, also when the
        // client leaves; a probe that dies is an internal-error verdict, as in a run
        let task = tokio::spawn(async move {
            let result = probe::run(&context, &probed).await;
            drop(permit);
            result
        });
        let result = task
            .await
            .unwrap_or_else(|e| ProbeResult::internal_error(&endpoint, &e.to_string()));
        if let Ok(mut stats) = self.stats.lock() {
            stats.durations.observe(start.elapsed().as_secs_f64());
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let expired = endpoint
            .pinset
            .as_deref()
            .map(|set| prometheus::pinned_expired_count(&self.context, set, now));
        let series = [Series {
            labels: Vec::new(),
            measured: Measured::of(&result, expired),
        }];
        let mut body = Vec::new();
        match prometheus::write_probes(&mut body, &series) {
            Ok(()) => Answer::metrics(body),
            Err(e) => Answer::message(500, &format!("the metrics could not be written: {e}")),
        }
    }

    /// `/metrics`: the exporter's own families.
    fn own_metrics(&self) -> Answer {
        let mut stats = match self.stats.lock() {
            Ok(stats) => stats.clone(),
            Err(_) => prometheus::Exporter::default(),
        };
        stats.in_flight = self
            .max_concurrent
            .saturating_sub(self.probes.available_permits());
        let mut body = Vec::new();
        match prometheus::write_exporter(&mut body, &stats) {
            Ok(()) => Answer::metrics(body),
            Err(e) => Answer::message(500, &format!("the metrics could not be written: {e}")),
        }
    }

    /// Counts an answer by path and status.
    fn count(&self, path: &'static str, status: u16) {
        if let Ok(mut stats) = self.stats.lock() {
            *stats.requests.entry((path, status)).or_insert(0) += 1;
        }
    }

    /// The counts of answers so far, by path and status (for tests).
    pub fn requests(&self) -> BTreeMap<(&'static str, u16), u64> {
        self.stats
            .lock()
            .map(|s| s.requests.clone())
            .unwrap_or_default()
    }
}

/// The `path` label of a request: one of the exporter's paths, else `other`.
fn path_label(path: &str) -> &'static str {
    match path {
        "/probe" => "/probe",
        "/metrics" => "/metrics",
        "/" => "/",
        _ => "other",
    }
}

/// Accepts connections on `listener` and answers each on a task of its own, at most
/// [`MAX_CONNECTIONS`] at a time, each within its deadline. Runs until the process ends.
pub async fn serve(listener: TcpListener, exporter: Arc<Exporter>) {
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = Arc::clone(&connections).acquire_owned().await else {
            return;
        };
        match listener.accept().await {
            Ok((tcp, _)) => {
                let exporter = Arc::clone(&exporter);
                tokio::spawn(async move {
                    let deadline = exporter.connection_deadline();
                    let _ = tokio::time::timeout(deadline, exporter.connection(tcp)).await;
                    drop(slot);
                });
            }
            // out of descriptors, or a connection reset before it was accepted: wait for
            // connections to end rather than spin
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
