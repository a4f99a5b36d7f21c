//! The presented chain: analysis of each certificate and path building against anchor sets.

pub mod cert;
pub mod trust;
