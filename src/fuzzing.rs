//! Entry points of the fuzz targets, not a stable API.
//!
//! Each function takes arbitrary bytes and hands them to one reader of untrusted input the way
//! the product does with a real file, answer or command output, then uses what was read as the
//! product would (reports it, follows it, writes it back). The fuzz targets in `fuzz/` and the
//! replay of their corpus in `cargo test` call these same functions, so the two cannot drift
//! apart. Nothing here may panic, hang or take memory without bound on any input: when one of
//! these does, the bug is in the reader it calls. The one panic written here reports a broken
//! promise of `pins convert` (what it writes reads back with the same pins).

use std::collections::BTreeSet;
use std::future::Future;
use std::io;
use std::pin::{pin, Pin as Pinned};
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use rustls::pki_types::{ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::chain::cert::CertInfo;
use crate::chain::trust::{self, AnchorSet, Store};
use crate::endpoint::{Endpoint, Method};
use crate::evidence::Interceptors;
use crate::net::resolve::Resolver;
use crate::pin_formats::{self, ForeignSet, PinFormat};
use crate::pins::{Pin, PinEntry, PinSet};
use crate::probe::{self, Context, Settings};
use crate::profile::Profile;
use crate::proxy::{connect, pac, system};
use crate::report::text::Text;

/// A fuzz target: its name (the directory of its corpus, `fuzz/corpus/NAME`) and its entry
/// point.
pub type Target = (&'static str, fn(&[u8]));

/// Every fuzz target, by name.
pub const TARGETS: [Target; 9] = [
    ("chain", chain),
    ("profile", profile),
    ("pin_formats", pin_formats),
    ("pac_answer", pac_answer),
    ("http_answer", http_answer),
    ("connect_answer", connect_answer),
    ("scutil", scutil),
    ("onboarding", onboarding),
    ("targets", targets),
];

/// The clock the chain target builds its paths at: fixed (mid-2025), so that they are the same
/// every day; the verdict is judged at the current time, as `inspect --file` judges it.
const CHAIN_NOW: Duration = Duration::from_secs(1_750_000_000);

/// A certificate chain or bundle (`inspect --file`, `--cacert`): read as PEM or DER, every
/// certificate analysed, the paths built against the input's own last certificate (as a
/// chain that ends in its root) and against all of them (as a `--cacert` bundle), where each
/// path stops, and the whole verdict of `inspect --file` with the bundled pin sets, rendered as
/// the text and JSON reports render it.
pub fn chain(data: &[u8]) {
    let Ok(certs) = trust::certificates_in(data, "fuzz") else {
        return;
    };
    let infos = CertInfo::analyse_chain(&certs);
    let now = UnixTime::since_unix_epoch(CHAIN_NOW);
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let algs = provider.signature_verification_algorithms.all;
    let last = certs.last().map(std::slice::from_ref).unwrap_or_default();
    let root = AnchorSet::from_certificates(Store::Public, last, "fuzz");
    let bundle = AnchorSet::from_certificates(Store::Os, &certs, "fuzz");
    for set in [&root, &bundle] {
        let path = trust::build_path(set, &certs, &infos, algs, now);
        let _ = crate::inspect::stop(&infos, &path);
        let _ = trust::seen_keys(&infos, &[&path]);
        let _ = path.keys(&infos);
    }
    let _ = trust::check_validity(&infos, now);
    if let (Some(leaf), Some(info), Ok(name)) = (
        certs.first(),
        infos.first(),
        ServerName::try_from("fuzz.example"),
    ) {
        let _ = trust::check_name(leaf, info, &name);
    }
    let Some((pinsets, interceptors)) = bundled() else {
        return;
    };
    let Ok(ctx) = Context::new(
        Arc::new(provider),
        root,
        bundle,
        pinsets.clone(),
        interceptors.clone(),
        Resolver::fixed(Vec::new()),
        Settings::default(),
    ) else {
        return;
    };
    // a set with its own anchors, so that the agent's path is built and judged too
    let pinset = pinsets
        .iter()
        .find(|s| !s.anchors.is_empty())
        .or(pinsets.first())
        .map(|s| s.name.clone());
    let name = ServerName::try_from("fuzz.example").ok();
    let result = probe::analyse_chain(&ctx, "fuzz", name.as_ref(), pinset, &certs);
    let _ = Text::new(true).result(&mut io::sink(), &result);
    let _ = serde_json::to_vec(&result);
}

/// The bundled pin sets and interceptor list, read once.
fn bundled() -> Option<&'static (Vec<PinSet>, Interceptors)> {
    static BUNDLED: OnceLock<Option<(Vec<PinSet>, Interceptors)>> = OnceLock::new();
    BUNDLED
        .get_or_init(|| {
            let pinsets = Profile::bundled().ok()?.pinsets;
            Some((pinsets, Interceptors::bundled().ok()?))
        })
        .as_ref()
}

/// A profile (`--profile`, `--pins`, `pin --update`): UTF-8 text as the product reads it,
/// parsed, its pin set references checked, and parsed as the editable document `pin --update`
/// rewrites.
pub fn profile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(profile) = Profile::parse(text, "fuzz") {
        let _ = profile.check_refs(&[]);
    }
    let _ = text.parse::<toml_edit::DocumentMut>();
}

