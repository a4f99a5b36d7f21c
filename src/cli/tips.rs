//! The reasons a subcommand does not take a flag of `test`, added to clap's unknown-flag
//! error, and the fix for a flag given before its subcommand.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::CommandFactory;

use super::mistyped::{flags_after, subcommand_names};
use super::Cli;

/// Why a subcommand does not take a flag of `test`, and what to do instead.
const TIPS: &[(&str, &[&str], &str)] = &[
    (
        "inspect",
        &["--targets", "--shard", "--concurrency", "-j", "--quiet", "-q", "--fail-on"],
        "inspect looks at one endpoint; sweeps of many are `pinprobe test`'s",
    ),
    (
        "inspect",
        &["--compare-direct"],
        "inspect looks at one route; run `pinprobe test --compare-direct URL` to compare routes",
    ),
    (
        "inspect",
        &["--verbose", "-v", "--pin-format"],
        "inspect always shows every detail, with pins in base64 and hex",
    ),
    (
        "inspect",
        &["--pinnedpubkey"],
        "inspect takes a pin set by name: --pinset NAME, from the profile or a file of --pins",
    ),
    (
        "inspect",
        &["--json", "--ndjson", "--junit"],
        "inspect writes one report: --format json -o FILE for its JSON",
    ),
    (
        "pin",
        &["--pinnedpubkey"],
        "pin takes its pins from live chains; to turn curl's pins into a profile, use `pinprobe pins convert --from curl FILE`",
    ),
    (
        "pin",
        &["--profile"],
        "pin writes a profile: to rewrite an existing one, give it with --update FILE",
    ),
    (
        "pin",
        &["--pinset"],
        "pin writes pin sets: to put every endpoint in one set, use --shared-set NAME",
    ),
    (
        "pin",
        &[
            "--format",
            "--verbose",
            "-v",
            "--pin-format",
            "--json",
            "--ndjson",
            "--junit",
        ],
        "pin writes a TOML profile, and what it pinned to standard error; reports are `pinprobe test`'s",
    ),
    (
        "pin",
        &["--compare-direct"],
        "pin takes the chain of one route; run `pinprobe test --compare-direct URL` to compare routes",
    ),
];

/// Why `subcommand` does not take `flag` (as clap names it, without a value), if it is a
/// flag of `test` that users bring to it.
pub(super) fn tip_for(subcommand: &str, flag: &str) -> Option<&'static str> {
    TIPS.iter()
        .find(|(name, flags, _)| *name == subcommand && flags.contains(&flag))
        .map(|(_, _, tip)| *tip)
}

/// Adds to an unknown-flag error the reason its subcommand does not take a flag of `test`.
/// Flags go after the subcommand, so the subcommand is the first argument; when it is not, and
/// a subcommand's name comes later, the flag was meant for that subcommand: the error then
/// shows the command line with the flags after it.
pub(super) fn with_tip(mut error: clap::Error, args: &[OsString]) -> clap::Error {
    if error.kind() != ErrorKind::UnknownArgument {
        return error;
    }
    let Some(ContextValue::String(given)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    // `--shard=1/2` is reported with its value
    let flag = given.split('=').next().unwrap_or_default().to_string();
    let subcommand = args.get(1).and_then(|a| a.to_str()).unwrap_or_default();
    let names = subcommand_names();
    if !names.iter().any(|n| n == subcommand) {
        // a flag of a subcommand given before it (`pinprobe --shared-set x pin URL`)
        let later = args
            .iter()
            .skip(2)
            .filter_map(|a| a.to_str())
            .find(|a| names.iter().any(|n| n == a));
        return match later {
            // a new error: clap's "a similar argument exists" would name a flag of `test`
            Some(word) => Cli::command().error(
                ErrorKind::UnknownArgument,
                format!(
                    "unexpected argument '{given}' found before the subcommand '{word}'\n\n  tip: {}",
                    flags_after(word, args)
                ),
            ),
            None => error,
        };
    }
    if let Some(tip) = tip_for(subcommand, &flag) {
        error.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![(*tip).into()]),
        );
    }
    error
}
