//! Loopback TLS servers that behave well or badly on purpose.
//!
//! Each [`Server`] listens on `127.0.0.1` with an ephemeral port and plays one [`Behaviour`]
//! on every connection: a plain HTTPS answer, or one of the failures a prober has to tell
//! apart (reset after the ClientHello, silence, non-TLS bytes, a close right after the
//! handshake). The chain is sent exactly as given, so tests can present wrong orders, missing
//! intermediates or extra certificates. The HTTP behaviours answer GET, HEAD (the head alone)
//! and POST, and keep the request heads they read for the tests to check ([`Server::requests`]).
//! Everything is bounded: connections per server, bytes read per connection, requests kept, and
//! time per connection and per server; dropping the [`Server`] stops it.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::NoServerSessionStorage;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::http::{read_head, request_line};
use super::LabError;

/// Longest a single connection may take, handshake included.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(30);
/// How long [`Behaviour::Silent`] holds a connection open.
const SILENT_HOLD: Duration = Duration::from_secs(60);
/// Most bytes read from a client before the behaviour acts (request head, ClientHello).
const MAX_READ: usize = 16 * 1024;
/// Most connections one server accepts over its lifetime, unless started with another capacity.
const MAX_CONNECTIONS: usize = 1024;
/// Most connections one server handles at the same time; further clients wait in the backlog.
const MAX_CONCURRENT: usize = 64;
/// Longest a server accepts connections, in case its owner forgets to drop it.
const SERVER_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// How long to wait for the client's end of the stream after closing ours.
const DRAIN_DEADLINE: Duration = Duration::from_secs(2);
/// Most bytes discarded while waiting for the client's end of the stream.
const MAX_DRAIN: usize = 64 * 1024;
/// Pause after a failed `accept` (for example out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
/// Most requests one server keeps for [`Server::requests`]; later ones are answered, not kept.
const MAX_KEPT_REQUESTS: usize = 256;

/// What a lab server does with each connection.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Completes the TLS handshake and answers the HTTP/1.1 request (read until `\r\n\r\n`,
    /// at most 16 KiB; a body, as a POST's, is not read) with `HTTP/1.1 {status} {reason}`,
    /// `Content-Length` and `Connection: close`, then the body, except to HEAD, whose answer
    /// ends with the head (its Content-Length still the body's, as RFC 9110 9.3.2 has it);
    /// then sends close_notify and closes.
    Http {
        /// Status code of the answer.
        status: u16,
        /// Body of the answer.
        body: String,
    },
    /// Reads the ClientHello, then resets the TCP connection (RST, not FIN).
    ResetAfterClientHello,
    /// Accepts TCP and never sends anything; keeps the socket open until the client closes,
    /// the server is dropped, or 60 s pass.
    Silent,
    /// Answers the ClientHello with bytes that are not TLS (an HTTP 400 plus junk), then
    /// closes.
    Garbage,
    /// Completes the TLS handshake, then closes TCP without an HTTP answer or close_notify.
    CloseAfterHandshake,
    /// As [`Behaviour::Http`], but waits `delay` after the TLS handshake before reading the
    /// request and answering: a slow origin, for measuring how probes overlap. The delay is
    /// capped by the connection deadline (30 s).
    DelayedHttp {
        /// Status code of the answer.
        status: u16,
        /// Body of the answer.
        body: String,
        /// Time between the end of the handshake and the answer.
        delay: Duration,
    },
    /// Completes the TLS handshake, reads the request head and answers these bytes as they
    /// are, whatever the method (a head with many or hostile headers, a body sent to HEAD),
    /// then sends close_notify and closes.
    Answer(Vec<u8>),
}

