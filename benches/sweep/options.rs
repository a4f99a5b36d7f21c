//! The bench's flags (after `cargo bench --bench sweep --`), read by hand: the bench has no
//! dependency of its own, and cargo passes arguments of its own (`--bench`, a filter) that mean
//! nothing here.

use std::path::PathBuf;

/// The binary cargo built for this bench (the release profile); `--pinprobe PATH` replaces it.
const PINPROBE: &str = env!("CARGO_BIN_EXE_pinprobe");

#[derive(Debug)]
pub struct Options {
    /// `cargo bench` passes `--bench`
    pub bench: bool,
    pub quick: bool,
    pub keep: bool,
    pub nginx: bool,
    pub sslyze: bool,
    pub wrap: Vec<String>,
    pub wrap_names: usize,
    pub wrap_ecdsa: bool,
    pub wrap_j: Option<usize>,
    pub pinprobe: PathBuf,
    pub python: PathBuf,
}

impl Options {
    pub fn parse(args: impl Iterator<Item = String>) -> Options {
        let mut o = Options {
            bench: false,
            quick: false,
            keep: false,
            nginx: true,
            sslyze: true,
            wrap: Vec::new(),
            wrap_names: 100,
            wrap_ecdsa: false,
            wrap_j: None,
            pinprobe: PathBuf::from(PINPROBE),
            python: PathBuf::from("python3"),
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => o.quick = true,
                "--keep" => o.keep = true,
                "--no-nginx" => o.nginx = false,
                "--no-sslyze" => o.sslyze = false,
                "--wrap" => {
                    o.wrap = args
                        .next()
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect()
                }
                "--wrap-ecdsa" => o.wrap_ecdsa = true,
                "--python" => {
                    if let Some(path) = args.next() {
                        o.python = PathBuf::from(path);
                    }
                }
                "--pinprobe" => {
                    if let Some(path) = args.next() {
                        o.pinprobe = PathBuf::from(path);
                    }
                }
                "--wrap-j" => o.wrap_j = args.next().and_then(|n| n.parse().ok()),
                "--wrap-names" => {
                    o.wrap_names = args
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(o.wrap_names)
                }
                "--bench" => o.bench = true,
                // cargo's own arguments (a filter, --nocapture) mean nothing here
                _ => {}
            }
        }
        o
    }
}
