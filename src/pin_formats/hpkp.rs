//! HTTP Public Key Pinning (RFC 7469): `Public-Key-Pins: pin-sha256="<b64>"; ...; max-age=N`.
//!
//! One header, with or without its name (`Public-Key-Pins` or `Public-Key-Pins-Report-Only`),
//! on one line; `#` comment lines are allowed around it. `max-age`, `includeSubDomains` and
//! `report-uri` are kept for writing back; any other directive, `pin-sha1` included, is an
//! error naming the directive's number and column, since browsers would ignore it silently.

use super::{default_name, entry, line_col, pin_from_base64, ForeignSet, Problems};
use crate::error::Error;

/// What a header written without a `max-age` of its own gets: 60 days, as RFC 7469's examples.
pub const DEFAULT_MAX_AGE: u64 = 5_184_000;

pub(super) fn read(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    let mut problems = Problems::new(file);
    let mut set = ForeignSet {
        name: default_name(file),
        ..ForeignSet::default()
    };
    let mut header_line = None;
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
        if let Some(first) = header_line {
            problems.add(
                line,
                format!("a second header (the first is on line {first}): a site sends one Public-Key-Pins header and browsers read the first; keep one"),
            );
            continue;
        }
        header_line = Some(line);
        let mut value = raw;
        if let Some((name, rest)) = raw.split_once(':') {
            let name = name.trim();
            let is_token = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if is_token {
                if name.eq_ignore_ascii_case("public-key-pins-report-only") {
                    set.details.report_only = true;
                } else if !name.eq_ignore_ascii_case("public-key-pins") {
                    problems.add(
                        line,
                        format!("{name:?} is not an HPKP header: expected Public-Key-Pins or Public-Key-Pins-Report-Only (or the header's value alone)"),
                    );
                    continue;
                }
                value = rest;
            }
        }
        let value_start = line_start + (value.as_ptr() as usize - raw.as_ptr() as usize);
        directives(text, value, value_start, line, &mut set, &mut problems);
    }
    if header_line.is_some() && set.pins.is_empty() && problems.found.is_empty() {
        problems.add(
            header_line.unwrap_or(1),
            "the header has no pin-sha256 directive: expected pin-sha256=\"<base64>\" (two or more)",
        );
    }
    set.details.description = describe(&set);
    let sets = if set.pins.is_empty() {
        Vec::new()
    } else {
        vec![set]
    };
    problems.finish(sets)
}

