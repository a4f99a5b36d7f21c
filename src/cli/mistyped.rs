//! A subcommand-looking word where the default command reads a URL: a subcommand given after
//! flags, or a mistyped one. See [`subcommand_in_url_position`].

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::CommandFactory;

use super::tips::tip_for;
use super::Cli;

/// The names a user may mean as a subcommand: clap's and its `help`.
pub(super) fn subcommand_names() -> Vec<String> {
    let mut names: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    names.push("help".into());
    names
}

/// The rule for the first URL of the default command.
///
/// `pinprobe URL...` means `pinprobe test URL...`, so the top level takes URLs as positional
/// arguments, and clap takes any word there that is not a subcommand in first place (a typo,
/// or a subcommand after a flag: `pinprobe -v inspect HOST`) for a URL. This check refuses
/// such a first URL with a usage error that says what was meant:
///
/// - an argument that looks like a URL (a scheme, a dot, a colon, a slash, so also every IP
///   address) is a URL, whatever its letters;
/// - a bare word (letters, digits, `-`, `_`) that is a subcommand's name (or `help`) came
///   after flags: the error shows the command line with the flags after the subcommand, the
///   only place they are read;
/// - a bare word within one edit of a subcommand's name (two for names of five letters or
///   more; a transposition is one edit; case is ignored), or the start of one (three letters
///   or more), is a mistyped subcommand: the error names the subcommand;
/// - any other bare word (`localhost`, `intranet-host`) is a host name.
///
/// A host whose name is refused is probed with `https://NAME/`, or with `pinprobe test NAME`:
/// after an explicit `test`, every positional argument is a URL.
///
/// (When a flag before the subcommand is one `test` does not take, clap stops at that flag
/// and [`with_tip`](super::tips::with_tip) suggests the same fix.)
pub(super) fn subcommand_in_url_position(word: &str, args: &[OsString]) -> Result<(), String> {
    let bare = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !bare {
        return Ok(());
    }
    let escape =
        format!("To probe a host of that name, write https://{word}/ or `pinprobe test {word}`");
    let names = subcommand_names();
    if names.iter().any(|n| n == word) {
        let read_as = format!(
            "'{word}' comes after flags, so it was read as a URL of the default command 'test'"
        );
        let fix = flags_after(word, args);
        return Err(format!("{read_as}; {fix}\n\n{escape}"));
    }
    let lower = word.to_ascii_lowercase();
    let close = names.iter().find(|name| {
        let allowed = if name.len() >= 5 { 2 } else { 1 };
        edit_distance(&lower, name) <= allowed || (lower.len() >= 3 && name.starts_with(&lower))
    });
    match close {
        Some(name) => Err(format!(
            "'{word}' looks like a mistyped subcommand; did you mean '{name}'?\n\n{escape}"
        )),
        None => Ok(()),
    }
}

/// What to write instead of a command line that gives flags before the subcommand `word`:
/// the same arguments with the flags moved after it, when that parses; else the flag the
/// subcommand does not take.
pub(super) fn flags_after(word: &str, args: &[OsString]) -> String {
    let position = args
        .iter()
        .skip(1)
        .position(|a| a.to_str() == Some(word))
        .map_or(0, |p| p + 1);
    let mut fixed: Vec<OsString> = vec!["pinprobe".into(), word.into()];
    fixed.extend(args.iter().take(position).skip(1).cloned());
    fixed.extend(args.iter().skip(position + 1).cloned());
    if word == "help" {
        return "for help, write `pinprobe --help` or `pinprobe SUBCOMMAND --help`".into();
    }
    let see = format!("see `pinprobe {word} --help`");
    match Cli::command().try_get_matches_from(&fixed) {
        Ok(_) => format!(
            "put the flags after the subcommand: {}",
            fixed.iter().map(shell_word).collect::<Vec<_>>().join(" ")
        ),
        Err(e) => match (e.kind(), e.get(ContextKind::InvalidArg)) {
            (ErrorKind::UnknownArgument, Some(ContextValue::String(flag))) => {
                let why = tip_for(word, flag.split('=').next().unwrap_or_default())
                    .map_or_else(String::new, |tip| format!(" ({tip})"));
                format!(
                    "flags go after the subcommand, but '{word}' does not take '{flag}'{why}: {see}"
                )
            }
            _ => format!("flags go after the subcommand: {see}"),
        },
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions
/// of neighbours each count one (`inpsect` is one edit from `inspect`).
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // d[i][j]: the distance between the first i characters of a and the first j of b
    let mut d: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// An argument as a POSIX shell reads it back.
pub(super) fn shell_word(arg: &OsString) -> String {
    let text = arg.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
