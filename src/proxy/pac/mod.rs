//! PAC files: loading one (from disk, or over plain HTTP), asking its `FindProxyForURL` where an
//! endpoint should go, and reading the answer as browsers do.
//!
//! The Defender agent, like a browser, may be told its proxy by a PAC file, found directly or by
//! WPAD ([`super::wpad`]); on macOS the system settings ([`super::system`]) may name one.
//!
//! pinprobe evaluates the file with a real JavaScript engine (QuickJS, through rquickjs), with
//! the standard helper functions, under a time and a memory limit, so that a PAC file that
//! loops, allocates without end or throws becomes a clear error naming the file, and the other
//! endpoints go on.
//!
//! A [`Pac`] is cheap to clone and can be used from several tasks at once. Its evaluations run
//! on a pool of threads, one per core at most (`pool.rs`), each keeping a runtime with the file
//! loaded once (`engine.rs`): as in browsers, which keep one context per PAC file, what a call
//! leaves in the file's globals stays for the later calls of that runtime. Asking is
//! synchronous and may wait for a free thread and, within the time limit, for name lookups
//! (`dnsResolve`, answered by one thread for the process: `dns.rs`); async callers run it in
//! `spawn_blocking`.

mod answer;
mod dns;
mod engine;
mod fetch;
mod pool;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::net::resolve::Resolver;
use crate::proxy::Hop;

pub use answer::{describe_list, mask_credentials, parse_answer, PacEntry};

/// Where a PAC file comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacSource {
    /// a file on disk
    File(PathBuf),
    /// an `http://` URL (plain HTTP only, as WPAD serves it)
    Url(String),
}

impl PacSource {
    /// Reads the argument of `--pac`: a URL with a scheme (`http://...`; `file:///path` is a
    /// file), anything else a path.
    pub fn parse(text: &str) -> PacSource {
        let trimmed = text.trim();
        if let Some(path) = trimmed.strip_prefix("file://") {
            return PacSource::File(PathBuf::from(path));
        }
        if trimmed.contains("://") {
            PacSource::Url(trimmed.to_string())
        } else {
            PacSource::File(PathBuf::from(text))
        }
    }
}

impl std::fmt::Display for PacSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PacSource::File(path) => write!(f, "{}", crate::input::name(path)),
            PacSource::Url(url) => write!(f, "{}", crate::proxy::redact(url)),
        }
    }
}

/// Bounds on loading and evaluating a PAC file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// the whole fetch of a PAC URL: name lookup, connect, request and body
    pub fetch_time: Duration,
    /// largest PAC file accepted, from disk or the network
    pub max_bytes: usize,
    /// one evaluation: loading the file, or one call of `FindProxyForURL`, name lookups included
    pub eval_time: Duration,
    /// memory of each JavaScript runtime (one per thread of the pool): the file loaded, its
    /// globals and the evaluation under way
    pub memory: usize,
    /// one name lookup of `dnsResolve`, `isResolvable` or `isInNet` (within `eval_time`)
    pub dns_time: Duration,
}

impl Default for Limits {
    /// 10 s to fetch at most 1 MiB; 2 s per evaluation and 32 MiB per runtime; 1 s per name
    /// lookup.
    fn default() -> Limits {
        Limits {
            fetch_time: Duration::from_secs(10),
            max_bytes: crate::input::PAC.bytes as usize,
            eval_time: Duration::from_secs(2),
            memory: 32 * 1024 * 1024,
            dns_time: Duration::from_secs(1),
        }
    }
}

/// Why a PAC file could not be loaded or gave no usable answer; Display names the PAC file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("PAC {pac}: {kind}")]
pub struct PacError {
    /// the file or URL, as the user gave it (credentials redacted)
    pub pac: String,
    /// what went wrong
    pub kind: PacErrorKind,
}

