//! OkHttp's `CertificatePinner` pins: plain `sha256/<base64>` lines, or the Kotlin or Java code
//! that builds a pinner (`.add("example.com", "sha256/...")`), as mobile teams hand them over.
//!
//! A file with a string literal in it is read as code: every `add(host, pins...)` call whose
//! arguments include a `sha…/` string becomes pins of the set named after its host, string
//! constants of the same file are followed (`.add(HOST, PIN_LEAF)`), and a `sha256/` string
//! outside any call joins the set named after the file. Other code is not pins and is skipped;
//! anything inside a pinner call that is not a readable pin is an error. A trailing `//`
//! comment on a pin's line is its label.

mod code;
mod tokens;

use super::{default_name, entry, label_of, one_line, pin_from_base64, ForeignSet, Problems};
use crate::error::Error;
use crate::pins::Pin;

use tokens::Token;

/// Reads OkHttp pins: Kotlin/Java code when the text holds a string literal (outside
/// comments), plain lines otherwise.
pub(super) fn read(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    let tokens = tokens::tokens(text);
    if tokens.iter().any(|t| matches!(t, Token::Str { .. })) {
        code::read(text, &tokens, file)
    } else {
        read_lines(text, file)
    }
}

/// Parses one OkHttp pin, `sha256/<base64>`; the error names the text and what is expected.
fn parse_pin(text: &str) -> Result<Pin, String> {
    if let Some(rest) = text.strip_prefix("sha256/") {
        match pin_from_base64(rest) {
            Ok(pin) => Ok(pin),
            // a digest may itself start with '/', so curl's form is named only when it reads
            Err(_) if rest.strip_prefix('/').is_some_and(|r| pin_from_base64(r).is_ok()) => Err(
                format!("{text:?} is curl's form (sha256//): OkHttp writes sha256/<base64>, with one slash"),
            ),
            Err(e) => Err(format!("{text:?} is not a valid pin: {e}")),
        }
    } else if text.starts_with("sha1/") {
        Err(format!(
            "{text:?} is a SHA-1 pin, which pinprobe does not compare: use the sha256/ pin of the same key"
        ))
    } else {
        Err(format!(
            "{text:?} is not an OkHttp pin: expected sha256/<base64> (44 base64 characters)"
        ))
    }
}

fn read_lines(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    let mut problems = Problems::new(file);
    let mut set = ForeignSet {
        name: default_name(file),
        ..ForeignSet::default()
    };
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("//") {
            continue;
        }
        let column = raw.chars().take_while(|c| c.is_whitespace()).count() + 1;
        let (token, rest) = trimmed
            .split_once(char::is_whitespace)
            .unwrap_or((trimmed, ""));
        let rest = rest.trim();
        let label = if rest.is_empty() {
            None
        } else if let Some(comment) = rest.strip_prefix("//").or_else(|| rest.strip_prefix('#')) {
            label_of(comment)
        } else {
            let at = column + token.chars().count() + 1;
            problems.add(
                line,
                format!("column {at}: unexpected {rest:?} after the pin: write one sha256/<base64> per line, with an optional // comment"),
            );
            continue;
        };
        match parse_pin(token) {
            Ok(pin) => set.pins.push(entry(pin, label)),
            Err(message) => problems.add(line, format!("column {column}: {message}")),
        }
    }
    let sets = if set.pins.is_empty() {
        Vec::new()
    } else {
        vec![set]
    };
    problems.finish(sets)
}

/// A `CertificatePinner.Builder()` with one `.add("PATTERN", "sha256/...")` per host pattern
/// and pin (a label as a trailing `//` comment): OkHttp checks pins only for the patterns given
/// to `add`, so the caller made sure each set has hosts.
pub(super) fn write(sets: &[ForeignSet]) -> String {
    let mut out = String::from("CertificatePinner.Builder()\n");
    for set in sets {
        for d in &set.details.domains {
            let host = d
                .okhttp_pattern()
                .replace('\\', "\\\\")
                .replace('"', "\\\"");
            for p in &set.pins {
                let label = p
                    .label
                    .as_deref()
                    .map(|l| format!("  // {}", one_line(l)))
                    .unwrap_or_default();
                out.push_str(&format!("    .add(\"{host}\", \"{}\"){label}\n", p.pin));
            }
        }
    }
    out.push_str("    .build()\n");
    out
}
