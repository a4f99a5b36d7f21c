//! `pinprobe completions SHELL` and `pinprobe man`: the shell completions (clap_complete) and
//! the man page (clap_mangen), made from the clap definitions themselves, so that they name
//! every subcommand and flag of the binary that writes them.
//!
//! The man page is one page, for one file to install: the name, synopsis and description of
//! `pinprobe`, a list of the commands, then a section per command (`PINPROBE INSPECT`) with its
//! usage and its flags under their help headings (`PINPROBE INSPECT: TRUST`).

use std::io;

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

use super::Cli;

/// The completion script for `shell`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "pinprobe", &mut script);
    script
}

/// The whole command line, built, without clap's `help` subcommand (`--help` is on every
/// command).
fn built() -> clap::Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

/// Every subcommand of `command`, depth first, with its words after `pinprobe` (`pins
/// convert`); `prefix` holds the words of `command` itself.
fn subcommands(command: &clap::Command, prefix: &str) -> Vec<(String, clap::Command)> {
    let mut found = Vec::new();
    for sub in command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let words = format!("{prefix}{}", sub.get_name());
        let below = subcommands(sub, &format!("{words} "));
        found.push((words, sub.clone()));
        found.extend(below);
    }
    found
}

/// The man page, in roff.
pub fn man_page() -> io::Result<Vec<u8>> {
    let command = built();
    let man = Man::new(command.clone()).title("PINPROBE");
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    // clap's usage lines (`pinprobe [OPTIONS] [URL]...`, `pinprobe <COMMAND>`), not
    // clap_mangen's synopsis, which lists every flag of `test` here
    let mut synopsis = Roff::new();
    synopsis.control("SH", ["SYNOPSIS"]);
    for line in usage(&command).lines() {
        synopsis.text([bold(line.trim().to_string())]);
        synopsis.control("br", []);
    }
    synopsis.to_writer(&mut page)?;
    man.render_description_section(&mut page)?;
    let commands = subcommands(&command, "");

    let mut list = Roff::new();
    list.control("SH", ["COMMANDS"]);
    list.text([roman(
        "With no command, pinprobe runs test: the flags before any URL are those of pinprobe test, below.",
    )]);
    for (words, sub) in &commands {
        list.control("TP", []);
        list.text([bold(format!("pinprobe {words}"))]);
        list.text([roman(about(sub))]);
    }
    list.to_writer(&mut page)?;

    for (words, sub) in commands {
        let name = format!("pinprobe {words}");
        let mut head = Roff::new();
        head.control("SH", [name.to_uppercase().as_str()]);
        let long = sub
            .get_long_about()
            .or_else(|| sub.get_about())
            .map(ToString::to_string)
            .unwrap_or_default();
        for paragraph in long.split("\n\n") {
            head.control("PP", []);
            head.text([roman(paragraph.replace('\n', " "))]);
        }
        head.control("PP", []);
        head.text([bold(usage(&sub))]);
        head.to_writer(&mut page)?;
        Man::new(headed(sub, &name)).render_options_section(&mut page)?;
    }
    man.render_version_section(&mut page)?;
    Ok(page)
}

/// clap's usage of a (built) command, without the word `Usage:`.
fn usage(command: &clap::Command) -> String {
    let text = command.clone().render_usage().to_string();
    text.trim_start_matches("Usage:").trim().to_string()
}

/// The one-line description of a command.
fn about(command: &clap::Command) -> String {
    command
        .get_about()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// `command` with every flag's help heading prefixed with the command's name, so that its
/// sections of the page say whose flags they hold.
fn headed(mut command: clap::Command, name: &str) -> clap::Command {
    command.build();
    command.mut_args(|arg| {
        let heading = format!("{name}: {}", arg.get_help_heading().unwrap_or("Options"));
        arg.help_heading(heading)
    })
}
