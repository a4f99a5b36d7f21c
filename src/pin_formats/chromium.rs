//! Chromium's static pinsets JSON: `{"pinsets": [{"name": "...", "static_spki_hashes": [...],
//! "bad_static_spki_hashes": [...], "report_uri": "..."}]}`, as in
//! `transport_security_state_static.json`.
//!
//! Chromium names most hashes symbolically (`"GoogleBackup2048"`), defined in a separate
//! `.pins`/`.certs` file; such a name cannot be resolved from this file alone and is reported,
//! with its pinset and line, unless the value is a literal `sha256/<base64>`. Lines starting with
//! `//` are comments, as in Chromium's file; a comment line just above a hash is its label.
//! The `entries` that name a pinset (`"pins"`) give its hosts, where Chromium applies it;
//! other top-level members are not pins and are left alone.

use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{entry, label_of, line_col, one_line, pin_from_base64, Domain, ForeignSet, Problems};
use crate::error::Error;
use crate::pins::{Pin, PinEntry};

const KNOWN: &str = "name, static_spki_hashes, bad_static_spki_hashes and report_uri";

/// Reads every pinset of the `pinsets` array; a problem in one pinset does not hide the others'.
pub(super) fn read(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    let (cleaned, comments) = blank_comments(text);
    let doc = Document { text: &cleaned };
    let syntax = |e| syntax_error(file, &e);
    let pinsets = pinsets(&doc, text, file)?;
    let mut problems = Problems::new(file);
    let mut sets: Vec<ForeignSet> = Vec::new();
    let mut lines_of: HashMap<String, usize> = HashMap::new();
    for (n, &node) in pinsets.iter().enumerate() {
        let (line, column) = line_col(text, doc.at(node));
        let Some(members) = doc.object(node).map_err(syntax)? else {
            problems.add(
                line,
                format!(
                    "column {column}: pinsets[{n}] is {}: expected {{\"name\": \"...\", \"static_spki_hashes\": [\"sha256/...\"]}}",
                    kind(node)
                ),
            );
            continue;
        };
        let name = members.iter().find_map(|m| match m.name.as_str() {
            "name" => string(m.value).filter(|s| !s.trim().is_empty()),
            _ => None,
        });
        let Some(name) = name.map(|s| s.trim().to_string()) else {
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
        let place = Place {
            text,
            doc: &doc,
            comments: &comments,
        };
        let set = place
            .pinset(&name, &members, &mut problems)
            .map_err(syntax)?;
        if set.pins.is_empty() && set.deny.is_empty() && problems.found.len() == problems_before {
            problems.add(
                line,
                format!("pinset {name:?} has no hashes: add \"static_spki_hashes\": [\"sha256/<base64>\"]"),
            );
        }
        sets.push(set);
    }
    for (pinset, domain) in entries(&cleaned) {
        if let Some(set) = sets.iter_mut().find(|s| s.name == pinset) {
            set.details.domains.push(domain);
        }
    }
    problems.finish(sets)
}

/// The hosts of the `entries` that name a pinset (`"pins"`), with their pinset's name: where
/// Chromium applies the pins. `include_subdomains_for_pinning`, in older files, wins over
/// `include_subdomains`. Entries are not pins, so an odd one is left to Chromium's own checks.
fn entries(cleaned: &str) -> Vec<(String, Domain)> {
    let Ok(root) = serde_json::from_str::<serde_json::Value>(cleaned) else {
        return Vec::new();
    };
    let Some(entries) = root.get("entries").and_then(|e| e.as_array()) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let name = e.get("name")?.as_str()?;
            let pins = e.get("pins")?.as_str()?;
            let flag = |key: &str| e.get(key).and_then(serde_json::Value::as_bool);
            let include_subdomains = flag("include_subdomains_for_pinning")
                .or_else(|| flag("include_subdomains"))
                .unwrap_or(false);
            Some((
                pins.to_string(),
                Domain {
                    name: name.to_ascii_lowercase(),
                    include_subdomains,
                },
            ))
        })
        .collect()
}

/// The text with its comment lines made spaces, so that offsets (and lines) stay those of the
/// file, and the comments by line.
fn blank_comments(text: &str) -> (String, HashMap<usize, String>) {
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
    (cleaned, comments)
}