/// What went wrong with a PAC file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PacErrorKind {
    /// the file could not be read
    #[error("cannot read the file: {0}")]
    Read(String),
    /// the URL could not be fetched (bad URL, name, connection, deadline, not HTTP)
    #[error("cannot fetch it: {0}")]
    Fetch(String),
    /// the server answered with another status than 200
    #[error("the server answered {}, not 200 (redirects are not followed)", status_text(*status, reason))]
    Status {
        /// the status code
        status: u16,
        /// the reason phrase, possibly empty
        reason: String,
    },
    /// the file is larger than [`Limits::max_bytes`]
    #[error("the file is larger than {} (the limit for a PAC file)", bytes_text(*.0))]
    TooLarge(usize),
    /// the file is not a PAC file: empty, or no `FindProxyForURL` function
    #[error("{0}")]
    NotPac(String),
    /// the JavaScript threw (a syntax error while loading, or an exception in a call)
    #[error("{during} threw {message}{}", frame.as_ref().map(|f| format!(", {f}")).unwrap_or_default())]
    Script {
        /// `loading the file` or the call, e.g. `FindProxyForURL("https://a/", "a")`
        during: String,
        /// the JavaScript error, `Name: message` (or the value thrown)
        message: String,
        /// the innermost frame of the stack, e.g. `at FindProxyForURL (proxy.pac:3:9)`
        frame: Option<String>,
        /// the whole stack as the engine gave it
        stack: Option<String>,
    },
    /// an evaluation ran past [`Limits::eval_time`]
    #[error("time limit hit ({}) in {during}: the script loops or waits too long", seconds_text(*limit))]
    TimeLimit {
        /// as in `Script`
        during: String,
        /// the limit
        limit: Duration,
    },
    /// an evaluation used more than [`Limits::memory`]
    #[error("memory limit hit ({}) in {during}", bytes_text(*limit))]
    MemoryLimit {
        /// as in `Script`
        during: String,
        /// the limit
        limit: usize,
    },
    /// `FindProxyForURL` answered something that is not a proxy list
    #[error("{during} returned {answer}: {why}")]
    Garbage {
        /// the call
        during: String,
        /// the answer, as JavaScript would show it (strings quoted)
        answer: String,
        /// what could not be read
        why: String,
    },
    /// the JavaScript engine failed for another reason
    #[error("the JavaScript engine failed: {0}")]
    Engine(String),
}

/// Most characters of a value from the script (an answer, a message) kept in an error.
const SHOWN_CHARS: usize = 300;

/// `text`, cut at [`SHOWN_CHARS`] with a note of its length: a script's values are unbounded.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}... ({} characters)", &text[..end], text.chars().count()),
        None => text.to_string(),
    }
}

fn status_text(status: u16, reason: &str) -> String {
    if reason.is_empty() {
        status.to_string()
    } else {
        format!("{status} {reason}")
    }
}

fn bytes_text(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes % 1024 == 0 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

fn seconds_text(limit: Duration) -> String {
    if limit.subsec_millis() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{:.1} s", limit.as_secs_f64())
    }
}

impl From<PacError> for crate::error::Error {
    /// A PAC file given with `--pac` that cannot be used is a configuration error.
    fn from(e: PacError) -> crate::error::Error {
        crate::error::Error::File {
            file: e.pac,
            message: e.kind.to_string(),
        }
    }
}

/// A loaded PAC file, checked to define `FindProxyForURL`.
#[derive(Clone)]
pub struct Pac {
    inner: Arc<Inner>,
    /// the threads that evaluate it; they end with the last clone
    pool: Arc<pool::Pool>,
}

/// What an evaluation needs; shared by the clones of a [`Pac`] and the threads of its pool.
struct Inner {
    name: String,
    script: String,
    resolver: Arc<Resolver>,
    limits: Limits,
    /// what `myIpAddress()` answers, when fixed
    my_address: Option<IpAddr>,
    /// the clock of the date functions, when fixed: (ms since the epoch, minutes east of UTC)
    clock: Option<(i64, i32)>,
    /// name lookups already made, as browsers cache them
    dns: Mutex<DnsCache>,
    /// the answers already given, per (URL, host) as the script is called with them: browsers
    /// ask once per host too, and a sweep of one host's endpoints costs one evaluation
    answers: Mutex<AnswerCache>,
    /// how many times the file was loaded (once per thread of the pool, and again after a call
    /// that hit a limit)
    loads: AtomicUsize,
}

