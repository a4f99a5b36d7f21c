//! A plain-HTTP server on loopback that answers by path: PAC files and WPAD discovery travel
//! over plain HTTP, so their tests need a server that can also redirect, refuse or stall.
//!
//! Bounded like the TLS servers: connections, bytes read, time; dropping it stops it.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::LabError;

/// Most connections one server accepts over its lifetime.
const MAX_CONNECTIONS: usize = 64;
/// Most bytes of a request head read, by this server, the TLS servers and the proxies.
const MAX_HEAD: usize = 16 * 1024;
/// Longest a connection lives, and how long [`Reply::Silent`] holds one.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(30);
/// What every path without a route gets.
const NOT_FOUND: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found";

/// What an [`HttpServer`] answers for a path.
#[derive(Clone, Debug)]
pub enum Reply {
    /// these bytes, a whole answer (status line, headers, body), or to HEAD only their head (up
    /// to the blank line); then the server closes
    Raw(Vec<u8>),
    /// reads the request and never answers
    Silent,
}

impl Reply {
    /// `200 OK` with a PAC file's content type (`application/x-ns-proxy-autoconfig`) and `body`.
    pub fn pac(body: &str) -> Reply {
        Reply::Raw(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-ns-proxy-autoconfig\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }
}

/// A running plain-HTTP server on `127.0.0.1`; dropping it stops it.
#[derive(Debug)]
pub struct HttpServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl HttpServer {
    /// Starts a server on `127.0.0.1:0` answering each path of `routes` (exactly as in the
    /// request line, `/proxy.pac`) with its reply, and any other path with 404, whatever the
    /// method; the answer to HEAD is the head alone.
    pub async fn start<'a>(
        routes: impl IntoIterator<Item = (&'a str, Reply)>,
    ) -> Result<HttpServer, LabError> {
        let routes: Vec<(String, Reply)> = routes
            .into_iter()
            .map(|(path, reply)| (path.to_string(), reply))
            .collect();
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let task = runtime.spawn(serve(listener, Arc::new(routes)));
        Ok(HttpServer { addr, task })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        // the JoinSet of connections is dropped with the task, which aborts them too
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, routes: Arc<Vec<(String, Reply)>>) {
    let mut connections = JoinSet::new();
    for _ in 0..MAX_CONNECTIONS {
        while connections.try_join_next().is_some() {}
        let Ok((tcp, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let routes = Arc::clone(&routes);
        connections.spawn(async move {
            let _ = tokio::time::timeout(CONNECTION_DEADLINE, answer(tcp, &routes)).await;
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn answer(mut tcp: TcpStream, routes: &[(String, Reply)]) -> io::Result<()> {
    let Some(head) = read_head(&mut tcp).await? else {
        return Ok(());
    };
    let (method, path) = request_line(&head).unzip();
    let reply = routes
        .iter()
        .find(|(p, _)| Some(p.as_str()) == path.as_deref())
        .map(|(_, r)| r);
    let bytes = match reply {
        Some(Reply::Raw(bytes)) => bytes.as_slice(),
        Some(Reply::Silent) => {
            tokio::time::sleep(CONNECTION_DEADLINE).await;
            return Ok(());
        }
        None => NOT_FOUND,
    };
    // RFC 9110 9.3.2: the answer to HEAD is the answer to GET without its content
    let bytes = if method.as_deref() == Some("HEAD") {
        head_of(bytes)
    } else {
        bytes
    };
    tcp.write_all(bytes).await?;
    tcp.shutdown().await
}

/// The head of an answer: its bytes up to and with the first blank line (all of them if
/// there is none).
fn head_of(answer: &[u8]) -> &[u8] {
    answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer, |at| &answer[..at + 4])
}

/// Reads until the end of an HTTP request head (the blank line) and returns what was read.
/// None if the client stopped or sent more than 16 KiB without ending it.
pub(super) async fn read_head<R: AsyncRead + Unpin>(reader: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while head.len() < MAX_HEAD {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(Some(head));
        }
    }
    Ok(None)
}

/// The method and the target of a request head's first line (`CONNECT host:443`,
/// `GET /proxy.pac`).
pub(super) fn request_line(head: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let mut words = text.split_whitespace();
    Some((words.next()?.to_string(), words.next()?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(server: &HttpServer, path: &str) -> String {
        ask(server, "GET", path).await
    }

    async fn ask(server: &HttpServer, method: &str, path: &str) -> String {
        let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
        tcp.write_all(format!("{method} {path} HTTP/1.1\r\nHost: lab\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer))
            .await
            .unwrap()
            .unwrap();
        String::from_utf8(answer).unwrap()
    }

    #[tokio::test]
    async fn answers_by_path_and_404_elsewhere() {
        let server = HttpServer::start([
            ("/proxy.pac", Reply::pac("function FindProxyForURL() {}")),
            ("/slow.pac", Reply::Silent),
        ])
        .await
        .unwrap();
        assert_eq!(
            server.url("/proxy.pac"),
            format!("http://{}/proxy.pac", server.addr())
        );
        let pac = get(&server, "/proxy.pac").await;
        assert!(pac.starts_with("HTTP/1.1 200 OK\r\n"), "{pac}");
        assert!(pac.contains("application/x-ns-proxy-autoconfig"), "{pac}");
        assert!(
            pac.ends_with("\r\n\r\nfunction FindProxyForURL() {}"),
            "{pac}"
        );
        assert!(get(&server, "/other").await.starts_with("HTTP/1.1 404 "));

        // HEAD: the same head, with the length of the body it leaves out
        let head = ask(&server, "HEAD", "/proxy.pac").await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("Content-Length: 29\r\n"), "{head}");
        assert!(head.ends_with("\r\n\r\n"), "{head}");
        let head = ask(&server, "HEAD", "/other").await;
        assert_eq!(head, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n");

        let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
        tcp.write_all(b"GET /slow.pac HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1];
        let waited = tokio::time::timeout(Duration::from_millis(300), tcp.read(&mut buf)).await;
        assert!(waited.is_err(), "a silent reply never answers");
    }
}
