//! The network side of a probe: the TLS handshake (and, to come, resolution, proxies and HTTP).

pub mod handshake;
