//! The tunnel: CONNECT through the route's proxy, and what the proxy's answer means when it
//! did not open one.

use std::time::Instant;

use tokio::net::TcpStream;
use tokio::time::timeout_at;

use super::result::{ms, ProbeResult};
use super::{seconds, Deadlines};
use crate::endpoint::Endpoint;
use crate::proxy::connect::{self, ConnectError};
use crate::proxy::Proxy;
use crate::verdict::{NetFailure, Phase, Stop};

/// Opens a tunnel to the endpoint through `p`; the proxy's answer is kept on the result.
pub(super) async fn open(
    tcp: &mut TcpStream,
    p: &Proxy,
    endpoint: &Endpoint,
    clock: &Deadlines,
    r: &mut ProbeResult,
) -> Result<(), NetFailure> {
    let t = Instant::now();
    let exchange = timeout_at(
        clock.connect,
        connect::connect(tcp, &endpoint.authority_with_port(), p),
    )
    .await;
    r.timings_ms.proxy = Some(ms(t));
    match exchange {
        Err(_) => Err(NetFailure {
            stop: Stop::Timeout(Phase::Proxy),
            detail: format!(
                "phase proxy: the proxy {} did not answer CONNECT within {}",
                p.url(),
                seconds(clock.connect_limit)
            ),
        }),
        Ok(Ok(answer)) => {
            r.proxy = Some(answer);
            Ok(())
        }
        Ok(Err(e)) => Err(proxy_failure(e, p, endpoint, r)),
    }
}

/// The verdict for a CONNECT that did not open a tunnel.
fn proxy_failure(
    e: ConnectError,
    p: &Proxy,
    endpoint: &Endpoint,
    r: &mut ProbeResult,
) -> NetFailure {
    let target = endpoint.authority_with_port();
    match e {
        ConnectError::Status(answer) => {
            let identity = answer.identity();
            let said = if identity.is_empty() {
                String::new()
            } else {
                format!(" ({})", identity.join(", "))
            };
            let failure = if answer.status == 407 {
                let schemes = answer.auth_schemes();
                let offered = if schemes.is_empty() {
                    "no scheme named".to_string()
                } else {
                    format!("it offers {}", schemes.join(", "))
                };
                let sent = if p.has_credentials() {
                    "; the credentials of the proxy URL were refused"
                } else {
                    ""
                };
                NetFailure {
                    stop: Stop::ProxyStatus(answer.status),
                    detail: format!(
                        "the proxy {} answered CONNECT {target} with 407 {}{said}: {offered}{sent}",
                        p.url(),
                        answer.reason
                    ),
                }
            } else {
                NetFailure {
                    stop: Stop::ProxyStatus(answer.status),
                    detail: format!(
                        "the proxy {} answered CONNECT {target} with {} {}{said}",
                        p.url(),
                        answer.status,
                        answer.reason
                    ),
                }
            };
            r.proxy = Some(answer);
            failure
        }
        other => NetFailure {
            stop: Stop::ProxyBroken,
            detail: format!(
                "the proxy {} did not open a tunnel to {target}: {other}",
                p.url()
            ),
        },
    }
}
