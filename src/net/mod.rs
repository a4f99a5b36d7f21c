//! The network side of a probe: name resolution, the TLS handshake and the HTTP check (the
//! route and the proxy are `crate::proxy`'s).

pub mod handshake;
pub mod http;
pub mod resolve;