/// Most answers kept per run; later ones are evaluated each time.
const MAX_CACHED_ANSWERS: usize = 65_536;

/// (URL, host) as `FindProxyForURL` is called -> what it answered.
type AnswerCache = HashMap<(String, String), Result<Vec<PacEntry>, PacError>>;

/// (name, port) -> the addresses, or None when the name did not resolve.
type DnsCache = HashMap<(String, u16), Option<Vec<IpAddr>>>;

impl std::fmt::Debug for Pac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pac")
            .field("name", &self.inner.name)
            .field("bytes", &self.inner.script.len())
            .finish()
    }
}

impl Pac {
    /// A PAC file from its text; `name` (a path or URL) is what errors and routes show. The
    /// file is loaded on a thread of its pool, within the limits, to check that it loads and
    /// defines `FindProxyForURL`; that thread keeps it loaded for the first calls.
    /// Synchronous: it may take up to `limits.eval_time`.
    pub fn from_script(
        name: impl Into<String>,
        script: impl Into<String>,
        resolver: &Resolver,
        limits: Limits,
    ) -> Result<Pac, PacError> {
        let pac = Pac::new(Inner {
            name: name.into(),
            script: script.into(),
            resolver: Arc::new(resolver.clone()),
            limits,
            my_address: None,
            clock: None,
            dns: Mutex::new(HashMap::new()),
            answers: Mutex::new(HashMap::new()),
            loads: AtomicUsize::new(0),
        });
        pac.pool
            .run(|engine| engine.check())
            .and_then(|checked| checked)
            .map_err(|kind| pac.inner.error(kind))?;
        Ok(pac)
    }

    fn new(inner: Inner) -> Pac {
        let inner = Arc::new(inner);
        Pac {
            pool: Arc::new(pool::Pool::new(inner.clone())),
            inner,
        }
    }

    /// The file or URL it was loaded from, as errors and routes name it.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The size of the script in bytes.
    pub fn size(&self) -> usize {
        self.inner.script.len()
    }

    /// The limits it is evaluated with.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The same PAC file with `myIpAddress()` answering `addr` (tests, or a machine whose
    /// address pinprobe would guess wrong). By default it is the address of the interface that
    /// routes to the internet, found without sending a packet, else 127.0.0.1.
    pub fn with_my_address(&self, addr: IpAddr) -> Pac {
        self.rebuilt(Some(addr), self.inner.clock)
    }

    /// The same PAC file with `weekdayRange`, `dateRange` and `timeRange` seeing this moment
    /// (`unix_ms`, milliseconds since the epoch) and this local offset (minutes east of UTC),
    /// for tests and reproducible runs. By default they see the machine's clock and time zone.
    pub fn with_clock(&self, unix_ms: i64, utc_offset_minutes: i32) -> Pac {
        self.rebuilt(self.inner.my_address, Some((unix_ms, utc_offset_minutes)))
    }

    /// The same file with other settings: its own caches and pool, the file loaded again when
    /// it is first asked.
    fn rebuilt(&self, my_address: Option<IpAddr>, clock: Option<(i64, i32)>) -> Pac {
        Pac::new(Inner {
            name: self.inner.name.clone(),
            script: self.inner.script.clone(),
            resolver: self.inner.resolver.clone(),
            limits: self.inner.limits,
            my_address,
            clock,
            dns: Mutex::new(HashMap::new()),
            answers: Mutex::new(HashMap::new()),
            loads: AtomicUsize::new(0),
        })
    }