impl Behaviour {
    fn name(&self) -> &'static str {
        match self {
            Behaviour::Http { .. } => "Http",
            Behaviour::ResetAfterClientHello => "ResetAfterClientHello",
            Behaviour::Silent => "Silent",
            Behaviour::Garbage => "Garbage",
            Behaviour::CloseAfterHandshake => "CloseAfterHandshake",
            Behaviour::DelayedHttp { .. } => "DelayedHttp",
            Behaviour::Answer(_) => "Answer",
        }
    }

    fn needs_certificate(&self) -> bool {
        matches!(
            self,
            Behaviour::Http { .. }
                | Behaviour::CloseAfterHandshake
                | Behaviour::DelayedHttp { .. }
                | Behaviour::Answer(_)
        )
    }
}

/// A request an HTTP behaviour read, as its head says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// the method of the request line (`GET`, `HEAD`, `POST`)
    pub method: String,
    /// the target of the request line (`/ping`)
    pub target: String,
    /// the whole head as text (lossy UTF-8), request line and headers
    pub head: String,
}

/// The requests a server kept, shared with its connections.
type Kept = Arc<Mutex<Vec<Request>>>;

/// A running lab server on `127.0.0.1`. Dropping it stops accepting and ends its
/// connections.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    requests: Kept,
    task: JoinHandle<()>,
}

impl Server {
    /// Starts a TLS server on `127.0.0.1:0` presenting `chain` with `key`.
    ///
    /// The chain is sent exactly as given: any order, extra certificates allowed, and the key
    /// is not checked against the first certificate, so broken setups can be reproduced.
    pub async fn start(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        behaviour: Behaviour,
    ) -> Result<Server, LabError> {
        Server::start_with_capacity(chain, key, behaviour, MAX_CONNECTIONS).await
    }

