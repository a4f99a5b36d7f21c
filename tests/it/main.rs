//! The integration tests of pinprobe: the built binary against lab servers on loopback.
//!
//! `verdicts` shows each verdict with its evidence, `cli` the command line's contract (exit
//! status, order, reports, configuration errors). `support` holds the shared builders.

mod cli;
mod support;
mod verdicts;
