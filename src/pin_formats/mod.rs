//! Pins in the formats other tools read and write: OkHttp's `sha256/...`, curl's
//! `--pinnedpubkey` string, an HPKP header, hex, Chromium's static pinsets JSON, Android's
//! network security config XML, and pinprobe's own TOML profile.
//!
//! Pins move between teams in these formats (a mobile team's OkHttp snippet, a web server's old
//! HPKP header, a curl command in a runbook), so the readers are strict: an entry that is unknown
//! or malformed is never dropped. Each one is reported with the file, the line (and the column or
//! entry where a line holds several), what is wrong and what is expected; all of a file's
//! problems are listed at once, so one run shows everything to fix.

mod android;
mod chromium;
mod curl;
mod hex;
mod hosts;
mod hpkp;
mod okhttp;
mod toml_profile;

use std::collections::HashMap;
use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::error::Error;
use crate::pins::{Pin, PinEntry, PinError};
use crate::profile::line_col;

use hosts::check_hosts;
pub use hosts::{Domain, WriteError};
pub(crate) use toml_profile::toml_string;

/// A pin format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinFormat {
    /// OkHttp's `CertificatePinner`: `sha256/<base64>`, one per line
    Okhttp,
    /// curl's `--pinnedpubkey`: `sha256//<b64>;sha256//<b64>`
    Curl,
    /// an HPKP header: `Public-Key-Pins: pin-sha256="<b64>"; ...; max-age=...`
    Hpkp,
    /// 64 hex digits, one per line
    Hex,
    /// a pinprobe profile (TOML) pin set
    Toml,
    /// Chromium's static pinsets JSON (`pinsets` with `static_spki_hashes`)
    Chromium,
    /// Android's network security config XML (`<pin-set>`)
    Android,
}

impl PinFormat {
    /// Every format, in the order of the command line's help.
    pub const ALL: [PinFormat; 7] = [
        PinFormat::Okhttp,
        PinFormat::Curl,
        PinFormat::Hpkp,
        PinFormat::Hex,
        PinFormat::Toml,
        PinFormat::Chromium,
        PinFormat::Android,
    ];

    /// The format's name on the command line (`--from`, `--to`, `--pin-format`).
    pub fn name(self) -> &'static str {
        match self {
            PinFormat::Okhttp => "okhttp",
            PinFormat::Curl => "curl",
            PinFormat::Hpkp => "hpkp",
            PinFormat::Hex => "hex",
            PinFormat::Toml => "toml",
            PinFormat::Chromium => "chromium",
            PinFormat::Android => "android",
        }
    }

    /// True when one document can hold several named pin sets (OkHttp as `.add("host", ...)`
    /// calls, hex with `# pinset NAME` lines).
    pub fn holds_several_sets(self) -> bool {
        !matches!(self, PinFormat::Curl | PinFormat::Hpkp)
    }

    /// True when the format can say which pins must *not* match (`deny`).
    pub fn holds_deny(self) -> bool {
        matches!(self, PinFormat::Toml | PinFormat::Chromium)
    }

    /// True when the format's pins apply only to the hosts it names, so that a set without
    /// hosts would load and pin nothing (Android's `<domain>`, OkHttp's `add` pattern,
    /// Chromium's `entries`).
    pub fn pins_by_host(self) -> bool {
        matches!(
            self,
            PinFormat::Android | PinFormat::Okhttp | PinFormat::Chromium
        )
    }

    /// True when the format keeps a label with each pin (as a comment where it has no field).
    pub fn keeps_labels(self) -> bool {
        !matches!(self, PinFormat::Curl | PinFormat::Hpkp)
    }
}

impl fmt::Display for PinFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A named set of pins read from another format.
#[derive(Clone, Debug, Default)]
pub struct ForeignSet {
    /// the set's name (from the file, or made up when the format has none)
    pub name: String,
    /// pins that must match
    pub pins: Vec<PinEntry>,
    /// pins that must not match (Chromium's `bad_static_spki_hashes`)
    pub deny: Vec<PinEntry>,
    /// what the source said about the set besides its pins, kept for writing back
    pub details: SetDetails,
}

/// What a format says about a pin set besides its pins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetDetails {
    /// free text: the profile's set description, or what the other details mean
    pub description: Option<String>,
    /// the profile's `expect_issuer_orgs`
    pub expect_issuer_orgs: Vec<String>,
    /// HPKP `max-age`, in seconds
    pub max_age: Option<u64>,
    /// HPKP `includeSubDomains`
    pub include_subdomains: bool,
    /// HPKP `report-uri`, Chromium's `report_uri`
    pub report_uri: Option<String>,
    /// the header was `Public-Key-Pins-Report-Only`
    pub report_only: bool,
    /// Android's `<pin-set expiration="yyyy-MM-dd">`
    pub expiration: Option<String>,
    /// the hosts the set pins: Android's `<domain>`s, OkHttp's patterns, Chromium's `entries`,
    /// the hosts of a profile's endpoints that use the set, or `--host`
    pub domains: Vec<Domain>,
    /// the URLs of a profile's endpoints that use the set, written back as they were
    pub endpoints: Vec<String>,
}

