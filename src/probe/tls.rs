//! The TLS handshake with the recording verifier: the chain is kept whatever the outcome, and
//! a handshake that broke is described by what broke it.

use std::sync::Arc;
use std::time::Instant;

use rustls::pki_types::CertificateDer;
use tokio::net::TcpStream;
use tokio::time::timeout_at;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::context::Context;
use super::result::{ms, ProbeResult, TlsParams};
use super::{seconds, Deadlines};
use crate::endpoint::Endpoint;
use crate::net::handshake;
use crate::verdict::{NetFailure, Phase, Stop};

/// Runs the handshake over `tcp`. The presented chain lands in `chain` even when the
/// handshake fails after the server sent it.
pub(super) async fn handshake(
    ctx: &Context,
    endpoint: &Endpoint,
    tcp: TcpStream,
    clock: &Deadlines,
    r: &mut ProbeResult,
    chain: &mut Vec<CertificateDer<'static>>,
) -> Result<TlsStream<TcpStream>, NetFailure> {
    let t = Instant::now();
    let (config, recorded) = handshake::for_probe(&ctx.base, Arc::clone(&ctx.provider));
    let connector = TlsConnector::from(config);
    let outcome = timeout_at(
        clock.connect,
        connector.connect(endpoint.server_name.clone(), tcp),
    )
    .await;
    r.timings_ms.handshake = Some(ms(t));
    // the handshake is over (or abandoned): what the verifier recorded is moved out, not copied
    let signature_error = match recorded.lock() {
        Ok(mut rec) => {
            *chain = std::mem::take(&mut rec.chain);
            rec.signature_error.take()
        }
        Err(_) => None,
    };
    let tls = match outcome {
        Err(_) => {
            return Err(NetFailure {
                stop: Stop::Timeout(Phase::TlsHandshake),
                detail: format!(
                    "phase tls-handshake: the handshake did not complete within {}{}",
                    seconds(clock.connect_limit),
                    after_chain(chain.len())
                ),
            })
        }
        Ok(Err(e)) => {
            // a signature that could not be checked because the leaf's key is one TLS
            // clients refuse is that key's fault, not the handshake's
            let weak = signature_error
                .as_ref()
                .and_then(|_| chain.first())
                .and_then(|leaf| crate::chain::cert::CertInfo::analyse(0, leaf).weak_key());
            return Err(match weak {
                Some(weak) => NetFailure::new(
                    Stop::WeakLeafKey,
                    format!("{weak}, which TLS clients refuse: the server's handshake signature cannot be checked with it (curl: EE certificate key too weak)"),
                ),
                None => NetFailure::new(
                    Stop::Handshake,
                    handshake_text(&e, signature_error.as_deref(), chain.len()),
                ),
            });
        }
        Ok(Ok(tls)) => tls,
    };
    let (_, conn) = tls.get_ref();
    r.tls = Some(TlsParams {
        version: conn.protocol_version().map(|v| format!("{v:?}")),
        cipher_suite: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite())),
        kx_group: conn
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name())),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
    });
    Ok(tls)
}

fn after_chain(certificates: usize) -> String {
    if certificates == 0 {
        String::new()
    } else {
        format!(" (after the server sent {certificates} certificates)")
    }
}

fn handshake_text(
    e: &std::io::Error,
    signature_error: Option<&str>,
    certificates: usize,
) -> String {
    let after = after_chain(certificates);
    if let Some(sig) = signature_error {
        return format!(
            "the server's handshake signature does not verify with the leaf's key ({sig}){after}"
        );
    }
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let what = match tls {
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("the server sent the TLS alert {alert:?}")
        }
        Some(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::CertificatePayloadTooLarge
            | rustls::InvalidMessage::HandshakePayloadTooLarge,
        )) => "the server sent a handshake message larger than TLS clients accept (64 KiB): an oversized certificate chain".to_string(),
        Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::MessageTooLarge)) => {
            "the server sent a TLS record larger than the protocol allows".to_string()
        }
        Some(rustls::Error::InvalidMessage(m)) => {
            format!("the server answered with bytes that are not TLS ({m:?})")
        }
        Some(rustls::Error::InappropriateHandshakeMessage { .. })
        | Some(rustls::Error::InappropriateMessage { .. }) => {
            format!("the server broke the TLS protocol ({})", e)
        }
        Some(rustls::Error::PeerIncompatible(why)) => {
            format!(
                "the server and pinprobe have no TLS version or cipher suite in common ({why:?})"
            )
        }
        Some(other) => format!("TLS error: {other}"),
        None => match e.kind() {
            std::io::ErrorKind::ConnectionReset => {
                "the connection was reset during the handshake".into()
            }
            std::io::ErrorKind::UnexpectedEof => {
                "the server closed the connection during the handshake".into()
            }
            _ => format!("the handshake failed: {e}"),
        },
    };
    format!("{what}{after}")
}
