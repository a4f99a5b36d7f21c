//! The CONNECT exchange with an HTTP proxy: send `CONNECT host:port HTTP/1.1`, read the answer
//! with a real HTTP parser, and turn every answer into data (tunnel open, credentials wanted,
//! refused, not HTTP).
//!
//! The answer is read up to the end of its head and no further, so that no byte of the tunnel
//! is taken by the proxy exchange. No deadline is applied here: the caller wraps the exchange
//! in its own.

use std::io;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Proxy;
use crate::net::http::header_slots;

/// Most bytes of a proxy's answer head that are read.
pub const MAX_HEAD: usize = 16 * 1024;

/// Headers of a proxy answer that help a diagnosis.
const TELLING_HEADERS: [&str; 6] = [
    "via",
    "server",
    "proxy-agent",
    "proxy-authenticate",
    "x-squid-error",
    "x-cache",
];

/// A proxy's answer to CONNECT.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProxyAnswer {
    /// status code
    pub status: u16,
    /// reason phrase
    pub reason: String,
    /// the headers that tell what the proxy is (Via, Server, Proxy-Agent, Proxy-Authenticate...)
    pub headers: Vec<(String, String)>,
}

impl ProxyAnswer {
    /// The authentication schemes offered by `Proxy-Authenticate` headers (e.g. `Basic`,
    /// `Negotiate`), in order, without duplicates.
    pub fn auth_schemes(&self) -> Vec<String> {
        let mut schemes: Vec<String> = Vec::new();
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("proxy-authenticate") {
                let scheme = value.split_whitespace().next().unwrap_or("").to_string();
                if !scheme.is_empty() && !schemes.contains(&scheme) {
                    schemes.push(scheme);
                }
            }
        }
        schemes
    }

    /// `Via`, `Server` and `Proxy-Agent`, as `name: value` texts.
    pub fn identity(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| {
                ["via", "server", "proxy-agent"].contains(&n.to_ascii_lowercase().as_str())
            })
            .map(|(n, v)| format!("{n}: {v}"))
            .collect()
    }
}

/// How the CONNECT exchange ended, when the tunnel did not open.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// the request could not be sent
    #[error("the CONNECT request could not be sent to the proxy: {0}")]
    Send(#[source] io::Error),
    /// reading the answer failed
    #[error("the connection to the proxy failed while reading its answer: {0}")]
    Read(#[source] io::Error),
    /// the proxy closed without an answer
    #[error("the proxy closed the connection without answering CONNECT")]
    Closed,
    /// the answer is not HTTP
    #[error("the proxy's answer to CONNECT is not HTTP: {0}")]
    Malformed(String),
    /// the proxy answered with a non-2xx status
    #[error("the proxy answered {} {}", .0.status, .0.reason)]
    Status(ProxyAnswer),
}

/// Sends CONNECT for `authority` (`host:port`) and reads the answer. `Ok` means the tunnel is
/// open and the stream is positioned at its first byte.
pub async fn connect(
    stream: &mut TcpStream,
    authority: &str,
    proxy: &Proxy,
) -> Result<ProxyAnswer, ConnectError> {
    let mut request = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: pinprobe/{}\r\nProxy-Connection: Keep-Alive\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(value) = proxy.authorization() {
        request.push_str(&format!("Proxy-Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(ConnectError::Send)?;
    stream.flush().await.map_err(ConnectError::Send)?;
    read_answer(stream).await
}

/// Reads the proxy's answer to CONNECT from `stream`, up to the end of its head and no
/// further. `Ok` means a 2xx answer: the tunnel is open.
pub async fn read_answer<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<ProxyAnswer, ConnectError> {
    let head = read_head(stream).await?;
    let answer = parse_answer(&head)?;
    if (200..300).contains(&answer.status) {
        Ok(answer)
    } else {
        Err(ConnectError::Status(answer))
    }
}

/// Reads the answer's head byte by byte up to the blank line: a head is a few hundred bytes,
/// and reading no further leaves the tunnel's first bytes in the socket for TLS.
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Vec<u8>, ConnectError> {
    let mut head = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(ConnectError::Malformed(format!(
                "the answer head is larger than {MAX_HEAD} bytes"
            )));
        }
        match stream.read(&mut byte).await {
            Ok(0) if head.is_empty() => return Err(ConnectError::Closed),
            Ok(0) => {
                return Err(ConnectError::Malformed(format!(
                    "the proxy closed the connection in the middle of its answer (\"{}\")",
                    shown(&head)
                )))
            }
            Ok(_) => head.push(byte[0]),
            Err(e) => return Err(ConnectError::Read(e)),
        }
        // a proxy that answers something else than HTTP is caught at its first line
        if head.ends_with(b"\r\n") || head.len() == 16 {
            let mut headers = header_slots(&head);
            if let Err(e) = httparse::Response::new(&mut headers).parse(&head) {
                return Err(ConnectError::Malformed(format!(
                    "{e} (\"{}\")",
                    shown(&head)
                )));
            }
        }
    }
    Ok(head)
}

/// The answer in a complete head, with the headers that tell what the proxy is.
fn parse_answer(head: &[u8]) -> Result<ProxyAnswer, ConnectError> {
    let mut headers = header_slots(head);
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(ConnectError::Malformed(format!(
                "incomplete answer head (\"{}\")",
                shown(head)
            )))
        }
        Err(e) => {
            return Err(ConnectError::Malformed(format!(
                "{e} (\"{}\")",
                shown(head)
            )))
        }
    }
    Ok(ProxyAnswer {
        status: response.code.unwrap_or(0),
        reason: response.reason.unwrap_or("").to_string(),
        headers: response
            .headers
            .iter()
            .filter(|h| TELLING_HEADERS.contains(&h.name.to_ascii_lowercase().as_str()))
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).trim().to_string(),
                )
            })
            .collect(),
    })
}