/// A JSON syntax error, at its line and column.
fn syntax_error(file: &str, e: &serde_json::Error) -> Error {
    Error::At {
        file: file.to_string(),
        line: e.line(),
        message: format!(
            "column {}: {} (JSON; lines starting with // are comments)",
            e.column().max(1),
            without_position(e)
        ),
    }
}

/// The elements of the document's `pinsets` array; a document of another shape is an error.
fn pinsets<'a>(doc: &Document<'a>, text: &str, file: &str) -> Result<Vec<&'a RawValue>, Error> {
    let syntax = |e| syntax_error(file, &e);
    let at = |offset: usize, message: String| {
        let (line, column) = line_col(text, offset);
        Error::At {
            file: file.to_string(),
            line,
            message: format!("column {column}: {message}"),
        }
    };
    let root: &RawValue = serde_json::from_str(doc.text).map_err(syntax)?;
    let Some(members) = doc.object(root).map_err(syntax)? else {
        return Err(at(
            doc.at(root),
            format!(
                "the document is {}: expected an object with a \"pinsets\" array",
                kind(root)
            ),
        ));
    };
    let Some(pinsets) = members.iter().find(|m| m.name == "pinsets") else {
        return Err(Error::File {
            file: file.to_string(),
            message: format!(
                "no \"pinsets\" member: {}",
                super::expected(super::PinFormat::Chromium)
            ),
        });
    };
    doc.array(pinsets.value).map_err(syntax)?.ok_or_else(|| {
        at(
            doc.at(pinsets.value),
            format!("\"pinsets\" is {}: expected an array", kind(pinsets.value)),
        )
    })
}

/// Where the pinsets are read from: the file's text (for positions), its document and its
/// comment lines (for labels).
struct Place<'t> {
    text: &'t str,
    doc: &'t Document<'t>,
    comments: &'t HashMap<usize, String>,
}

impl<'t> Place<'t> {
    /// The set of one named pinset, member by member.
    fn pinset(
        &self,
        name: &str,
        members: &[Member<'t>],
        problems: &mut Problems,
    ) -> Result<ForeignSet, serde_json::Error> {
        let mut set = ForeignSet {
            name: name.to_string(),
            ..ForeignSet::default()
        };
        for Member {
            name: key,
            name_at,
            value,
        } in members
        {
            let (key_line, key_column) = line_col(self.text, *name_at);
            match key.as_str() {
                "name" => {}
                "static_spki_hashes" | "bad_static_spki_hashes" => {
                    let list = if key == "static_spki_hashes" {
                        &mut set.pins
                    } else {
                        &mut set.deny
                    };
                    let hashes = Hashes {
                        text: self.text,
                        doc: self.doc,
                        comments: self.comments,
                        set: name,
                        key,
                    };
                    hashes.read(value, list, problems)?;
                }
                "report_uri" => match string(value) {
                    Some(uri) => set.details.report_uri = Some(uri),
                    None => problems.add(
                        key_line,
                        format!("column {key_column}: pinset {name:?}: report_uri is {}: expected a string", kind(value)),
                    ),
                },
                other => problems.add(
                    key_line,
                    format!("column {key_column}: pinset {name:?}: unknown member {other:?}: Chromium pinsets have {KNOWN}"),
                ),
            }
        }
        Ok(set)
    }
}

/// A serde_json message without the " at line L column C" that its Display appends: the
/// position goes in front, as in every other pin file error.
fn without_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match message.strip_suffix(&suffix) {
        Some(bare) => bare.to_string(),
        None => message,
    }
}

/// The document after serde_json checked it, read value by value.
///
/// serde_json's values carry no position, but a borrowed [`RawValue`] is a slice of the text it
/// was parsed from: its address, minus the document's, is where the value starts. Reading an
/// array or object of raw values out of a raw value borrows from the same text again.
struct Document<'a> {
    text: &'a str,
}

impl<'a> Document<'a> {
    /// The byte offset where `value` starts in the document.
    fn at(&self, value: &RawValue) -> usize {
        (value.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize)
    }

