//! Loopback HTTP proxies that behave well or badly on purpose: a forwarding proxy that opens
//! CONNECT tunnels to lab servers, and the failures squid cannot be made to show (an answer
//! that is not HTTP, silence, a close right after `200`), plus 407 and refusals.
//!
//! An inspecting proxy is a forwarding proxy whose tunnel for a host leads to a lab server
//! presenting a chain re-signed by an inspection CA: from the client's side the two are the
//! same. Everything is bounded like the lab servers: connections, bytes read, time.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::http::{read_head, request_line};
use super::LabError;

/// Longest a tunnel or a connection lives.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(30);
/// Most connections one proxy accepts over its lifetime.
const MAX_CONNECTIONS: usize = 1024;
/// How long a silent proxy holds a connection.
const SILENT_HOLD: Duration = Duration::from_secs(60);

/// The proxy variables of curl and pinprobe, in both cases: a child process run against lab
/// servers (the tests' pinprobe, the benchmark's clients) is started without them, so that its
/// loopback traffic goes to no proxy of the machine.
pub const PROXY_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// What a lab proxy does with each CONNECT.
#[derive(Clone, Debug)]
pub enum ProxyBehaviour {
    /// Opens a tunnel to the address mapped for the request's `host:port` (502 for others),
    /// answering `200 Connection established` with `Via: 1.1 pinprobe-lab-proxy`.
    Forward {
        /// `host:port` as in the CONNECT line, to the lab address it leads to
        targets: HashMap<String, SocketAddr>,
    },
    /// Answers `407 Proxy Authentication Required` offering Basic and Negotiate.
    AuthRequired,
    /// Answers the given status (e.g. 403) and closes.
    Refuse(u16),
    /// Answers bytes that are not HTTP.
    Garbage,
    /// Reads the request and never answers.
    Silent,
    /// Answers `200 Connection established`, then closes the connection.
    CloseAfterConnect,
    /// Answers these bytes as they are (a head with hostile headers), then closes.
    Answer(Vec<u8>),
}

/// A running lab proxy on `127.0.0.1`; dropping it stops it.
#[derive(Debug)]
pub struct LabProxy {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl LabProxy {
    /// Starts a proxy on `127.0.0.1:0`.
    pub async fn start(behaviour: ProxyBehaviour) -> Result<LabProxy, LabError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let task = runtime.spawn(serve(listener, Arc::new(behaviour)));
        Ok(LabProxy { addr, task })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for LabProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, behaviour: Arc<ProxyBehaviour>) {
    let mut connections = JoinSet::new();
    for _ in 0..MAX_CONNECTIONS {
        while connections.try_join_next().is_some() {}
        let Ok((tcp, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let behaviour = Arc::clone(&behaviour);
        connections.spawn(async move {
            let hold = match *behaviour {
                ProxyBehaviour::Silent => SILENT_HOLD,
                _ => CONNECTION_DEADLINE,
            };
            let _ = tokio::time::timeout(hold, handle(tcp, &behaviour)).await;
        });
    }
    // refuse new clients but let the open tunnels end; each has its own deadline
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn handle(mut tcp: TcpStream, behaviour: &ProxyBehaviour) -> io::Result<()> {
    let Some(target) = read_connect(&mut tcp).await? else {
        return Ok(());
    };
    match behaviour {
        ProxyBehaviour::Forward { targets } => {
            let Some(addr) = targets.get(&target) else {
                tcp.write_all(b"HTTP/1.1 502 Bad Gateway\r\nVia: 1.1 pinprobe-lab-proxy\r\nContent-Length: 0\r\n\r\n")
                    .await?;
                return Ok(());
            };
            let mut upstream = TcpStream::connect(addr).await?;
            tcp.write_all(
                b"HTTP/1.1 200 Connection established\r\nVia: 1.1 pinprobe-lab-proxy\r\n\r\n",
            )
            .await?;
            tokio::io::copy_bidirectional(&mut tcp, &mut upstream).await?;
            Ok(())
        }
        ProxyBehaviour::AuthRequired => {
            tcp.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"pinprobe lab\"\r\nProxy-Authenticate: Negotiate\r\nVia: 1.1 pinprobe-lab-proxy\r\nContent-Length: 0\r\n\r\n",
            )
            .await
        }
        ProxyBehaviour::Refuse(status) => {
            tcp.write_all(
                format!(
                    "HTTP/1.1 {status} Refused\r\nVia: 1.1 pinprobe-lab-proxy\r\nContent-Length: 0\r\n\r\n"
                )
                .as_bytes(),
            )
            .await
        }
        ProxyBehaviour::Garbage => {
            tcp.write_all(b"\x00\x01 this is not HTTP \xff\xfe\r\n\r\n")
                .await
        }
        ProxyBehaviour::Silent => {
            tokio::time::sleep(SILENT_HOLD).await;
            Ok(())
        }
        ProxyBehaviour::CloseAfterConnect => {
            tcp.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await?;
            tcp.shutdown().await
        }
        ProxyBehaviour::Answer(bytes) => {
            tcp.write_all(bytes).await?;
            tcp.shutdown().await
        }
    }
}

/// Reads a request head and returns the CONNECT target, or None for anything else.
async fn read_connect(tcp: &mut TcpStream) -> io::Result<Option<String>> {
    Ok(read_head(tcp)
        .await?
        .and_then(|head| request_line(&head))
        .and_then(|(method, target)| (method == "CONNECT").then_some(target)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::connect::{connect, ConnectError};
    use crate::proxy::Proxy;

    #[tokio::test]
    async fn behaviours_as_the_probe_sees_them() {
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up = upstream.local_addr().unwrap();
        let targets = HashMap::from([("lab.test:443".to_string(), up)]);
        let cases: Vec<(ProxyBehaviour, &str)> = vec![
            (ProxyBehaviour::Forward { targets }, "ok"),
            (ProxyBehaviour::AuthRequired, "407"),
            (ProxyBehaviour::Refuse(403), "403"),
            (ProxyBehaviour::Garbage, "malformed"),
            (ProxyBehaviour::CloseAfterConnect, "ok"),
        ];
        for (behaviour, expect) in cases {
            let proxy = LabProxy::start(behaviour.clone()).await.unwrap();
            let mut tcp = TcpStream::connect(proxy.addr()).await.unwrap();
            let p = Proxy::parse(&proxy.url()).unwrap();
            let r = tokio::time::timeout(
                Duration::from_secs(5),
                connect(&mut tcp, "lab.test:443", &p),
            )
            .await
            .expect("bounded");
            let got = match &r {
                Ok(_) => "ok".to_string(),
                Err(ConnectError::Status(a)) => a.status.to_string(),
                Err(ConnectError::Malformed(_)) => "malformed".to_string(),
                Err(e) => e.to_string(),
            };
            assert_eq!(got, expect, "{behaviour:?}: {r:?}");
        }
        let silent = LabProxy::start(ProxyBehaviour::Silent).await.unwrap();
        let mut tcp = TcpStream::connect(silent.addr()).await.unwrap();
        let p = Proxy::parse(&silent.url()).unwrap();
        let r = tokio::time::timeout(
            Duration::from_millis(300),
            connect(&mut tcp, "lab.test:443", &p),
        )
        .await;
        assert!(r.is_err(), "a silent proxy never answers");
    }
}
