//! The network side of a probe: name resolution, the route (direct or through an HTTP proxy),
//! the CONNECT exchange, the TLS handshake and the HTTP check.

pub mod handshake;
pub mod http;
pub mod proxy;
pub mod resolve;
pub mod route;
