//! curl's `--pinnedpubkey` (`CURLOPT_PINNEDPUBLICKEY`) string: `sha256//<b64>;sha256//<b64>`.
//!
//! The file holds the string, as typed after `--pinnedpubkey` or as a curlrc line
//! (`pinnedpubkey = "sha256//..."`); quotes around it and whitespace around `;` are allowed, as
//! are `#` comment lines. Every line's entries go to one set, named after the file. curl also
//! takes a path to a public key file there; pinprobe needs the hashes.

use super::{default_name, entry, line_col, pin_from_base64, ForeignSet, Problems};
use crate::error::Error;

pub(super) fn read(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    let mut problems = Problems::new(file);
    let mut set = ForeignSet {
        name: default_name(file),
        ..ForeignSet::default()
    };
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line = index + 1;
        let line_start = offset;
        offset += raw.len();
        let raw = raw.trim_end_matches(['\n', '\r']);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let value = unwrap_option(trimmed);
        // byte offset of the value in the line, for columns
        let value_start = line_start + (value.as_ptr() as usize - raw.as_ptr() as usize);
        let entries: Vec<&str> = value.split(';').collect();
        let mut entry_start = value_start;
        // each entry's column counted on from the one before, not from the start of the text
        // (which took time quadratic in the entries of a long line)
        let mut column = line_col(text, value_start).1;
        let mut counted = value_start;
        for (n, item) in entries.iter().enumerate() {
            let at = entry_start + (item.len() - item.trim_start().len());
            entry_start += item.len() + 1;
            column += text.get(counted..at).map_or(0, |s| s.chars().count());
            counted = at;
            let where_ = format!("entry {} (column {column})", n + 1);
            let item = item.trim();
            if item.is_empty() {
                if n + 1 < entries.len() {
                    problems.add(line, format!("{where_} is empty: remove the extra ';'"));
                }
                continue;
            }
            match parse_pin(item) {
                Ok(pin) => set.pins.push(entry(pin, None)),
                Err(message) => problems.add(line, format!("{where_}: {message}")),
            }
        }
    }
    let sets = if set.pins.is_empty() {
        Vec::new()
    } else {
        vec![set]
    };
    problems.finish(sets)
}

/// The value of `--pinnedpubkey VALUE`, `pinnedpubkey = "VALUE"` or a bare (quoted) value.
fn unwrap_option(line: &str) -> &str {
    let mut value = line;
    for name in ["--pinnedpubkey", "pinnedpubkey"] {
        if value
            .get(..name.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(name))
        {
            value = value[name.len()..].trim_start();
            value = value
                .strip_prefix('=')
                .or_else(|| value.strip_prefix(':'))
                .unwrap_or(value)
                .trim_start();
            break;
        }
    }
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

fn parse_pin(item: &str) -> Result<crate::pins::Pin, String> {
    if let Some(b64) = item.strip_prefix("sha256//") {
        return pin_from_base64(b64.trim())
            .map_err(|e| format!("{item:?} is not a valid pin: {e}"));
    }
    if item.starts_with("sha256/") {
        return Err(format!(
            "{item:?} has one slash: curl's form is sha256//<base64> (sha256/<base64> is OkHttp's: use --from okhttp)"
        ));
    }
    Err(format!(
        "{item:?} is not a curl pin: expected sha256//<base64> entries separated by ';' (a public key file is not read: give its sha256// hash)"
    ))
}

/// One line: the pins as `sha256//<b64>` joined by `;`.
pub(super) fn write(sets: &[ForeignSet]) -> String {
    let mut out = String::new();
    for set in sets {
        let pins: Vec<String> = set
            .pins
            .iter()
            .map(|p| format!("sha256//{}", p.pin.to_base64()))
            .collect();
        out.push_str(&pins.join(";"));
        out.push('\n');
    }
    out
}