    /// Calls `FindProxyForURL(url, host)` and reads its answer, in order: an empty list never
    /// comes back (an answer without entries is an error). Synchronous; see the module doc.
    /// The answer for the same arguments is given again from the run's cache, and at most as
    /// many evaluations as the machine has cores run at once.
    pub fn find_proxy(&self, url: &str, host: &str) -> Result<Vec<PacEntry>, PacError> {
        if let Some(hit) = self.inner.cached(url, host) {
            return hit;
        }
        let inner = self.inner.clone();
        let (url, host) = (url.to_string(), host.to_string());
        self.pool
            .run(move |engine| {
                // another thread may have answered while this call waited in the queue
                if let Some(hit) = inner.cached(&url, &host) {
                    return hit;
                }
                let answer = inner.evaluate(engine, &url, &host);
                if let Ok(mut answers) = inner.answers.lock() {
                    if answers.len() < MAX_CACHED_ANSWERS {
                        answers.insert((url, host), answer.clone());
                    }
                }
                answer
            })
            .unwrap_or_else(|kind| Err(self.inner.error(kind)))
    }
}

impl Inner {
    /// The answer already given for these arguments.
    fn cached(&self, url: &str, host: &str) -> Option<Result<Vec<PacEntry>, PacError>> {
        let answers = self.answers.lock().ok()?;
        answers.get(&(url.to_string(), host.to_string())).cloned()
    }

    fn evaluate(
        &self,
        engine: &mut engine::Engine,
        url: &str,
        host: &str,
    ) -> Result<Vec<PacEntry>, PacError> {
        let during = format!("FindProxyForURL({url:?}, {host:?})");
        let answer = engine.call(url, host, &during).map_err(|k| self.error(k))?;
        parse_answer(&answer).map_err(|why| {
            self.error(PacErrorKind::Garbage {
                during,
                answer: shorten(&mask_credentials(&format!("{answer:?}"))),
                why: shorten(&mask_credentials(&why)),
            })
        })
    }

    fn error(&self, kind: PacErrorKind) -> PacError {
        PacError {
            pac: self.name.clone(),
            kind,
        }
    }
}

/// Loads a PAC file from disk or over plain HTTP (at most `limits.max_bytes`, the fetch within
/// `limits.fetch_time`, names through `resolver`), and checks it as [`Pac::from_script`] does.
/// Errors name the file or URL; an HTTP status other than 200 is an error naming the status.
pub async fn load(
    source: &PacSource,
    resolver: &Resolver,
    limits: Limits,
) -> Result<Pac, PacError> {
    let name = source.to_string();
    let script = match source {
        PacSource::File(path) => fetch::read_file(path, limits.max_bytes).await,
        PacSource::Url(url) => fetch::fetch(url, resolver, &limits).await,
    }
    .map_err(|kind| PacError {
        pac: name.clone(),
        kind,
    })?;
    let resolver = resolver.clone();
    let checked_name = name.clone();
    tokio::task::spawn_blocking(move || Pac::from_script(checked_name, script, &resolver, limits))
        .await
        .map_err(|e| PacError {
            pac: name,
            kind: PacErrorKind::Engine(format!("the check of the file did not finish: {e}")),
        })?
}

/// The arguments browsers pass to `FindProxyForURL` for `url`: the URL (for `https://`, only
/// scheme, host and port, as Chrome and Firefox strip path and query) and the host (lowercase,
/// an IPv6 address without brackets).
pub fn arguments(url: &str) -> Result<(String, String), String> {
    let mut parsed = url::Url::parse(url).map_err(|e| format!("\"{url}\" is not a URL ({e})"))?;
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(format!("\"{url}\" has no host")),
    };
    if parsed.scheme() == "https" || parsed.scheme() == "wss" {
        parsed.set_path("/");
        parsed.set_query(None);
        parsed.set_fragment(None);
        // user names and passwords never reach a PAC file; ignore what cannot be cleared
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
    }
    Ok((parsed.to_string(), host))
}

/// The ways to reach an endpoint that a PAC answer lists, in its order: DIRECT, HTTP proxies,
/// and the entries pinprobe cannot follow (HTTPS, SOCKS) with why. The probe tries them in turn
/// and records what it passed over.
pub fn hops(entries: &[PacEntry]) -> Vec<Hop> {
    entries
        .iter()
        .map(|entry| match entry.proxy() {
            Ok(None) => Hop::Direct,
            Ok(Some(proxy)) => Hop::Proxy(proxy),
            Err(why) => Hop::Unsupported {
                entry: entry.to_string(),
                why,
            },
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
