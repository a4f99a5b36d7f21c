//! `pinprobe pins convert`: pin files from and to the formats of other tools.
//!
//! The input is read whole (a file, or standard input for `-`), parsed strictly (any entry that
//! is not a readable pin stops the conversion with its line), and written in the output format:
//! by default a complete pinprobe profile whose every pin says where it was converted from.
//! The command's options and entry point are in `crate::cmd::convert`.

use std::io::{self, Write};
use std::path::Path;

use crate::error::Error;
use crate::input::{self, STDIN_NAME};
use crate::output;
use crate::pin_formats::{self, Domain, ForeignSet, PinFormat};
use crate::report::Quiet;

/// The input's text, read as `from` (its name, `standard input` for `-`, goes into error
/// messages and into the source of every pin), written as `to`; `hosts` are the `--host`
/// values, `HOST` or `SET=HOST`, which replace the hosts the input names for their set.
pub fn convert(
    from: PinFormat,
    to: PinFormat,
    text: &str,
    name: &str,
    hosts: &[String],
) -> Result<String, Error> {
    let (mut sets, duplicates) = pin_formats::read_counted(from, text, name)?;
    if duplicates > 0 {
        let _ = writeln!(
            io::stderr(),
            "pinprobe: {name}: dropped {duplicates} duplicate {} (a pin already in its set)",
            if duplicates == 1 { "pin" } else { "pins" }
        );
    }
    set_hosts(&mut sets, hosts)?;
    let origin = if name == STDIN_NAME {
        format!("converted from {from} on standard input")
    } else {
        format!("converted from {from} file {name}")
    };
    for set in &mut sets {
        for entry in set.pins.iter_mut().chain(set.deny.iter_mut()) {
            if entry.source.is_none() {
                entry.source = Some(origin.clone());
            }
        }
    }
    pin_formats::write_sets(to, &sets, Some(&origin))
        .map_err(|e| Error::usage(format!("--to {to}"), e.to_string()))
}

/// Gives each set the hosts of `--host`: `SET=HOST` for the set named SET, a bare `HOST` for
/// the only set of the input.
fn set_hosts(sets: &mut [ForeignSet], hosts: &[String]) -> Result<(), Error> {
    let names = || {
        sets.iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut given: Vec<(usize, Domain)> = Vec::new();
    for value in hosts {
        let usage = |message: String| Error::usage("--host", message);
        let (set, host) = match value.split_once('=') {
            Some((set, host)) => (Some(set.trim()), host),
            None => (None, value.as_str()),
        };
        let domain = Domain::parse(host).map_err(usage)?;
        let index = match set {
            Some(set) => sets.iter().position(|s| s.name == set).ok_or_else(|| {
                usage(format!(
                    "{value:?}: the input has no pin set {set:?}; its sets are {}",
                    names()
                ))
            })?,
            None if sets.len() == 1 => 0,
            None => {
                return Err(usage(format!(
                    "{value:?} does not say which set it is for, and the input has {} ({}): write --host SET={host}",
                    sets.len(),
                    names()
                )))
            }
        };
        given.push((index, domain));
    }
    for (index, set) in sets.iter_mut().enumerate() {
        let mine: Vec<Domain> = given
            .iter()
            .filter(|(i, _)| *i == index)
            .map(|(_, d)| d.clone())
            .collect();
        if !mine.is_empty() {
            set.details.domains = mine;
            // the endpoints the input named were for its hosts, not these
            set.details.endpoints.clear();
        }
    }
    Ok(())
}

/// The input's text (within [`input::PIN_FILE`]) and its name for messages (`standard input`
/// for `-`).
pub fn read_input(path: &Path) -> Result<(String, String), Error> {
    let text = input::read_text(path, input::PIN_FILE)?;
    Ok((text, input::name(path)))
}

/// Writes to `-o FILE` (replacing an existing file only as `existing` allows) or standard
/// output; a closed pipe (`| head`) ends quietly.
pub fn write_output(
    output: Option<&Path>,
    existing: output::Existing,
    bytes: &[u8],
) -> Result<(), Error> {
    match output {
        Some(path) => output::write(path, existing, bytes),
        None => {
            let mut out = Quiet::new(io::stdout().lock());
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .map_err(|source| Error::Write {
                    target: "standard output".to_string(),
                    source,
                })
        }
    }
}
