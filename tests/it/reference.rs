//! `pinprobe completions SHELL` and `pinprobe man` as a user runs them: every shell's script
//! and the man page on standard output, exit status 0, naming every subcommand the binary's
//! own `--help` lists (walked down through each subcommand's `--help`, so a new one is
//! covered without changing the test), and a reader that stops early is no crash.

use std::io::Read as _;
use std::process::{Command, Stdio};

use crate::support::*;

/// The subcommands a `--help` text lists under `Commands:`, without `help`.
fn listed(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Every subcommand's words after `pinprobe`, from the binary's `--help` texts.
async fn every_subcommand() -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(words) = todo.pop() {
        let out = Probe::new().args(&words).args(["--help"]).run().await;
        out.assert_code(0);
        for name in listed(&out.stdout) {
            let mut below = words.clone();
            below.push(name);
            todo.push(below.clone());
            found.push(below);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_and_the_man_page_name_every_subcommand() {
    let subcommands = every_subcommand().await;
    for words in [
        &["inspect"][..],
        &["pins", "convert"],
        &["completions"],
        &["man"],
    ] {
        assert!(
            subcommands.iter().any(|w| w == words),
            "{words:?} not in {subcommands:?}"
        );
    }
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = Probe::new().args(["completions", shell]).run().await;
        out.assert_code(0);
        assert!(out.stdout.len() > 1000, "{shell}: {}", out.stdout);
        assert!(out.stderr.is_empty(), "{shell}: {}", out.stderr);
        for words in &subcommands {
            let name = words.last().expect("a word");
            assert!(
                out.stdout.contains(name.as_str()),
                "{shell} completions lack {name}"
            );
        }
    }
    let out = Probe::new().args(["man"]).run().await;
    out.assert_code(0);
    // roff writes a hyphen as \-
    let page = out.stdout.replace("\\-", "-");
    assert!(page.contains(".TH PINPROBE 1"), "{page}");
    for words in &subcommands {
        let name = format!("pinprobe {}", words.join(" "));
        assert!(page.contains(&name), "the man page lacks {name}");
    }

    let out = Probe::new().args(["completions", "tcsh"]).run().await;
    out.assert_code(2);
    assert!(
        out.stderr.contains("possible values: bash"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    for args in [&["man"][..], &["completions", "bash"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pinprobe"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pinprobe starts");
        // the reader goes away at once, as `pinprobe man | head -1` does
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut stderr)
            .expect("stderr is UTF-8");
        let status = child.wait().expect("pinprobe ends");
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}
