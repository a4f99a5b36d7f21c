//! The integration tests of pinprobe: the built binary against lab servers on loopback.
//!
//! `verdicts` shows each verdict with its evidence, `hostile` peers that misbehave, `cli` the
//! command line's contract (exit status, order, reports, configuration errors), `demo` the
//! self-contained lab of `pinprobe demo`, `inspect` the chain analysis of one endpoint or file,
//! `proxy` probes through real squid instances (`squid`) and misbehaving lab proxies, `convert`
//! pin files of other tools (`tests/data/pins/`) to profiles and back.
//! `support` holds the shared builders.

mod cli;
mod convert;
mod demo;
mod hostile;
mod inspect;
mod proxy;
mod squid;
mod support;
mod verdicts;
