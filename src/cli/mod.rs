//! The command line: clap definitions and their translation into the options of
//! `pinprobe::cmd`.
//!
//! Each subcommand has its own `Args`, built from the groups of flags it reads (how chains are
//! trusted, how endpoints are reached, where the proxy comes from, the profile, ...), so a flag
//! it would ignore is a usage error (exit status 2) and its `--help` lists only its flags.
//! Defaults come from the consts of `pinprobe::config`, which the library uses too.
//!
//! This file holds the top level ([`Cli`], [`Command`]) and [`parse`]; the rest has a file
//! each:
//!
//! - `groups`: the groups of flags the subcommands flatten in;
//! - `subcommands`: each subcommand's own arguments;
//! - `values`: the closed sets of flag values;
//! - `options`: the translation into the library's options;
//! - `mistyped`: a subcommand-looking word where a URL is read;
//! - `tips`: why a subcommand does not take a flag of `test`;
//! - `reference`: the shell completions and the man page.

mod groups;
mod mistyped;
mod options;
mod reference;
mod subcommands;
mod tips;
mod values;

#[cfg(test)]
mod tests;

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use pinprobe::cmd;

use mistyped::subcommand_in_url_position;
use subcommands::{
    CompletionsArgs, DemoArgs, InspectArgs, PinArgs, PinsArgs, PinsCommand, ServeArgs, TestArgs,
};
use tips::with_tip;

/// Finds out why a pinned TLS connection fails, and who is intercepting it.
///
/// With no arguments, probes the 14 Microsoft Defender for Endpoint cloud endpoints of the
/// bundled profile, as `mdatp connectivity test` does, and explains every failure.
#[derive(Debug, Parser)]
#[command(name = "pinprobe", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub test: TestArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe the endpoints (the default command)
    Test(TestArgs),
    /// Show everything about one endpoint's chain, or a chain saved in a PEM file
    Inspect(InspectArgs),
    /// Run a simulated lab on 127.0.0.1 and show each verdict (no network needed)
    Demo(DemoArgs),
    /// Write a profile (TOML) with the pins of live chains
    Pin(PinArgs),
    /// Work with pin files of other tools
    Pins(PinsArgs),
    /// Answer Prometheus: probe a target per request to /probe (a multi-target exporter)
    Serve(ServeArgs),
    /// Write the completions of a shell to standard output
    Completions(CompletionsArgs),
    /// Write the man page (roff) to standard output
    Man,
}

/// The command to run, with its options for the library.
pub enum Run {
    Test(cmd::test::Options),
    Inspect(cmd::inspect::Options),
    Demo(cmd::demo::Options),
    Pin(cmd::pin::Options),
    Convert(cmd::convert::Options),
    Serve(cmd::serve::Options),
    /// text for standard output, made from these definitions (completions, the man page)
    Text(std::io::Result<Vec<u8>>),
}

/// Parses the process's arguments; a usage error ends the process with exit status 2.
pub fn parse() -> Run {
    parse_from(std::env::args_os().collect())
}

fn parse_from(args: Vec<OsString>) -> Run {
    let matches = Cli::command()
        .try_get_matches_from(args.clone())
        .unwrap_or_else(|e| with_tip(e, &args).exit());
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match cli.command {
        Some(Command::Test(test)) => Run::Test(test.options()),
        None => {
            if let Some(first) = cli.test.urls.first() {
                if let Err(message) = subcommand_in_url_position(first, &args) {
                    Cli::command()
                        .error(ErrorKind::InvalidSubcommand, message)
                        .exit();
                }
            }
            Run::Test(cli.test.options())
        }
        Some(Command::Inspect(args)) => Run::Inspect(args.options()),
        Some(Command::Demo(args)) => Run::Demo(args.options()),
        Some(Command::Pin(args)) => Run::Pin(args.options()),
        Some(Command::Pins(PinsArgs {
            command: PinsCommand::Convert(args),
        })) => Run::Convert(args.options()),
        Some(Command::Serve(args)) => Run::Serve(args.options()),
        Some(Command::Completions(args)) => Run::Text(Ok(reference::completions(args.shell))),
        Some(Command::Man) => Run::Text(reference::man_page()),
    }
}
