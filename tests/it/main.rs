//! The integration tests of pinprobe: the built binary against lab servers on loopback.
//!
//! `verdicts` shows each verdict with its evidence, `hostile` peers that misbehave, `cli` the
//! command line's contract (exit status, order, reports, configuration errors). `support` holds
//! the shared builders.

mod cli;
mod hostile;
mod inspect;
mod support;
mod verdicts;