/// Splits a header value at `;` outside quoted strings: (byte offset in `value`, directive).
fn split(value: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push((start, &value[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push((start, &value[start..]));
    parts
}

/// A directive's value: a token, or a quoted string with its escapes undone.
fn unquote(value: &str) -> Result<String, String> {
    let value = value.trim();
    let Some(inner) = value.strip_prefix('"') else {
        return Ok(value.to_string());
    };
    let Some(inner) = inner.strip_suffix('"') else {
        return Err(format!("{value} has no closing quote"));
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or('\\')
        } else {
            c
        });
    }
    Ok(out)
}

fn directives(
    text: &str,
    value: &str,
    value_start: usize,
    line: usize,
    set: &mut ForeignSet,
    problems: &mut Problems,
) {
    let mut number = 0;
    // the column of each directive, counted on from the one before: the value is one line, and
    // counting from the start of the text for each of 100,000 pins took time quadratic in them
    let mut column = line_col(text, value_start).1;
    let mut counted = 0;
    for (at, directive) in split(value) {
        let trimmed = directive.trim();
        if trimmed.is_empty() {
            continue;
        }
        number += 1;
        let start = at + (directive.len() - directive.trim_start().len());
        column += value.get(counted..start).map_or(0, |s| s.chars().count());
        counted = start;
        let where_ = format!("directive {number} (column {column})");
        let (name, raw_value) = match trimmed.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v)),
            None => (trimmed, None),
        };
        let value = match raw_value.map(unquote).transpose() {
            Ok(v) => v,
            Err(message) => {
                problems.add(line, format!("{where_}: {name}: {message}"));
                continue;
            }
        };
        let lower = name.to_ascii_lowercase();
        let outcome = match (lower.as_str(), value) {
            ("pin-sha256", Some(b64)) => pin_from_base64(b64.trim())
                .map(|pin| set.pins.push(entry(pin, None)))
                .map_err(|e| format!("pin-sha256=\"{b64}\" is not a valid pin: {e}")),
            ("max-age", Some(age)) if set.details.max_age.is_some() => {
                Err(format!("max-age={age} repeats max-age: give it once"))
            }
            ("max-age", Some(age)) => age
                .trim()
                .parse::<u64>()
                .map(|age| set.details.max_age = Some(age))
                .map_err(|_| format!("max-age={age} is not a number of seconds: write max-age=5184000 (60 days)")),
            ("includesubdomains", None) => {
                set.details.include_subdomains = true;
                Ok(())
            }
            ("report-uri", Some(uri)) => {
                set.details.report_uri = Some(uri);
                Ok(())
            }
            ("pin-sha256" | "max-age" | "report-uri", None) => Err(format!(
                "{name} needs a value: {name}={}",
                if lower == "max-age" { "5184000" } else { "\"...\"" }
            )),
            ("includesubdomains", Some(v)) => Err(format!(
                "includeSubDomains takes no value (found {v:?}): write includeSubDomains"
            )),
            (other, _) if other.starts_with("pin-") => Err(format!(
                "{name} is not supported: HPKP pins are pin-sha256=\"<base64>\", the SHA-256 of the key"
            )),
            _ => Err(format!(
                "unknown directive {name:?}: HPKP has pin-sha256, max-age, includeSubDomains and report-uri"
            )),
        };
        if let Err(message) = outcome {
            problems.add(line, format!("{where_}: {message}"));
        }
    }
}

/// The directives besides pins, for a profile's set description.
fn describe(set: &ForeignSet) -> Option<String> {
    let d = &set.details;
    let mut parts = Vec::new();
    if let Some(age) = d.max_age {
        parts.push(format!("max-age={age}"));
    }
    if d.include_subdomains {
        parts.push("includeSubDomains".to_string());
    }
    if let Some(uri) = &d.report_uri {
        parts.push(format!("report-uri=\"{uri}\""));
    }
    let header = if d.report_only {
        "Public-Key-Pins-Report-Only"
    } else {
        "Public-Key-Pins"
    };
    Some(if parts.is_empty() {
        format!("{header} header")
    } else {
        format!("{header} header with {}", parts.join("; "))
    })
}

/// A header line: `Public-Key-Pins: pin-sha256="..."; ...; max-age=N`, with `includeSubDomains`
/// and `report-uri` when the set came with them. RFC 7469 wants two pins or more (one a backup
/// key, not in the served chain): `write_sets` refuses a set of one.
pub(super) fn write(sets: &[ForeignSet]) -> String {
    let mut out = String::new();
    for set in sets {
        let d = &set.details;
        let mut directives: Vec<String> = set
            .pins
            .iter()
            .map(|p| format!("pin-sha256=\"{}\"", p.pin.to_base64()))
            .collect();
        directives.push(format!("max-age={}", d.max_age.unwrap_or(DEFAULT_MAX_AGE)));
        if d.include_subdomains {
            directives.push("includeSubDomains".to_string());
        }
        if let Some(uri) = &d.report_uri {
            directives.push(format!(
                "report-uri=\"{}\"",
                uri.replace('\\', "\\\\").replace('"', "\\\"")
            ));
        }
        let name = if d.report_only {
            "Public-Key-Pins-Report-Only"
        } else {
            "Public-Key-Pins"
        };
        out.push_str(&format!("{name}: {}\n", directives.join("; ")));
    }
    out
}
