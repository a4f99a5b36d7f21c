//! Chromium's static pinsets JSON: `{"pinsets": [{"name": "...", "static_spki_hashes": [...],
//! "bad_static_spki_hashes": [...], "report_uri": "..."}]}`, as in
//! `transport_security_state_static.json`.
//!
//! Chromium names most hashes symbolically (`"GoogleBackup2048"`), defined in a separate
//! `.pins`/`.certs` file; such a name cannot be resolved from this file alone and is reported,
//! with its pinset and line, unless the value is a literal `sha256/<base64>`. Lines starting with
//! `//` are comments, as in Chromium's file; a comment line just above a hash is its label.
//! Other top-level members (`entries`) are not pins and are left alone.

use std::collections::HashMap;

use super::json::{self, Node, Value};
use super::{entry, label_of, line_col, one_line, pin_from_base64, ForeignSet, Problems};
use crate::error::Error;
use crate::pins::{Pin, PinEntry};

const KNOWN: &str = "name, static_spki_hashes, bad_static_spki_hashes and report_uri";

pub(super) fn read(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    // comment lines become spaces, so offsets (and lines) stay those of the file
    let mut cleaned = String::with_capacity(text.len());
    let mut comments: HashMap<usize, String> = HashMap::new();
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let body = raw.trim_end_matches(['\n', '\r']);
        match body.trim_start().strip_prefix("//") {
            Some(comment) => {
                comments.insert(index + 1, comment.trim().to_string());
                cleaned.push_str(&" ".repeat(body.len()));
                cleaned.push_str(&raw[body.len()..]);
            }
            None => cleaned.push_str(raw),
        }
    }
    let at = |offset: usize, message: String| {
        let (line, column) = line_col(text, offset);
        Error::At {
            file: file.to_string(),
            line,
            message: format!("column {column}: {message}"),
        }
    };
    let root = json::parse(&cleaned).map_err(|e| {
        at(
            e.at,
            format!("{} (JSON; lines starting with // are comments)", e.message),
        )
    })?;
    let Value::Object(members) = &root.value else {
        return Err(at(
            root.at,
            format!(
                "the document is {}: expected an object with a \"pinsets\" array",
                root.value.kind()
            ),
        ));
    };
    let Some((_, _, pinsets)) = members.iter().find(|(k, _, _)| k == "pinsets") else {
        return Err(Error::File {
            file: file.to_string(),
            message: format!(
                "no \"pinsets\" member: {}",
                super::expected(super::PinFormat::Chromium)
            ),
        });
    };
    let Value::Array(pinsets) = &pinsets.value else {
        return Err(at(
            pinsets.at,
            format!("\"pinsets\" is {}: expected an array", pinsets.value.kind()),
        ));
    };

    let mut problems = Problems::new(file);
    let mut sets: Vec<ForeignSet> = Vec::new();
    let mut lines_of: HashMap<String, usize> = HashMap::new();
    for (n, node) in pinsets.iter().enumerate() {
        let (line, column) = line_col(text, node.at);
        let Value::Object(members) = &node.value else {
            problems.add(
                line,
                format!(
                    "column {column}: pinsets[{n}] is {}: expected {{\"name\": \"...\", \"static_spki_hashes\": [\"sha256/...\"]}}",
                    node.value.kind()
                ),
            );
            continue;
        };
        let name = members
            .iter()
            .find_map(|(k, _, v)| match (k.as_str(), &v.value) {
                ("name", Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                _ => None,
            });
        let Some(name) = name else {
            problems.add(
                line,
                format!("column {column}: pinsets[{n}] has no \"name\": give the pinset a name"),
            );
            continue;
        };
        if let Some(first) = lines_of.insert(name.clone(), line) {
            problems.add(
                line,
                format!(
                    "pinset {name:?} is defined twice (first on line {first}): merge or rename one"
                ),
            );
        }
        let problems_before = problems.found.len();
        let mut set = ForeignSet {
            name: name.clone(),
            ..ForeignSet::default()
        };
        for (key, key_at, value) in members {
            let (key_line, key_column) = line_col(text, *key_at);
            match key.as_str() {
                "name" => {}
                "static_spki_hashes" | "bad_static_spki_hashes" => {
                    let list = if key == "static_spki_hashes" {
                        &mut set.pins
                    } else {
                        &mut set.deny
                    };
                    hashes(text, &comments, &name, key, value, list, &mut problems);
                }
                "report_uri" => match &value.value {
                    Value::String(uri) => set.details.report_uri = Some(uri.clone()),
                    other => problems.add(
                        key_line,
                        format!("column {key_column}: pinset {name:?}: report_uri is {}: expected a string", other.kind()),
                    ),
                },
                other => problems.add(
                    key_line,
                    format!("column {key_column}: pinset {name:?}: unknown member {other:?}: Chromium pinsets have {KNOWN}"),
                ),
            }
        }
        if set.pins.is_empty() && set.deny.is_empty() && problems.found.len() == problems_before {
            problems.add(
                line,
                format!("pinset {name:?} has no hashes: add \"static_spki_hashes\": [\"sha256/<base64>\"]"),
            );
        }
        sets.push(set);
    }
    problems.finish(sets)
}

