//! Unit tests of the command line: its definitions are consistent, the rule for a
//! subcommand-looking word in URL position, and the completions and man page made from them.

use std::ffi::OsString;

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::mistyped::{edit_distance, shell_word, subcommand_in_url_position};
use super::reference::{completions, man_page};
use super::Cli;

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn edits_between_words() {
    let cases = [
        ("inspect", "inspect", 0),
        ("inpsect", "inspect", 1),
        ("insepct", "inspect", 1),
        ("ispect", "inspect", 1),
        ("inpsetc", "inspect", 2),
        ("tset", "test", 1),
        ("pins", "pin", 1),
        ("", "pin", 3),
    ];
    for (a, b, want) in cases {
        assert_eq!(edit_distance(a, b), want, "{a} {b}");
    }
}

#[test]
fn bare_words_near_a_subcommand_are_refused_others_are_hosts() {
    let args = |line: &str| -> Vec<OsString> { line.split(' ').map(OsString::from).collect() };
    for host in [
        "example.com",
        "localhost",
        "intranet-host",
        "inspect.example",
        "inpsect:443",
        "https://inspect/",
        "10.0.0.1",
        "::1",
        "pin.corp",
    ] {
        assert_eq!(
            subcommand_in_url_position(host, &args(&format!("pinprobe {host}"))),
            Ok(()),
            "{host}"
        );
    }
    for (word, meant) in [
        ("inpsect", "inspect"),
        ("Inspect", "inspect"),
        ("insp", "inspect"),
        ("dmeo", "demo"),
        ("pinz", "pin"),
        ("tets", "test"),
    ] {
        let e = subcommand_in_url_position(word, &args(&format!("pinprobe {word} a.test")))
            .unwrap_err();
        assert!(
            e.starts_with(&format!(
                "'{word}' looks like a mistyped subcommand; did you mean '{meant}'?"
            )) && e.contains(&format!("write https://{word}/")),
            "{e}"
        );
    }
    let e = subcommand_in_url_position(
        "inspect",
        &args("pinprobe --pinset a --cacert c_d inspect example.com")
            .into_iter()
            .map(|a| if a == "c_d" { "c d".into() } else { a })
            .collect::<Vec<_>>(),
    )
    .unwrap_err();
    assert!(
        e.starts_with("'inspect' comes after flags, so it was read as a URL of the default command 'test'; put the flags after the subcommand: pinprobe inspect --pinset a --cacert 'c d' example.com\n"),
        "{e}"
    );
}

#[test]
fn a_flag_the_subcommand_does_not_take_is_named() {
    let args: Vec<OsString> = ["pinprobe", "-v", "inspect", "example.com"]
        .map(OsString::from)
        .to_vec();
    let e = subcommand_in_url_position("inspect", &args).unwrap_err();
    assert!(
        e.contains("flags go after the subcommand, but 'inspect' does not take '-v' (inspect always shows every detail, with pins in base64 and hex): see `pinprobe inspect --help`"),
        "{e}"
    );
}

#[test]
fn arguments_are_quoted_for_the_shell() {
    assert_eq!(shell_word(&"--pinset".into()), "--pinset");
    assert_eq!(shell_word(&"a b".into()), "'a b'");
    assert_eq!(shell_word(&"it's".into()), r"'it'\''s'");
    assert_eq!(shell_word(&"".into()), "''");
}

/// The words of every subcommand after `pinprobe` (`["pins", "convert"]`), from clap's own
/// definitions, so that a new subcommand is checked without changing the test.
fn every_subcommand(command: &clap::Command, above: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for sub in command.get_subcommands() {
        let mut words = above.to_vec();
        words.push(sub.get_name().to_string());
        found.extend(every_subcommand(sub, &words));
        found.push(words);
    }
    found
}

#[test]
fn completions_and_the_man_page_name_every_subcommand() {
    let subcommands = every_subcommand(&Cli::command(), &[]);
    assert!(
        subcommands.iter().any(|w| w == &["pins", "convert"]),
        "{subcommands:?}"
    );
    for shell in Shell::value_variants() {
        let script = String::from_utf8(completions(*shell)).unwrap();
        assert!(script.len() > 1000, "{shell}: {script}");
        for words in &subcommands {
            let name = words.last().unwrap();
            assert!(
                script.contains(name.as_str()),
                "{shell} completions lack {name}"
            );
        }
    }
    // roff writes a hyphen as \-
    let page = String::from_utf8(man_page().unwrap())
        .unwrap()
        .replace("\\-", "-");
    assert!(
        page.starts_with(".ie") && page.contains(".TH PINPROBE 1"),
        "{page}"
    );
    for words in &subcommands {
        let name = format!("pinprobe {}", words.join(" "));
        assert!(
            page.contains(&format!("\\fB{name}\\fR")),
            "the man page lacks {name}"
        );
        assert!(
            page.contains(&format!(".SH \"{}\"", name.to_uppercase())),
            "no section for {name}"
        );
    }
    // every flag of every command is in the page, under its command
    for flag in [
        "--pinnedpubkey",
        "--shared-set",
        "--allow-untrusted",
        "--host",
    ] {
        assert!(page.contains(flag), "the man page lacks {flag}");
    }
}