    /// As [`Server::start`], accepting up to `connections` connections over its lifetime
    /// instead of 1024: the benchmark sweeps tens of thousands of endpoints against one origin.
    pub async fn start_with_capacity(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        behaviour: Behaviour,
        connections: usize,
    ) -> Result<Server, LabError> {
        if chain.is_empty() {
            return Err(LabError::EmptyChain);
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let signing_key = provider.key_provider.load_private_key(key)?;
        // CertifiedKey::new skips the key/leaf consistency check that with_single_cert does.
        let resolver = SingleCertAndKey::from(CertifiedKey::new(chain, signing_key));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
        // No resumption: every connection shows the full chain, whatever the client caches.
        config.session_storage = Arc::new(NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        spawn(
            Some(TlsAcceptor::from(Arc::new(config))),
            behaviour,
            connections,
        )
        .await
    }

    /// Starts a server for a behaviour that never completes a handshake
    /// ([`Behaviour::ResetAfterClientHello`], [`Behaviour::Silent`], [`Behaviour::Garbage`]).
    pub async fn start_raw(behaviour: Behaviour) -> Result<Server, LabError> {
        if behaviour.needs_certificate() {
            return Err(LabError::NeedsCertificate(behaviour.name()));
        }
        spawn(None, behaviour, MAX_CONNECTIONS).await
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// How many TCP connections the server has accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// The HTTP requests read so far, in the order their heads were complete (the first 256).
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Aborting the accept task drops its listener and its JoinSet, which aborts every
        // connection task with it.
        self.task.abort();
    }
}

/// A loopback port that nothing listens on: for "connection refused" tests, or to hand to a
/// server outside the process (the benchmark's nginx).
///
/// Another process may grab the port between this call and its use; on a test machine that
/// is rare enough to accept.
pub fn closed_port() -> Result<u16, LabError> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

async fn spawn(
    acceptor: Option<TlsAcceptor>,
    behaviour: Behaviour,
    connections: usize,
) -> Result<Server, LabError> {
    // A plain `tokio::spawn` panics outside a runtime; this turns that into an error.
    let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let accepted = Arc::new(AtomicUsize::new(0));
    let requests = Kept::default();
    let task = runtime.spawn(serve(
        listener,
        acceptor,
        Arc::new(behaviour),
        Arc::clone(&accepted),
        Arc::clone(&requests),
        connections,
    ));
    Ok(Server {
        addr,
        accepted,
        requests,
        task,
    })
}

async fn serve(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    behaviour: Arc<Behaviour>,
    accepted: Arc<AtomicUsize>,
    requests: Kept,
    capacity: usize,
) {
    let end = Instant::now() + SERVER_LIFETIME;
    let mut connections = JoinSet::new();
    for _ in 0..capacity {
        while connections.try_join_next().is_some() {}
        if connections.len() >= MAX_CONCURRENT
            && tokio::time::timeout_at(end, connections.join_next())
                .await
                .is_err()
        {
            break;
        }
        let tcp = match tokio::time::timeout_at(end, listener.accept()).await {
            Err(_) => break,
            Ok(Err(_)) => {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
            Ok(Ok((tcp, _peer))) => tcp,
        };
        accepted.fetch_add(1, Ordering::SeqCst);
        let acceptor = acceptor.clone();
        let behaviour = Arc::clone(&behaviour);
        let requests = Arc::clone(&requests);
        connections.spawn(async move {
            let deadline = match *behaviour {
                Behaviour::Silent => SILENT_HOLD,
                _ => CONNECTION_DEADLINE,
            };
            // Failures are the client's to observe; the server has nobody to tell.
            let _ =
                tokio::time::timeout(deadline, handle(tcp, acceptor, &behaviour, &requests)).await;
        });
    }
    // Refuse new clients but let the running connections end; each has its own deadline.
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Serves one connection as `behaviour` says: the TLS behaviours need the acceptor, the raw
/// ones work on the TCP stream.
async fn handle(
    tcp: TcpStream,
    acceptor: Option<TlsAcceptor>,
    behaviour: &Behaviour,
    requests: &Kept,
) -> io::Result<()> {
    match (behaviour, acceptor) {
        (Behaviour::Http { status, body }, Some(acceptor)) => {
            answer_http(tcp, acceptor, None, requests, |method| {
                http_response(method, *status, body)
            })
            .await
        }
        (Behaviour::Answer(bytes), Some(acceptor)) => {
            answer_http(tcp, acceptor, None, requests, |_| bytes.clone()).await
        }
        (
            Behaviour::DelayedHttp {
                status,
                body,
                delay,
            },
            Some(acceptor),
        ) => {
            answer_http(tcp, acceptor, Some(*delay), requests, |method| {
                http_response(method, *status, body)
            })
            .await
        }
        (Behaviour::CloseAfterHandshake, Some(acceptor)) => {
            close_after_handshake(tcp, acceptor).await
        }
        (Behaviour::ResetAfterClientHello, _) => reset_after_client_hello(tcp).await,
        (Behaviour::Silent, _) => stay_silent(tcp).await,
        (Behaviour::Garbage, _) => answer_garbage(tcp).await,
        // start_raw refuses these, so there is no acceptor only if the caller bypassed it.
        (
            Behaviour::Http { .. }
            | Behaviour::CloseAfterHandshake
            | Behaviour::DelayedHttp { .. }
            | Behaviour::Answer(_),
            None,
        ) => Ok(()),
    }
}

/// Completes the handshake, waits `delay` if there is one, reads the request head, keeps it in
/// `requests` and answers what `answer` gives for its method.
async fn answer_http(
    tcp: TcpStream,
    acceptor: TlsAcceptor,
    delay: Option<Duration>,
    requests: &Kept,
    answer: impl FnOnce(&str) -> Vec<u8>,
) -> io::Result<()> {
    let mut tls = acceptor.accept(tcp).await?;
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let Some(head) = read_head(&mut tls).await? else {
        return Ok(());
    };
    let (method, target) = request_line(&head).unwrap_or_default();
    let answer = answer(&method);
    {
        let mut kept = requests.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() < MAX_KEPT_REQUESTS {
            let end = head
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(head.len(), |at| at + 4);
            kept.push(Request {
                method,
                target,
                head: String::from_utf8_lossy(&head[..end]).into_owned(),
            });
        }
    }
    tls.write_all(&answer).await?;
    // Sends close_notify and then FIN.
    tls.shutdown().await?;
    drain(&mut tls).await;
    Ok(())
}

/// Completes the handshake, then closes the TCP stream without close_notify.
async fn close_after_handshake(tcp: TcpStream, acceptor: TlsAcceptor) -> io::Result<()> {
    let tls = acceptor.accept(tcp).await?;
    let (mut tcp, _session) = tls.into_inner();
    // FIN without close_notify: the client sees a truncated TLS stream.
    tcp.shutdown().await?;
    drain(&mut tcp).await;
    Ok(())
}

/// Reads the ClientHello, then resets the connection.
async fn reset_after_client_hello(mut tcp: TcpStream) -> io::Result<()> {
    read_client_hello(&mut tcp).await?;
    // A zero linger makes close send RST. It never blocks, unlike other linger values
    // (the reason tokio deprecates set_linger); set_zero_linger needs tokio 1.50.
    #[allow(deprecated)]
    tcp.set_linger(Some(Duration::ZERO))?;
    drop(tcp);
    Ok(())
}

/// Reads what the client sends and never answers.
async fn stay_silent(mut tcp: TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 1024];
    let mut total = 0;
    while total <= MAX_READ {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        total += n;
    }
    // The client keeps talking to a server that never answers: just hold on.
    tokio::time::sleep(SILENT_HOLD).await;
    Ok(())
}

/// Reads the ClientHello and answers bytes that are not TLS.
async fn answer_garbage(mut tcp: TcpStream) -> io::Result<()> {
    read_client_hello(&mut tcp).await?;
    tcp.write_all(&garbage()).await?;
    tcp.shutdown().await?;
    drain(&mut tcp).await;
    Ok(())
}

/// Reads the client's first TLS record (the ClientHello), so that whatever the server does
/// next happens after the client has sent it. Stops early on anything that is not TLS.
async fn read_client_hello(tcp: &mut TcpStream) -> io::Result<usize> {
    let mut buf = vec![0u8; MAX_READ];
    let mut filled = 0;
    while filled < buf.len() {
        let n = tcp.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
        if first_record_complete(&buf[..filled]) {
            break;
        }
    }
    Ok(filled)
}

/// True once `bytes` holds a whole TLS record, or clearly do not start with a handshake record.
fn first_record_complete(bytes: &[u8]) -> bool {
    const HANDSHAKE: u8 = 0x16;
    match bytes {
        [] => false,
        [first, ..] if *first != HANDSHAKE => true,
        [_, _, _, hi, lo, rest @ ..] => rest.len() >= usize::from(u16::from_be_bytes([*hi, *lo])),
        _ => false,
    }
}

/// Waits, bounded in time and bytes, for the client to close its side. Closing a socket with
/// unread data makes the kernel send RST, which could destroy the answer before the client
/// reads it.
async fn drain<R: AsyncRead + Unpin>(reader: &mut R) {
    let mut buf = [0u8; 1024];
    let mut total = 0;
    let _ = tokio::time::timeout(DRAIN_DEADLINE, async {
        while total < MAX_DRAIN {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

/// The answer of [`Behaviour::Http`] to a `method` request: the body left out for HEAD, its
/// length still announced.
fn http_response(method: &str, status: u16, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\n{content}",
        reason = reason_phrase(status),
        length = body.len(),
        content = if method == "HEAD" { "" } else { body },
    )
    .into_bytes()
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        407 => "Proxy Authentication Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// What a misconfigured plain-HTTP port answers to a ClientHello, plus junk. The junk is a
/// fixed pseudo-random pattern so that failures reproduce.
fn garbage() -> Vec<u8> {
    let mut bytes = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec();
    let mut state: u32 = 0x9e37_79b9;
    for _ in 0..64 {
        // xorshift32
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        bytes.push(state.to_be_bytes()[0]);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Ca, KeyKind, LabError, LeafSpec, Pki};
    use crate::net::handshake::RecordingVerifier;
    use rustls::pki_types::ServerName;
    use rustls::{ClientConfig, RootCertStore};
    use tokio_rustls::TlsConnector;

    const CLIENT_PATIENCE: Duration = Duration::from_secs(10);

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }

    fn client_trusting(
        root: &Ca,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> ClientConfig {
        let mut roots = RootCertStore::empty();
        roots.add(root.der().clone()).unwrap();
        ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth()
    }

    fn all_versions() -> [&'static rustls::SupportedProtocolVersion; 2] {
        [&rustls::version::TLS13, &rustls::version::TLS12]
    }

    async fn connect(
        server: &Server,
        config: ClientConfig,
        name: &str,
    ) -> io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(server.addr()).await?;
        let name = ServerName::try_from(name.to_owned()).unwrap();
        tokio::time::timeout(
            CLIENT_PATIENCE,
            TlsConnector::from(Arc::new(config)).connect(name, tcp),
        )
        .await?
    }

    async fn get(server: &Server, config: ClientConfig, name: &str) -> io::Result<String> {
        let request = format!("GET / HTTP/1.1\r\nHost: {name}\r\n\r\n");
        ask(server, config, name, &request).await
    }

    /// Sends `request` and reads the answer to its end.
    async fn ask(
        server: &Server,
        config: ClientConfig,
        name: &str,
        request: &str,
    ) -> io::Result<String> {
        let mut tls = connect(server, config, name).await?;
        tls.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        tokio::time::timeout(CLIENT_PATIENCE, tls.read_to_end(&mut answer)).await??;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    }

    fn ok_hello() -> Behaviour {
        Behaviour::Http {
            status: 200,
            body: "hello from the lab".to_owned(),
        }
    }

    fn pki(key: KeyKind) -> Pki {
        let mut spec = LeafSpec::new(["localhost", "127.0.0.1"]);
        spec.key = key;
        Pki::with_spec(key, &spec).unwrap()
    }

    #[tokio::test]
    async fn http_through_an_intermediate_answers_status_and_body() {
        let Pki { root, leaf, .. } = pki(KeyKind::EcdsaP256);
        let server = Server::start(leaf.chain(), leaf.key.clone_key(), ok_hello())
            .await
            .unwrap();
        assert_eq!(server.addr().ip(), Ipv4Addr::LOCALHOST);
        assert_eq!(server.port(), server.addr().port());

        let answer = get(
            &server,
            client_trusting(&root, &all_versions()),
            "localhost",
        )
        .await
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains("Content-Length: 18\r\n"), "{answer}");
        assert!(answer.contains("Connection: close\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\nhello from the lab"), "{answer}");
        assert_eq!(server.accepted(), 1);
    }

    #[tokio::test]
    async fn head_gets_the_head_and_post_the_body_and_both_are_kept() {
        let Pki { root, leaf, .. } = pki(KeyKind::EcdsaP256);
        let server = Server::start(leaf.chain(), leaf.key.clone_key(), ok_hello())
            .await
            .unwrap();
        let head = "HEAD /packages HTTP/1.1\r\nHost: localhost\r\n\r\n";
        let post = "POST /smartscreen HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n";

        let config = client_trusting(&root, &all_versions());
        let answer = ask(&server, config, "localhost", head).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        // the length of the body a GET would get, and no body
        assert!(answer.contains("Content-Length: 18\r\n"), "{answer}");
        assert!(answer.ends_with("Connection: close\r\n\r\n"), "{answer}");

        let config = client_trusting(&root, &all_versions());
        let answer = ask(&server, config, "localhost", post).await.unwrap();
        assert!(answer.ends_with("\r\n\r\nhello from the lab"), "{answer}");

        let kept: Vec<(String, String)> = server
            .requests()
            .into_iter()
            .map(|r| (r.method, r.target))
            .collect();
        assert_eq!(
            kept,
            [
                ("HEAD".to_string(), "/packages".to_string()),
                ("POST".to_string(), "/smartscreen".to_string())
            ]
        );
        assert_eq!(server.requests()[1].head, post);
    }

    #[tokio::test]
    async fn rsa_2048_leaf_works_over_tls12_and_tls13() {
        let Pki { root, leaf, .. } = pki(KeyKind::Rsa2048);
        let server = Server::start(
            leaf.chain(),
            leaf.key.clone_key(),
            Behaviour::Http {
                status: 404,
                body: String::new(),
            },
        )
        .await
        .unwrap();
        for versions in [
            &[&rustls::version::TLS12][..],
            &[&rustls::version::TLS13][..],
        ] {
            let answer = get(&server, client_trusting(&root, versions), "127.0.0.1")
                .await
                .unwrap();
            assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
        }
        assert_eq!(server.accepted(), 2);
    }

    #[tokio::test]
    async fn missing_intermediate_fails_verification() {
        let Pki { root, leaf, .. } = pki(KeyKind::EcdsaP256);
        let server = Server::start(vec![leaf.cert.clone()], leaf.key.clone_key(), ok_hello())
            .await
            .unwrap();
        let err = connect(
            &server,
            client_trusting(&root, &all_versions()),
            "localhost",
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    }

    #[tokio::test]
    async fn reset_after_client_hello_fails_the_handshake_with_a_reset() {
        let server = Server::start_raw(Behaviour::ResetAfterClientHello)
            .await
            .unwrap();
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let err = connect(
            &server,
            client_trusting(&root, &all_versions()),
            "localhost",
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        assert_eq!(server.accepted(), 1);
    }

    #[tokio::test]
    async fn silent_server_never_answers() {
        let server = Server::start_raw(Behaviour::Silent).await.unwrap();
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let tcp = TcpStream::connect(server.addr()).await.unwrap();
        let config = Arc::new(client_trusting(&root, &all_versions()));
        let name = ServerName::try_from("localhost").unwrap();
        let handshake = TlsConnector::from(config).connect(name, tcp);
        let waited = tokio::time::timeout(Duration::from_millis(300), handshake).await;
        assert!(waited.is_err(), "the handshake should still be waiting");
        assert_eq!(server.accepted(), 1);
    }

    #[tokio::test]
    async fn garbage_fails_the_handshake_as_invalid_data() {
        let server = Server::start_raw(Behaviour::Garbage).await.unwrap();
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let err = connect(
            &server,
            client_trusting(&root, &all_versions()),
            "localhost",
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    }

    #[tokio::test]
    async fn close_after_handshake_truncates_the_stream() {
        let Pki { root, leaf, .. } = pki(KeyKind::EcdsaP256);
        let server = Server::start(
            leaf.chain(),
            leaf.key.clone_key(),
            Behaviour::CloseAfterHandshake,
        )
        .await
        .unwrap();
        let err = get(
            &server,
            client_trusting(&root, &all_versions()),
            "localhost",
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
    }

    #[tokio::test]
    async fn delayed_http_answers_only_after_the_delay() {
        let Pki { root, leaf, .. } = pki(KeyKind::EcdsaP256);
        let delay = Duration::from_millis(200);
        let server = Server::start(
            leaf.chain(),
            leaf.key.clone_key(),
            Behaviour::DelayedHttp {
                status: 200,
                body: "late".to_owned(),
                delay,
            },
        )
        .await
        .unwrap();
        let config = client_trusting(&root, &all_versions());
        let mut tls = connect(&server, config, "localhost").await.unwrap();
        // the handshake is not delayed, the answer is
        let asked = Instant::now();
        tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(CLIENT_PATIENCE, tls.read_to_end(&mut answer))
            .await
            .unwrap()
            .unwrap();
        assert!(
            asked.elapsed() >= delay / 2,
            "answered after {:?}",
            asked.elapsed()
        );
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\nlate"), "{answer}");
        let raw = Server::start_raw(Behaviour::DelayedHttp {
            status: 200,
            body: String::new(),
            delay,
        })
        .await;
        assert!(matches!(
            raw,
            Err(LabError::NeedsCertificate("DelayedHttp"))
        ));
    }

    #[tokio::test]
    async fn capacity_bounds_the_connections_accepted() {
        let Pki { root, leaf, .. } = pki(KeyKind::EcdsaP256);
        let server = Server::start_with_capacity(leaf.chain(), leaf.key.clone_key(), ok_hello(), 2)
            .await
            .unwrap();
        for _ in 0..2 {
            let config = client_trusting(&root, &all_versions());
            let answer = get(&server, config, "localhost").await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        }
        // the listener closes once the capacity is used up
        let mut refused = false;
        for _ in 0..100 {
            if TcpStream::connect(server.addr()).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(refused, "a third connection was accepted");
        assert_eq!(server.accepted(), 2);
    }

    #[tokio::test]
    async fn chain_is_sent_exactly_as_given() {
        let Pki { root, inter, leaf } = pki(KeyKind::EcdsaP256);
        let stray = Ca::root("Stray Root", "Elsewhere", KeyKind::EcdsaP256).unwrap();
        // Wrong order, a root, and a stranger: all sent as they are.
        let chain = vec![
            leaf.cert.clone(),
            stray.der().clone(),
            root.der().clone(),
            inter.der().clone(),
        ];
        let server = Server::start(chain.clone(), leaf.key.clone_key(), ok_hello())
            .await
            .unwrap();
        let (recorder, recorded) = RecordingVerifier::new(provider());
        let config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&all_versions())
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(recorder)
            .with_no_client_auth();
        let answer = get(&server, config, "localhost").await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert_eq!(recorded.lock().unwrap().chain, chain);
    }

    #[tokio::test]
    async fn leaf_out_of_first_place_still_starts() {
        let Pki { inter, leaf, .. } = pki(KeyKind::EcdsaP256);
        let started = Server::start(
            vec![inter.der().clone(), leaf.cert.clone()],
            leaf.key,
            ok_hello(),
        )
        .await;
        assert!(started.is_ok());
    }

    #[tokio::test]
    async fn self_signed_leaf_is_served() {
        let leaf = Ca::self_signed_leaf(&LeafSpec::new(["localhost"])).unwrap();
        let server = Server::start(leaf.chain(), leaf.key.clone_key(), ok_hello())
            .await
            .unwrap();
        let mut roots = RootCertStore::empty();
        roots.add(leaf.cert.clone()).unwrap();
        let config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&all_versions())
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let answer = get(&server, config, "localhost").await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert_eq!(server.accepted(), 1);
    }

    #[tokio::test]
    async fn misuse_is_an_error() {
        let Pki { leaf, .. } = pki(KeyKind::EcdsaP256);
        let empty = Server::start(Vec::new(), leaf.key, ok_hello()).await;
        assert!(matches!(empty, Err(LabError::EmptyChain)));
        let raw = Server::start_raw(ok_hello()).await;
        assert!(matches!(raw, Err(LabError::NeedsCertificate("Http"))));
        let raw = Server::start_raw(Behaviour::CloseAfterHandshake).await;
        assert!(matches!(raw, Err(LabError::NeedsCertificate(_))));
    }

    #[tokio::test]
    async fn closed_port_refuses_connections() {
        let port = closed_port().unwrap();
        let err = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }

    #[tokio::test]
    async fn dropping_the_server_stops_it() {
        let server = Server::start_raw(Behaviour::Silent).await.unwrap();
        let addr = server.addr();
        let held = TcpStream::connect(addr).await.unwrap();
        drop(server);
        let mut refused = false;
        for _ in 0..100 {
            if TcpStream::connect(addr).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(refused, "listener still open after drop");
        // The silent connection was aborted with the server, so the client sees its end.
        let mut held = held;
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(CLIENT_PATIENCE, held.read(&mut buf))
            .await
            .unwrap();
        assert!(matches!(read, Ok(0) | Err(_)));
    }
}