/// Writes the pins a drifted chain of the endpoint `url` needs (`pins`, for the set named
/// `set`) in `format`, ready to paste: a `CertificatePinner` for the endpoint's host, a curl
/// `--pinnedpubkey` string, an HPKP header (`max-age=5184000`), hex lines, a `[pinsets.NAME]`
/// TOML snippet, a Chromium pinsets document or an Android network security config for the
/// host. When a format that pins by host cannot be written for the URL, the text says why
/// instead of giving a file that pins nothing.
pub fn write(format: PinFormat, set: &str, pins: &[PinEntry], url: &str) -> String {
    let domains = crate::endpoint::Endpoint::parse(url)
        .ok()
        .map(|e| {
            vec![Domain {
                name: e.host.to_ascii_lowercase(),
                include_subdomains: false,
            }]
        })
        .unwrap_or_default();
    let one = ForeignSet {
        name: set.to_string(),
        pins: pins.to_vec(),
        details: SetDetails {
            domains,
            ..SetDetails::default()
        },
        ..ForeignSet::default()
    };
    match format {
        PinFormat::Toml => toml_profile::write_set(&one),
        PinFormat::Hpkp => format!(
            "{}# RFC 7469 2.5: a browser keeps these pins only with a backup pin too, the pin-sha256 of a key not in this chain\n",
            hpkp::write(std::slice::from_ref(&one))
        ),
        _ => match write_sets(format, std::slice::from_ref(&one), None) {
            Ok(text) => text,
            Err(e) => format!("no {format} pins for {url}: {e}\n"),
        },
    }
}