/// A pin file of another tool (`pins convert`): the first byte picks the format it is read as
/// and the second the format it is written to, as `--from` and `--to` do; the rest is the file.
///
/// What is written must read back, in its format, with the same pins and deny pins: a
/// converted file that its own tool refuses, or that pins other keys, is a bug as much as a
/// panic is, and this panic is how the fuzzer is told.
pub fn pin_formats(data: &[u8]) {
    let [from, to, rest @ ..] = data else {
        return;
    };
    let format = |byte: &u8| PinFormat::ALL[usize::from(*byte) % PinFormat::ALL.len()];
    let (from, to) = (format(from), format(to));
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok((sets, _)) = pin_formats::read_counted(from, text, "fuzz") else {
        return;
    };
    let Ok(written) = pin_formats::write_sets(to, &sets, Some("converted from fuzz")) else {
        return;
    };
    match pin_formats::read_counted(to, &written, "written") {
        Ok((back, _)) if keys(&back) == keys(&sets) => {}
        Ok((back, _)) => panic!(
            "{from} to {to}: the pins written are not the pins read\nread: {:?}\nread back: {:?}\n{written}",
            keys(&sets),
            keys(&back)
        ),
        Err(e) => panic!("{from} to {to}: what was written does not read back: {e}\n{written}"),
    }
}

/// Every pin and every deny pin of `sets`, each once, in order.
fn keys(sets: &[ForeignSet]) -> (BTreeSet<Pin>, BTreeSet<Pin>) {
    let all = |list: &[PinEntry]| list.iter().map(|entry| entry.pin).collect::<BTreeSet<_>>();
    (
        sets.iter().flat_map(|s| all(&s.pins)).collect(),
        sets.iter().flat_map(|s| all(&s.deny)).collect(),
    )
}

/// The answer of a PAC file's `FindProxyForURL`: read, described and turned into the hops a
/// probe tries.
pub fn pac_answer(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(entries) = pac::parse_answer(&text) {
        let _ = pac::describe_list(&entries);
        let _ = pac::hops(&entries);
    }
}

/// The answer of an HTTP server (the probe's HTTP check, a PAC file fetched over HTTP). The
/// first byte picks the request (GET, HEAD or POST as the probe sends, or the GET of a document
/// with a size limit) and the second how many bytes each read returns (all at once when 0), so
/// that answers cut anywhere are read; the rest is what the server sends.
pub fn http_answer(data: &[u8]) {
    let [request, step, answer @ ..] = data else {
        return;
    };
    let mut stream = Trickle::new(answer, *step);
    match request % 4 {
        0 => {
            let _ = complete(crate::net::http::get_body(
                &mut stream,
                "fuzz.example",
                "/proxy.pac",
                1024,
            ));
        }
        kind => {
            let method = match kind {
                1 => Method::Get,
                2 => Method::Head,
                _ => Method::Post,
            };
            let exchange = crate::net::http::exchange(&mut stream, method, "fuzz.example", "/");
            if let Some(Ok(answer)) = complete(exchange) {
                let _ = crate::net::http::mismatch(&answer, Some(200), Some("OK"));
            }
        }
    }
}

/// A proxy's answer to CONNECT: the first byte says how many bytes each read returns (all at
/// once when 0), the rest is what the proxy sends. What the answer says of the proxy is read as
/// evidence is.
pub fn connect_answer(data: &[u8]) {
    let [step, answer @ ..] = data else {
        return;
    };
    let mut stream = Trickle::new(answer, *step);
    let answer = match complete(connect::read_answer(&mut stream)) {
        Some(Ok(answer)) | Some(Err(connect::ConnectError::Status(answer))) => answer,
        _ => return,
    };
    let _ = answer.auth_schemes();
    let _ = crate::evidence::proxy_identity(&answer);
}

/// The output of `scutil --proxy` (read lossily, as the product reads the command's output),
/// and the proxy and exceptions taken from it.
pub fn scutil(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(settings) = system::parse(&text) {
        let _ = settings.proxy();
        let _ = settings.no_proxy();
    }
}

/// A Defender onboarding package (`--onboarding`): the first byte picks the file name, whose
/// extension decides which kind of package is tried first; the rest is the file.
pub fn onboarding(data: &[u8]) {
    const NAMES: [&str; 7] = [
        "fuzz.json",
        "fuzz.py",
        "fuzz.sh",
        "fuzz.xml",
        "fuzz.plist",
        "fuzz.cmd",
        "fuzz",
    ];
    let [name, package @ ..] = data else {
        return;
    };
    let _ = crate::onboarding::parse(package, NAMES[usize::from(*name) % NAMES.len()]);
}

/// A targets list (`--targets`), read line by line, and the whole input as one endpoint (a
/// profile's `url`, a command-line URL), written back as the reports write endpoints.
pub fn targets(data: &[u8]) {
    if let Ok((endpoints, _)) = crate::targets::read(data) {
        for endpoint in &endpoints {
            let _ = endpoint.authority_with_port();
        }
    }
    if let Ok(endpoint) = Endpoint::parse(&String::from_utf8_lossy(data)) {
        let _ = endpoint.authority();
        let _ = endpoint.authority_with_port();
    }
}

/// An in-memory peer: what it sends, at most `step` bytes per read (everything at once when
/// `step` is 0); what it is sent is dropped. Every read and write is ready at once.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl<'a> Trickle<'a> {
    fn new(data: &'a [u8], step: u8) -> Trickle<'a> {
        Trickle {
            data,
            step: if step == 0 {
                usize::MAX
            } else {
                usize::from(step)
            },
        }
    }
}

impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pinned<&mut Self>,
        _: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.data.len().min(self.step).min(buf.remaining());
        let (now, rest) = self.data.split_at(n);
        buf.put_slice(now);
        self.data = rest;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Trickle<'_> {
    fn poll_write(
        self: Pinned<&mut Self>,
        _: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pinned<&mut Self>, _: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pinned<&mut Self>, _: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs `future` to its end on this thread. The futures here wait on nothing but a [`Trickle`],
/// whose every read and write is ready at once, so the first poll completes them and no runtime
/// is needed; `None` if one ever waited on something else (it would never be woken).
fn complete<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut TaskContext::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}