    /// The elements of an array, None for another kind of value.
    fn array(&self, value: &'a RawValue) -> Result<Option<Vec<&'a RawValue>>, serde_json::Error> {
        if !value.get().starts_with('[') {
            return Ok(None);
        }
        serde_json::from_str(value.get()).map(Some)
    }

    /// The members of an object in file order, each with where its name starts; None for
    /// another kind of value.
    fn object(&self, value: &'a RawValue) -> Result<Option<Vec<Member<'a>>>, serde_json::Error> {
        if !value.get().starts_with('{') {
            return Ok(None);
        }
        let Members(members) = serde_json::from_str(value.get())?;
        // between the end of one member (or the '{') and the next value lie only a comma,
        // whitespace and the quoted name: the first '"' there starts the name
        let mut from = self.at(value) + 1;
        let mut located = Vec::with_capacity(members.len());
        for (name, value) in members {
            let name_at = self.text[from..]
                .find('"')
                .map_or(self.at(value), |i| from + i);
            from = self.at(value) + value.get().len();
            located.push(Member {
                name,
                name_at,
                value,
            });
        }
        Ok(Some(located))
    }
}

/// One member of an object: its name, where the name starts, its value.
struct Member<'a> {
    name: String,
    name_at: usize,
    value: &'a RawValue,
}

/// An object's members in file order with duplicates kept (serde_json's maps keep the last).
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Members<'de>, M::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// The kind of a JSON value, for messages.
fn kind(value: &RawValue) -> &'static str {
    match value.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        // a string [`string`] could not read: an escape of a lone surrogate
        Some(b'"') if string(value).is_none() => "a string with an invalid escape",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// The text of a string value, None for another kind of value.
fn string(value: &RawValue) -> Option<String> {
    serde_json::from_str(value.get()).ok()
}

/// Where one hash list is, for reading it and naming its problems.
struct Hashes<'t> {
    text: &'t str,
    doc: &'t Document<'t>,
    comments: &'t HashMap<usize, String>,
    set: &'t str,
    key: &'t str,
}

impl<'t> Hashes<'t> {
    /// Reads the list into `list`, noting a problem for each entry that is not a pin.
    fn read(
        &self,
        value: &'t RawValue,
        list: &mut Vec<PinEntry>,
        problems: &mut Problems,
    ) -> Result<(), serde_json::Error> {
        let (set, key) = (self.set, self.key);
        let Some(items) = self.doc.array(value)? else {
            let (line, column) = line_col(self.text, self.doc.at(value));
            problems.add(
                line,
                format!(
                    "column {column}: pinset {set:?}: {key} is {}: expected an array of \"sha256/<base64>\"",
                    kind(value)
                ),
            );
            return Ok(());
        };
        for (n, item) in items.iter().enumerate() {
            let (line, column) = line_col(self.text, self.doc.at(item));
            let where_ = format!("column {column}: pinset {set:?}: {key}[{n}]");
            if !item.get().starts_with('"') {
                problems.add(
                    line,
                    format!("{where_} is {}: expected \"sha256/<base64>\"", kind(item)),
                );
                continue;
            }
            let hash = serde_json::from_str::<String>(item.get())
                .map_err(|e| format!("not a valid JSON string ({})", without_position(&e)));
            match hash.and_then(|h| pin(&h)) {
                Ok(pin) => {
                    let label = self
                        .comments
                        .get(&(line.wrapping_sub(1)))
                        .and_then(|c| label_of(c));
                    list.push(entry(pin, label));
                }
                Err(message) => problems.add(line, format!("{where_}: {message}")),
            }
        }
        Ok(())
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
    // the caller made sure each set has hosts: Chromium applies a pinset only to its entries
    let entries: Vec<String> = sets
        .iter()
        .flat_map(|set| {
            set.details.domains.iter().map(move |d| {
                format!(
                    "    {{ \"name\": {}, \"include_subdomains\": {}, \"pins\": {} }}",
                    quote(&d.name),
                    d.include_subdomains,
                    quote(&set.name)
                )
            })
        })
        .collect();
    format!(
        "{{\n  \"pinsets\": [\n{}\n  ],\n  \"entries\": [\n{}\n  ]\n}}\n",
        pinsets.join(",\n"),
        entries.join(",\n")
    )
}