/// Writes whole documents: every set of `sets` in `format`. For TOML this is a complete profile
/// whose top-level `description` is `description`. Fails when the format cannot hold what the
/// sets say (several sets, deny pins), or would pin nothing (a format that pins by host, for a
/// set that names none; an HPKP header without room for a backup pin), rather than leave
/// anything out.
pub fn write_sets(
    format: PinFormat,
    sets: &[ForeignSet],
    description: Option<&str>,
) -> Result<String, WriteError> {
    if sets.len() > 1 && !format.holds_several_sets() {
        return Err(WriteError::SeveralSets {
            format,
            count: sets.len(),
            names: sets
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if !format.holds_deny() {
        if let Some(set) = sets.iter().find(|s| !s.deny.is_empty()) {
            return Err(WriteError::Deny {
                format,
                set: set.name.clone(),
                count: set.deny.len(),
            });
        }
    }
    if format.pins_by_host() {
        check_hosts(format, sets)?;
    }
    if format == PinFormat::Hpkp {
        if let Some(set) = sets.iter().find(|s| s.pins.len() < 2) {
            return Err(WriteError::NoBackup {
                set: set.name.clone(),
            });
        }
    }
    Ok(write_checked(format, sets, description))
}

fn write_checked(format: PinFormat, sets: &[ForeignSet], description: Option<&str>) -> String {
    match format {
        PinFormat::Okhttp => okhttp::write(sets),
        PinFormat::Curl => curl::write(sets),
        PinFormat::Hpkp => hpkp::write(sets),
        PinFormat::Hex => hex::write(sets),
        PinFormat::Toml => toml_profile::write(sets, description),
        PinFormat::Chromium => chromium::write(sets),
        PinFormat::Android => android::write(sets),
    }
}

/// Reads pin sets in `format` from `text`; `file` names the input in messages.
///
/// Every set has at least one pin or deny pin. Any entry that is unknown or malformed fails the
/// whole read with an [`Error::At`] naming its line; when a file has several problems, the
/// message lists each on its own `FILE:LINE:` line.
pub fn read(format: PinFormat, text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    read_counted(format, text, file).map(|(sets, _)| sets)
}

/// As [`read`], and how many pins were dropped because their set already had them: a pin
/// given twice in a set says nothing more, and writing it twice only makes the output longer
/// (HPKP and Chromium lists repeat keys when they were merged from several sources).
pub fn read_counted(
    format: PinFormat,
    text: &str,
    file: &str,
) -> Result<(Vec<ForeignSet>, usize), Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let sets = match format {
        PinFormat::Okhttp => okhttp::read(text, file)?,
        PinFormat::Curl => curl::read(text, file)?,
        PinFormat::Hpkp => hpkp::read(text, file)?,
        PinFormat::Hex => hex::read(text, file)?,
        PinFormat::Toml => toml_profile::read(text, file)?,
        PinFormat::Chromium => chromium::read(text, file)?,
        PinFormat::Android => android::read(text, file)?,
    };
    if sets.is_empty() {
        return Err(Error::File {
            file: file.to_string(),
            message: format!("no pins found: {}", expected(format)),
        });
    }
    let mut sets = sets;
    let dropped = sets
        .iter_mut()
        .map(|set| drop_duplicates(&mut set.pins) + drop_duplicates(&mut set.deny))
        .sum();
    Ok((sets, dropped))
}

/// Keeps the first entry of each pin, in order, with the first label given for it; gives the
/// number of entries dropped. Linear in the number of entries.
fn drop_duplicates(entries: &mut Vec<PinEntry>) -> usize {
    let before = entries.len();
    let mut first: HashMap<Pin, usize> = HashMap::with_capacity(before);
    let mut kept: Vec<PinEntry> = Vec::with_capacity(before);
    for entry in entries.drain(..) {
        match first.get(&entry.pin) {
            Some(&at) => {
                if let Some(earlier) = kept.get_mut(at).filter(|k| k.label.is_none()) {
                    earlier.label = entry.label;
                }
            }
            None => {
                first.insert(entry.pin, kept.len());
                kept.push(entry);
            }
        }
    }
    *entries = kept;
    before - entries.len()
}

/// What a file of `format` should hold, for messages.
fn expected(format: PinFormat) -> &'static str {
    match format {
        PinFormat::Okhttp => "expected lines of sha256/<base64>, or CertificatePinner calls .add(\"host\", \"sha256/<base64>\")",
        PinFormat::Curl => "expected curl's --pinnedpubkey string sha256//<base64>;sha256//<base64>",
        PinFormat::Hpkp => "expected a header Public-Key-Pins: pin-sha256=\"<base64>\"; pin-sha256=\"<base64>\"; max-age=5184000",
        PinFormat::Hex => "expected lines of 64 hex digits (the SHA-256 of a SubjectPublicKeyInfo)",
        PinFormat::Toml => "expected a pinprobe profile with [pinsets.NAME] tables",
        PinFormat::Chromium => "expected {\"pinsets\": [{\"name\": \"...\", \"static_spki_hashes\": [\"sha256/<base64>\"]}]}",
        PinFormat::Android => "expected <network-security-config> with <domain-config> elements holding a <pin-set>",
    }
}

/// The problems found in one file; reported together, in line order.
struct Problems {
    file: String,
    found: Vec<(usize, String)>,
}

/// How many problems one error lists before it only counts the rest.
const PROBLEMS_LISTED: usize = 20;

impl Problems {
    fn new(file: &str) -> Problems {
        Problems {
            file: file.to_string(),
            found: Vec::new(),
        }
    }

    /// Notes a problem at a 1-based line.
    fn add(&mut self, line: usize, message: impl Into<String>) {
        self.found.push((line, message.into()));
    }

    /// `value` when nothing was found, else one error listing every problem.
    fn finish<T>(mut self, value: T) -> Result<T, Error> {
        if self.found.is_empty() {
            return Ok(value);
        }
        self.found.sort_by_key(|(line, _)| *line);
        let (line, first) = self.found[0].clone();
        let mut message = first;
        for (line, more) in self.found.iter().skip(1).take(PROBLEMS_LISTED - 1) {
            message.push_str(&format!("\n{}:{line}: {more}", self.file));
        }
        if self.found.len() > PROBLEMS_LISTED {
            message.push_str(&format!(
                "\n{}: and {} more problems",
                self.file,
                self.found.len() - PROBLEMS_LISTED
            ));
        }
        Err(Error::At {
            file: self.file,
            line,
            message,
        })
    }
}

/// The pin whose digest is `b64`, exactly 44 base64 characters; the error says what is wrong.
fn pin_from_base64(b64: &str) -> Result<Pin, String> {
    match BASE64.decode(b64) {
        Ok(bytes) if bytes.len() == 32 => {
            Pin::parse(&format!("sha256/{b64}")).map_err(|e| e.to_string())
        }
        Ok(bytes) => Err(PinError::Length(bytes.len()).to_string()),
        Err(e) => Err(PinError::Base64(e.to_string()).to_string()),
    }
}

/// The name of a set from a format without names: the file's stem (`pins` for `pins.txt`).
fn default_name(file: &str) -> String {
    if file == crate::input::STDIN_NAME {
        return "stdin".to_string();
    }
    std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "pins".to_string())
}

/// A label on one line, for formats that keep labels in comments.
fn one_line(label: &str) -> String {
    label.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A comment's text as a label: `None` when empty.
fn label_of(comment: &str) -> Option<String> {
    let label = one_line(comment);
    (!label.is_empty()).then_some(label)
}

/// A pin entry read from a file: no source yet (the converter names the file).
fn entry(pin: Pin, label: Option<String>) -> PinEntry {
    PinEntry {
        pin,
        label,
        source: None,
    }
}

/// Sets in first-seen order, pins appended by set name.
#[derive(Default)]
struct SetsByName {
    sets: Vec<ForeignSet>,
    /// the position of each set by name: a file of one set per host has thousands
    index: HashMap<String, usize>,
}

impl SetsByName {
    fn set(&mut self, name: &str) -> &mut ForeignSet {
        let index = match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.sets.push(ForeignSet {
                    name: name.to_string(),
                    ..ForeignSet::default()
                });
                self.index.insert(name.to_string(), self.sets.len() - 1);
                self.sets.len() - 1
            }
        };
        &mut self.sets[index]
    }

    fn into_sets(self) -> Vec<ForeignSet> {
        self.sets
            .into_iter()
            .filter(|s| !s.pins.is_empty() || !s.deny.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests;
