//! Pins as 64 hex digits, one per line (colons between bytes allowed, OpenSSL's style).
//!
//! `#` starts a comment; a comment after the digits is the pin's label. A comment line
//! `# pinset NAME` starts a set named NAME (pinprobe writes one before each set when a file
//! holds several); pins before any such line form a set named after the file.

use super::{default_name, entry, label_of, one_line, ForeignSet, Problems, SetsByName};
use crate::error::Error;
use crate::pins::Pin;

/// The comment that starts a named set.
const SET_MARK: &str = "pinset ";

pub(super) fn read(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    let mut problems = Problems::new(file);
    let mut sets = SetsByName::default();
    let mut current = default_name(file);
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if let Some(comment) = trimmed.strip_prefix('#') {
            if let Some(name) = comment.trim().strip_prefix(SET_MARK) {
                current = name.trim().to_string();
            }
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        let column = raw.chars().take_while(|c| c.is_whitespace()).count() + 1;
        let (digits, label) = match trimmed.split_once('#') {
            Some((digits, comment)) => (digits.trim(), label_of(comment)),
            None => (trimmed, None),
        };
        match parse(digits) {
            Ok(pin) => sets.set(&current).pins.push(entry(pin, label)),
            Err(message) => problems.add(line, format!("column {column}: {message}")),
        }
    }
    problems.finish(sets.into_sets())
}

fn parse(text: &str) -> Result<Pin, String> {
    let digits: String = text.chars().filter(|c| *c != ':').collect();
    let all_hex = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit());
    if all_hex && digits.len() == 64 {
        return Pin::parse(&digits).map_err(|e| format!("{text:?} is not a valid pin: {e}"));
    }
    if text.to_ascii_lowercase().contains("fingerprint") {
        return Err(format!(
            "{text:?} is a certificate fingerprint, not a pin: a pin is the SHA-256 of the public key (openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256)"
        ));
    }
    if all_hex && digits.len() == 40 {
        return Err(format!(
            "{text:?} is 40 hex digits, a SHA-1 digest: a pin is the SHA-256 of the key, 64 hex digits"
        ));
    }
    if all_hex {
        return Err(format!(
            "{text:?} has {} hex digits: a SHA-256 pin has 64 (colons allowed between bytes)",
            digits.len()
        ));
    }
    Err(format!(
        "{text:?} is not hex: expected 64 hex digits (colons allowed between bytes), one pin per line"
    ))
}

/// Lowercase hex, one pin per line, a label as a trailing comment; `# pinset NAME` before each
/// set when there are several.
pub(super) fn write(sets: &[ForeignSet]) -> String {
    let mut out = String::new();
    for (n, set) in sets.iter().enumerate() {
        if sets.len() > 1 {
            if n > 0 {
                out.push('\n');
            }
            out.push_str(&format!("# {SET_MARK}{}\n", one_line(&set.name)));
        }
        for p in &set.pins {
            out.push_str(&p.pin.to_hex());
            if let Some(label) = &p.label {
                out.push_str(&format!("  # {}", one_line(label)));
            }
            out.push('\n');
        }
    }
    out
}
