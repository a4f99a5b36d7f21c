//! The integration tests of pinprobe: the built binary against lab servers on loopback.
//!
//! `verdicts` shows each verdict with its evidence, `hostile` peers that misbehave, `hostile_names`
//! certificate names that try to take over the terminal, `cli` the
//! command line's contract (exit status, order, reports, configuration errors), `demo` the
//! self-contained lab of `pinprobe demo`, `inspect` the chain analysis of one endpoint or file, `input` the size limits of the files
//! read and `-` for standard input,
//! `generate` the profiles `pinprobe pin` writes, `convert` pin files of other tools
//! (`tests/data/pins/`) to profiles and back, `proxy` probes through real squid instances
//! (`squid`) and misbehaving lab proxies, `ci` the drift reports, expiry warnings and CI report
//! formats, `scale` target lists and shards, `readme` the README's CI examples, `os_store` where the OS
//! store was read from (`SSL_CERT_FILE`, `SSL_CERT_DIR`, `--os-store`).
//! `output` the files pinprobe writes, `agent` the pin sets that carry their own anchors and
//! the Defender catalogs and onboarding packages, `prometheus` the exporter of `serve` scraped
//! by a real Prometheus and the textfile of `--format prometheus`, `curl` runs the real curl
//! beside `--pinnedpubkey`, `progress` reads the progress bar from a pseudo-terminal,
//! `reference` the shell completions and the man page, `fleet` the Jamf and Intune scripts of
//! `docs/fleet.md`, `reports` several reports of one run, how they agree with the exit status,
//! `--fail-on` and the summary line, `fuzz_corpus` the fuzz corpus (`fuzz/corpus/`) replayed
//! through the readers of untrusted input. `support` holds the shared builders.

mod agent;
mod ci;
mod cli;
mod convert;
mod curl;
mod demo;
mod fleet;
mod fuzz_corpus;
mod generate;
mod hostile;
mod hostile_names;
mod input;
mod inspect;
mod os_store;
mod output;
mod pac;
mod progress;
mod prometheus;
mod proxy;
mod readme;
mod reference;
mod reports;
mod scale;
mod squid;
mod support;
mod verdicts;