/// Reads one hash list into `list`, noting a problem for each entry that is not a pin.
fn hashes(
    text: &str,
    comments: &HashMap<usize, String>,
    set: &str,
    key: &str,
    value: &Node,
    list: &mut Vec<PinEntry>,
    problems: &mut Problems,
) {
    let Value::Array(items) = &value.value else {
        let (line, column) = line_col(text, value.at);
        problems.add(
            line,
            format!(
                "column {column}: pinset {set:?}: {key} is {}: expected an array of \"sha256/<base64>\"",
                value.value.kind()
            ),
        );
        return;
    };
    for (n, item) in items.iter().enumerate() {
        let (line, column) = line_col(text, item.at);
        let where_ = format!("column {column}: pinset {set:?}: {key}[{n}]");
        match &item.value {
            Value::String(hash) => match pin(hash) {
                Ok(pin) => {
                    let label = comments
                        .get(&(line.wrapping_sub(1)))
                        .and_then(|c| label_of(c));
                    list.push(entry(pin, label));
                }
                Err(message) => problems.add(line, format!("{where_}: {message}")),
            },
            other => problems.add(
                line,
                format!("{where_} is {}: expected \"sha256/<base64>\"", other.kind()),
            ),
        }
    }
}

fn pin(hash: &str) -> Result<Pin, String> {
    if let Some(b64) = hash.strip_prefix("sha256/") {
        return pin_from_base64(b64).map_err(|e| format!("{hash:?} is not a valid pin: {e}"));
    }
    if hash.starts_with("sha1/") {
        return Err(format!(
            "{hash:?} is a SHA-1 hash, which pinprobe does not compare: use the sha256/ hash of the same key"
        ));
    }
    if !hash.is_empty() && hash.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "{hash:?} is a symbolic name, defined in Chromium's .pins file, which this file does not hold: replace it with its \"sha256/<base64>\" value"
        ));
    }
    Err(format!(
        "{hash:?} is not a pin: expected \"sha256/<base64>\" or a symbolic name"
    ))
}

/// A pinsets document with literal `sha256/...` values; a label goes on a `//` line above its
/// hash, as Chromium's own file comments its entries.
pub(super) fn write(sets: &[ForeignSet]) -> String {
    let quote = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let list = |pins: &[PinEntry]| -> String {
        let items: Vec<String> = pins
            .iter()
            .map(|p| {
                let comment = p
                    .label
                    .as_deref()
                    .map(|l| format!("        // {}\n", one_line(l)))
                    .unwrap_or_default();
                format!("{comment}        {}", quote(&p.pin.to_string()))
            })
            .collect();
        if items.is_empty() {
            "[]".to_string()
        } else {
            format!("[\n{}\n      ]", items.join(",\n"))
        }
    };
    let mut pinsets = Vec::new();
    for set in sets {
        let mut members = vec![
            format!("      \"name\": {}", quote(&set.name)),
            format!("      \"static_spki_hashes\": {}", list(&set.pins)),
        ];
        if !set.deny.is_empty() {
            members.push(format!(
                "      \"bad_static_spki_hashes\": {}",
                list(&set.deny)
            ));
        }
        if let Some(uri) = &set.details.report_uri {
            members.push(format!("      \"report_uri\": {}", quote(uri)));
        }
        pinsets.push(format!("    {{\n{}\n    }}", members.join(",\n")));
    }
    format!("{{\n  \"pinsets\": [\n{}\n  ]\n}}\n", pinsets.join(",\n"))
}