fn shown(bytes: &[u8]) -> String {
    bytes[..bytes.len().min(40)].escape_ascii().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::net::TcpListener;

    /// A one-connection proxy on 127.0.0.1:0 that answers with `answer` (in pieces of `chunk`
    /// bytes) and returns what it received.
    async fn fake_proxy(
        answer: &'static [u8],
        chunk: usize,
    ) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = vec![0u8; 4096];
            let n = s.read(&mut got).await.unwrap();
            got.truncate(n);
            for piece in answer.chunks(chunk.max(1)) {
                s.write_all(piece).await.unwrap();
                s.flush().await.unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            // keep the socket open a moment so the client sees data, not only a close
            tokio::time::sleep(Duration::from_millis(100)).await;
            got
        });
        (port, task)
    }

    async fn exchange(
        answer: &'static [u8],
        chunk: usize,
        proxy: &str,
    ) -> (Result<ProxyAnswer, ConnectError>, String, TcpStream) {
        let (port, task) = fake_proxy(answer, chunk).await;
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let proxy = Proxy::parse(&proxy.replace("PORT", &port.to_string())).unwrap();
        let r = tokio::time::timeout(
            Duration::from_secs(5),
            connect(&mut s, "cdn.example:443", &proxy),
        )
        .await
        .expect("bounded");
        let sent = String::from_utf8(task.await.unwrap()).unwrap();
        (r, sent, s)
    }

    #[tokio::test]
    async fn tunnel_opens_and_its_bytes_stay_in_the_socket() {
        let (r, sent, mut s) = exchange(
            b"HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\n\r\nTLS!",
            7,
            "http://127.0.0.1:PORT",
        )
        .await;
        let answer = r.unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.identity(), vec!["Via: 1.1 squid".to_string()]);
        assert!(sent.starts_with("CONNECT cdn.example:443 HTTP/1.1\r\nHost: cdn.example:443\r\n"));
        assert!(!sent.contains("Proxy-Authorization"));
        let mut rest = [0u8; 4];
        s.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"TLS!");
    }

    #[tokio::test]
    async fn credentials_are_sent_as_basic() {
        let (r, sent, _) = exchange(
            b"HTTP/1.1 200 OK\r\n\r\n",
            100,
            "http://user:pass@127.0.0.1:PORT",
        )
        .await;
        assert!(r.is_ok());
        assert!(
            sent.contains("Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"),
            "{sent}"
        );
    }

    #[tokio::test]
    async fn auth_required_lists_the_schemes() {
        let (r, _, _) = exchange(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nProxy-Authenticate: Negotiate\r\nServer: squid/5.7\r\nContent-Length: 0\r\n\r\n",
            13,
            "http://127.0.0.1:PORT",
        )
        .await;
        match r {
            Err(ConnectError::Status(a)) => {
                assert_eq!(a.status, 407);
                assert_eq!(a.auth_schemes(), vec!["Basic", "Negotiate"]);
                assert_eq!(a.identity(), vec!["Server: squid/5.7".to_string()]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_407_with_a_hundred_headers_lists_the_schemes() {
        let mut answer = String::from("HTTP/1.1 407 Proxy Authentication Required\r\n");
        for i in 0..99 {
            answer.push_str(&format!("X-Policy-{i}: corp\r\n"));
        }
        answer.push_str("Proxy-Authenticate: Basic realm=\"corp\"\r\n\r\n");
        let answer: &'static [u8] = answer.into_bytes().leak();
        let (r, _, _) = exchange(answer, 500, "http://127.0.0.1:PORT").await;
        match r {
            Err(ConnectError::Status(a)) => {
                assert_eq!(a.status, 407);
                assert_eq!(a.auth_schemes(), vec!["Basic"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn refusals_garbage_and_silence() {
        let (r, _, _) = exchange(b"HTTP/1.1 403 Forbidden\r\n\r\n", 100, "127.0.0.1:PORT").await;
        assert!(
            matches!(r, Err(ConnectError::Status(ref a)) if a.status == 403),
            "{r:?}"
        );
        let (r, _, _) = exchange(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", 100, "127.0.0.1:PORT").await;
        assert!(matches!(r, Err(ConnectError::Malformed(_))), "{r:?}");
        let (r, _, _) = exchange(b"", 100, "127.0.0.1:PORT").await;
        assert!(matches!(r, Err(ConnectError::Closed)), "{r:?}");
        let (r, _, _) = exchange(b"HTTP/1.1 200 OK\r\nVia: x", 100, "127.0.0.1:PORT").await;
        assert!(matches!(r, Err(ConnectError::Malformed(_))), "{r:?}");
    }
}
