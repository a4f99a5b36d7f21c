//! The loopback test lab: throwaway PKIs and deliberately misbehaving TLS servers and HTTP
//! proxies on `127.0.0.1`.
//!
//! The integration tests, the benchmark and `pinprobe demo` need real handshakes against
//! chains and failure modes that no public endpoint offers on demand (an intermediate-issued
//! leaf, a reset right after the ClientHello, a server that never answers, a proxy that wants
//! credentials). [`Ca`] and [`Pki`] mint the certificates with rcgen, [`Server`] serves them and
//! [`LabProxy`] tunnels to them, and [`HttpServer`] serves PAC files, each on an ephemeral
//! loopback port, so nothing here ever touches the network beyond loopback.
//!
//! This module is public only because the integration tests (`tests/it`) and the benchmark
//! (`benches/sweep/`) are crates of their own; it is hidden from the documentation and is
//! not a stable API. The demo's own scenery (which CA signs what, its pin sets and stand-in
//! trust stores) lives in `demo::world`.

mod http;
mod pki;
mod proxy;
mod server;

pub use http::{HttpServer, Reply};
pub use pki::{Ca, KeyKind, LabKey, Leaf, LeafSpec, Pki};
pub use proxy::{LabProxy, ProxyBehaviour, PROXY_VARS};
pub use server::{closed_port, Behaviour, Request, Server};

/// Why the lab could not build a certificate or start a server.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// rcgen refused the parameters (for example a name that is not a valid DNS name) or
    /// could not generate a key.
    #[error("generating a lab certificate failed")]
    Certificate(#[from] rcgen::Error),
    /// Binding or configuring a loopback socket failed.
    #[error("lab socket i/o failed")]
    Io(#[from] std::io::Error),
    /// rustls rejected the server configuration (for example a private key it cannot load).
    #[error("building the lab tls configuration failed")]
    Tls(#[from] rustls::Error),
    /// [`Server::start`] was given no certificate to present.
    #[error("the server chain is empty: pass at least the leaf certificate")]
    EmptyChain,
    /// [`Server::start_raw`] was asked for a behaviour that completes a TLS handshake.
    #[error("behaviour {0} completes a tls handshake and needs a certificate: use Server::start")]
    NeedsCertificate(&'static str),
}
