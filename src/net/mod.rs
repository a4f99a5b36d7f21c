//! The network side of a probe: name resolution, the TLS handshake and the HTTP check.

pub mod handshake;
pub mod http;
pub mod resolve;
