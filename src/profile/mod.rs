//! Profiles: TOML files of pin sets and endpoints (the public format described in the README).
//!
//! Every problem is reported with the file and line and what to write instead, because profiles
//! are edited by hand and kept in CI repositories. The Defender profile `pins/mde.toml` is compiled
//! in and goes through the same parser.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::catalog::{Catalog, Geo};
use crate::endpoint::{Endpoint, HttpExpectation, Method};
use crate::error::Error;
use crate::input;
use crate::pins::{Pin, PinEntry, PinSet, PinnedAnchor};
use crate::verdict::{Advice, Verdict};

mod files;

pub use files::Files;

/// The Defender for Endpoint profile, compiled into the binary.
pub const BUNDLED_MDE: &str = include_str!("../../pins/mde.toml");

/// The name under which the bundled profile is reported in messages.
pub const BUNDLED_MDE_NAME: &str = "pins/mde.toml (bundled)";

/// A loaded profile.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// free text from the profile
    pub description: Option<String>,
    /// pin sets, in name order
    pub pinsets: Vec<PinSet>,
    /// endpoints, in file order
    pub endpoints: Vec<Endpoint>,
    /// what to do about each verdict, in the words of the profile (`[advice]`)
    pub advice: Advice,
    /// where each endpoint's `pinset` reference stands (name, file, line), for messages
    pinset_refs: Vec<Option<(String, String, usize)>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    description: Option<String>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    pinsets: BTreeMap<String, RawPinSet>,
    #[serde(default)]
    endpoints: Vec<Spanned<RawEndpoint>>,
    #[serde(default)]
    advice: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPinSet {
    description: Option<String>,
    #[serde(default)]
    pins: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    deny: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    expect_issuer_orgs: Vec<String>,
    #[serde(default)]
    anchors: Vec<Spanned<String>>,
}

/// A file of `include`: more endpoints, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInclude {
    #[serde(default)]
    endpoints: Vec<Spanned<RawEndpoint>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    url: Spanned<String>,
    pinset: Option<Spanned<String>>,
    expect_status: Option<Spanned<i64>>,
    expect_body: Option<Spanned<String>>,
    method: Option<Spanned<String>>,
    catalog: Option<Spanned<String>>,
    geo: Option<Spanned<String>>,
    service: Option<String>,
    source: Option<String>,
}

/// A TOML syntax or schema error as `FILE:LINE: message` (or `FILE: message` without a
/// position), for every TOML file pinprobe reads.
pub(crate) fn toml_error(e: &toml::de::Error, text: &str, file: &str) -> Error {
    let message = e.message().trim_end_matches('\n').replace('\n', "; ");
    match e.span() {
        Some(span) => Error::At {
            file: file.to_string(),
            line: line_of(text, span.start),
            message,
        },
        None => Error::File {
            file: file.to_string(),
            message,
        },
    }
}

/// 1-based line and column (in characters) of a byte offset, for the messages about every
/// file pinprobe reads.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    line_col(text, offset).0
}

/// The byte offsets where the lines of a text start: the lines of many offsets in one pass over
/// the text (counting the line breaks before each offset took time quadratic in the length of a
/// profile of many entries).
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(text: &str) -> LineStarts {
        LineStarts(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    /// 1-based line of a byte offset, as [`line_of`] gives it.
    fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

/// An error at the line of a byte offset of `text`, in `file`.
fn at_line<'a>(text: &'a str, file: &'a str) -> impl Fn(usize, String) -> Error + 'a {
    move |offset, message| Error::At {
        file: file.to_string(),
        line: line_of(text, offset),
        message,
    }
}

impl Profile {
    /// The bundled Defender profile.
    pub fn bundled() -> Result<Profile, Error> {
        Profile::parse_with(BUNDLED_MDE, BUNDLED_MDE_NAME, &Files::Bundled)
    }

    /// Reads a profile file (standard input for `-`) within `limit`; the files it names are
    /// read from its directory (the current one for standard input).
    pub fn load(path: &Path, limit: input::Limit) -> Result<Profile, Error> {
        let text = input::read_text(path, limit)?;
        Profile::parse_with(&text, &input::name(path), &Files::beside(path))
    }

    /// Parses a profile that names no file; `file` names it in messages.
    pub fn parse(text: &str, file: &str) -> Result<Profile, Error> {
        Profile::parse_with(text, file, &Files::None)
    }

    /// Parses a profile whose `include` and `anchors` are read from `files`.
    pub fn parse_with(text: &str, file: &str, files: &Files) -> Result<Profile, Error> {
        let at = at_line(text, file);
        let raw: RawProfile = toml::from_str(text).map_err(|e| toml_error(&e, text, file))?;

        let mut pinsets = Vec::with_capacity(raw.pinsets.len());
        for (name, set) in raw.pinsets {
            let pins = Self::entries(&set.pins, &name, "pins", &at)?;
            let deny = Self::entries(&set.deny, &name, "deny", &at)?;
            if pins.is_empty() && deny.is_empty() {
                return Err(Error::File {
                    file: file.to_string(),
                    message: format!(
                        "pin set {name:?} has no pins: add `pins = [\"sha256/...\"]` under [pinsets.{name}] or remove the set"
                    ),
                });
            }
            let anchors = Self::anchors(&set.anchors, &name, files, &at)?;
            pinsets.push(PinSet {
                name,
                description: set.description,
                pins,
                deny,
                expect_issuer_orgs: set.expect_issuer_orgs,
                origin: file.to_string(),
                anchors,
                alternatives: false,
            });
        }

        let mut endpoints = Vec::with_capacity(raw.endpoints.len());
        let mut pinset_refs = Vec::with_capacity(raw.endpoints.len());
        Self::add_endpoints(raw.endpoints, text, file, &mut endpoints, &mut pinset_refs)?;
        for name in raw.include.iter().filter(|_| !matches!(files, Files::Skip)) {
            let (bytes, included) = files.read(name.get_ref(), input::INCLUDE, &|m| {
                at(name.span().start, format!("include: {m}"))
            })?;
            let text = input::text(bytes, &included)?;
            let raw: RawInclude =
                toml::from_str(&text).map_err(|e| toml_error(&e, &text, &included))?;
            Self::add_endpoints(
                raw.endpoints,
                &text,
                &included,
                &mut endpoints,
                &mut pinset_refs,
            )?;
        }

        let advice = Self::advice(raw.advice, &at)?;

        Ok(Profile {
            description: raw.description,
            pinsets,
            endpoints,
            advice,
            pinset_refs,
        })
    }

    /// The `[[endpoints]]` of `text` (the profile or a file it includes), checked.
    fn add_endpoints(
        raw: Vec<Spanned<RawEndpoint>>,
        text: &str,
        file: &str,
        endpoints: &mut Vec<Endpoint>,
        refs: &mut Vec<Option<(String, String, usize)>>,
    ) -> Result<(), Error> {
        let at = at_line(text, file);
        let lines = LineStarts::new(text);
        for spanned in raw {
            let start = spanned.span().start;
            let raw_endpoint = spanned.into_inner();
            refs.push(raw_endpoint.pinset.as_ref().map(|p| {
                (
                    p.get_ref().clone(),
                    file.to_string(),
                    lines.line_of(p.span().start),
                )
            }));
            endpoints.push(Self::endpoint(raw_endpoint, start, &at)?);
        }
        Ok(())
    }

    /// The certificates of a pin set's `anchors`, each a PEM or DER file of one certificate or
    /// more, usable as a trust anchor.
    fn anchors(
        names: &[Spanned<String>],
        set: &str,
        files: &Files,
        at: &dyn Fn(usize, String) -> Error,
    ) -> Result<Vec<PinnedAnchor>, Error> {
        let mut anchors = Vec::new();
        if matches!(files, Files::Skip) {
            return Ok(anchors);
        }
        for name in names {
            let here = |m: String| at(name.span().start, format!("[pinsets.{set}] anchors: {m}"));
            let (bytes, shown) = files.read(name.get_ref(), input::ANCHORS, &here)?;
            let certs = crate::chain::trust::certificates_in(&bytes, &shown)?;
            for (i, der) in certs.into_iter().enumerate() {
                let unusable = |why: String| {
                    here(format!(
                        "certificate #{} of {shown} cannot be a trust anchor ({why}): give CA certificates in PEM or DER",
                        i + 1
                    ))
                };
                webpki::anchor_from_trusted_cert(&der).map_err(|e| unusable(format!("{e:?}")))?;
                let info = crate::chain::cert::CertInfo::analyse(0, &der);
                let pin = info
                    .pin
                    .ok_or_else(|| unusable(info.parse_error.clone().unwrap_or_default()))?;
                // webpki takes an anchor as a name and a key and reads none of its extensions,
                // so a certificate that may not issue others is refused here, as OpenSSL
                // refuses it as an issuer
                if !info.is_ca {
                    return Err(unusable(format!(
                        "\"{}\" is not a CA certificate (no basicConstraints CA:TRUE)",
                        info.short_name()
                    )));
                }
                anchors.push(PinnedAnchor {
                    file: name.get_ref().clone(),
                    der,
                    pin,
                });
            }
        }
        Ok(anchors)
    }

    /// One `[[endpoints]]` entry (starting at byte `start`), checked.
    fn endpoint(
        raw: RawEndpoint,
        start: usize,
        at: &dyn Fn(usize, String) -> Error,
    ) -> Result<Endpoint, Error> {
        let url_start = raw.url.span().start;
        let mut endpoint = Endpoint::parse(raw.url.get_ref())
            .map_err(|message| at(url_start, format!("url: {message}")))?;
        if let Some(status) = &raw.expect_status {
            let value = *status.get_ref();
            if !(100..=599).contains(&value) {
                return Err(at(
                    status.span().start,
                    format!("expect_status = {value} is not an HTTP status: use a number from 100 to 599"),
                ));
            }
        }
        if let Some(method) = &raw.method {
            let text = method.get_ref();
            endpoint.method = Method::parse(text).ok_or_else(|| {
                // method tokens are case-sensitive, so `head` is refused, with the spelling
                let case = Method::parse(&text.to_ascii_uppercase())
                    .map(|m| format!(" (methods are case-sensitive: write \"{m}\")"))
                    .unwrap_or_default();
                at(
                    method.span().start,
                    format!("method = {text:?} is not supported: use GET, HEAD or POST{case}"),
                )
            })?;
        }
        if let Some(body) = &raw.expect_body {
            if endpoint.method == Method::Head && !body.get_ref().trim_ascii().is_empty() {
                return Err(at(
                    body.span().start,
                    "expect_body cannot match with method = \"HEAD\": the answer to HEAD has no body; remove expect_body or use GET".into(),
                ));
            }
        }
        endpoint.expect = HttpExpectation {
            status: raw
                .expect_status
                .map(|s| u16::try_from(s.into_inner()).unwrap_or(0)),
            body: raw.expect_body.map(Spanned::into_inner),
        };
        endpoint.pinset = raw.pinset.map(Spanned::into_inner);
        endpoint.catalog = match &raw.catalog {
            None => None,
            Some(name) => Some(Catalog::from_name(name.get_ref()).ok_or_else(|| {
                let names: Vec<&str> = Catalog::ALL.iter().map(|c| c.name()).collect();
                at(
                    name.span().start,
                    format!(
                        "catalog = {:?} is not a catalog: use one of {}",
                        name.get_ref(),
                        names.join(", ")
                    ),
                )
            })?),
        };
        endpoint.geo = match &raw.geo {
            None => None,
            Some(code) => Some(Geo::from_code(code.get_ref()).ok_or_else(|| {
                at(
                    code.span().start,
                    format!(
                        "geo = {:?} is not a geography: use one of {}",
                        code.get_ref(),
                        Geo::codes()
                    ),
                )
            })?),
        };
        if endpoint.geo.is_none()
            && matches!(
                endpoint.catalog,
                Some(Catalog::Standard | Catalog::Streamlined)
            )
        {
            return Err(at(
                start,
                format!(
                    "an endpoint of a geography's catalog needs `geo = \"...\"`: one of {}",
                    Geo::codes()
                ),
            ));
        }
        endpoint.service = raw.service;
        endpoint.source = raw.source;
        Ok(endpoint)
    }

    /// The `[advice]` table: keys are verdict codes.
    fn advice(
        raw: BTreeMap<String, Spanned<String>>,
        at: &dyn Fn(usize, String) -> Error,
    ) -> Result<Advice, Error> {
        let mut advice = BTreeMap::new();
        for (code, text) in raw {
            let verdict = Verdict::from_code(&code).ok_or_else(|| {
                let codes: Vec<&str> = Verdict::ALL.iter().map(|v| v.code()).collect();
                at(
                    text.span().start,
                    format!(
                        "[advice] {code:?} is not a verdict: use one of {}",
                        codes.join(", ")
                    ),
                )
            })?;
            advice.insert(verdict, text.into_inner());
        }
        Ok(Advice::new(advice))
    }

    fn entries(
        values: &[Spanned<toml::Value>],
        set: &str,
        key: &str,
        at: &dyn Fn(usize, String) -> Error,
    ) -> Result<Vec<PinEntry>, Error> {
        let mut out = Vec::with_capacity(values.len());
        for value in values {
            let start = value.span().start;
            let (text, label, source) = match value.get_ref() {
                toml::Value::String(s) => (s.clone(), None, None),
                toml::Value::Table(t) => {
                    if let Some(unknown) = t
                        .keys()
                        .find(|k| !matches!(k.as_str(), "pin" | "label" | "source"))
                    {
                        return Err(at(
                            start,
                            format!("[pinsets.{set}] {key}: unknown key {unknown:?} in a pin entry: use pin, label and source"),
                        ));
                    }
                    let text = match t.get("pin") {
                        Some(toml::Value::String(s)) => s.clone(),
                        _ => {
                            return Err(at(
                                start,
                                format!("[pinsets.{set}] {key}: a pin entry needs `pin = \"sha256/...\"`"),
                            ))
                        }
                    };
                    let string = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
                    (text, string("label"), string("source"))
                }
                other => {
                    return Err(at(
                        start,
                        format!(
                            "[pinsets.{set}] {key}: expected a pin string or {{ pin = \"...\", label = \"...\", source = \"...\" }}, found a {}",
                            other.type_str()
                        ),
                    ))
                }
            };
            let pin = Pin::parse(&text)
                .map_err(|e| at(start, format!("{text:?} is not a valid pin: {e}")))?;
            out.push(PinEntry { pin, label, source });
        }
        Ok(out)
    }

    /// Checks that every endpoint's pin set is defined, here or in `extra` (from `--pins`); an
    /// error names the file and line of the reference.
    pub fn check_refs(&self, extra: &[PinSet]) -> Result<(), Error> {
        for reference in self.pinset_refs.iter().flatten() {
            let (name, in_file, line) = reference;
            let known = self
                .pinsets
                .iter()
                .chain(extra)
                .any(|set| &set.name == name);
            if !known {
                let mut names: Vec<&str> = self
                    .pinsets
                    .iter()
                    .chain(extra)
                    .map(|s| s.name.as_str())
                    .collect();
                names.sort_unstable();
                return Err(Error::At {
                    file: in_file.clone(),
                    line: *line,
                    message: format!(
                        "pin set {name:?} is not defined: define [pinsets.{name}] or use one of: {}",
                        if names.is_empty() {
                            "(none defined)".to_string()
                        } else {
                            names.join(", ")
                        }
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_starts_give_the_line_line_col_gives() {
        for text in ["", "a", "a\n", "\n\n", "ab\ncd\n\nef", "é\nü\n"] {
            let lines = LineStarts::new(text);
            for offset in 0..=text.len() + 2 {
                assert_eq!(
                    lines.line_of(offset),
                    line_of(text, offset),
                    "{text:?} at {offset}"
                );
            }
        }
    }

    #[test]
    fn bundled_profile_loads_with_the_fourteen_endpoints() {
        let profile = Profile::bundled().unwrap();
        let guide: Vec<&Endpoint> = profile
            .endpoints
            .iter()
            .filter(|e| e.catalog.is_none())
            .collect();
        assert_eq!(guide.len(), 14);
        profile.check_refs(&[]).unwrap();
        let set = profile
            .pinsets
            .iter()
            .find(|s| s.name == "microsoft-cloud")
            .unwrap();
        // DigiCert Global Root G2, the anchor of most Microsoft cloud chains
        let g2 = Pin::parse("sha256/i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=").unwrap();
        assert!(set.allowed(&g2).is_some());
        for set in &profile.pinsets {
            assert!(set
                .pins
                .iter()
                .all(|p| p.label.is_some() && p.source.is_some()));
        }
        assert_eq!(guide[0].url, "https://cdn.x.cp.wd.microsoft.com/ping");
        assert_eq!(guide[0].expect.body.as_deref(), Some("OK"));
    }

    #[test]
    fn the_catalogs_come_from_the_shipped_table_row_by_row() {
        // pins/sources/mde-endpoints.csv is the source of the two catalog files: every row is
        // an endpoint with its method, status and trust, and nothing else is
        let profile = Profile::bundled().unwrap();
        let table = include_str!("../../pins/sources/mde-endpoints.csv");
        let tagged: Vec<&Endpoint> = profile
            .endpoints
            .iter()
            .filter(|e| e.catalog.is_some())
            .collect();
        let rows: Vec<Vec<&str>> = table
            .lines()
            .skip(1)
            .map(|line| line.splitn(8, ',').collect())
            .collect();
        assert_eq!(tagged.len(), rows.len());
        for (endpoint, row) in tagged.iter().zip(&rows) {
            // an empty path is written `/`
            let url = match row[4][8..].contains('/') {
                true => row[4].to_string(),
                false => format!("{}/", row[4]),
            };
            let trust = match row[6] {
                "ms-2011" => "mde-agent",
                "ms-2011;digicert-g2" => "mde-agent-packages",
                _ => "microsoft-cloud",
            };
            let status = endpoint
                .expect
                .status
                .map_or("any".to_string(), |s| s.to_string());
            assert_eq!(
                (
                    endpoint.catalog.unwrap().name(),
                    endpoint.geo.unwrap().code(),
                    endpoint.url.as_str(),
                    status.as_str(),
                    endpoint.pinset.as_deref().unwrap(),
                ),
                (row[0], row[1], url.as_str(), row[5], trust),
            );
        }
        // the sets that carry the agent's anchors hold the certificates their pins name
        for set in profile.pinsets.iter().filter(|s| !s.anchors.is_empty()) {
            for anchor in &set.anchors {
                assert!(set.allowed(&anchor.pin).is_some(), "{}", anchor.file);
            }
            assert_eq!(set.anchors.len(), set.pins.len(), "{}", set.name);
        }
    }

    #[test]
    fn advice_is_the_profiles_or_the_generic_one() {
        let bundled = Profile::bundled().unwrap();
        assert!(bundled
            .advice
            .text(Verdict::ProxyAuthRequired)
            .contains("Defender for Endpoint does not support authenticated proxies"));
        let own = Profile::parse(
            "[advice]\npin-mismatch = \"page the service owners\"\n",
            "own.toml",
        )
        .unwrap();
        assert_eq!(
            own.advice.text(Verdict::PinMismatch),
            "page the service owners"
        );
        for verdict in Verdict::ALL {
            assert!(!own.advice.text(verdict).contains("Defender"), "{verdict}");
        }
        let e = Profile::parse("\n[advice]\nssl-inspection = \"x\"\n", "own.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("own.toml:3: [advice] \"ssl-inspection\" is not a verdict: use one of ok, ssl-interception"),
            "{e}"
        );
    }

    #[test]
    fn design_example_loads() {
        let text = r#"
description = "Defender for Endpoint cloud endpoints"

[pinsets.microsoft-cloud]
pins = [
  "sha256/i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=",          # a plain string, or:
  { pin = "sha256/uUwZgwDOxcBXrQcntwu+kYFpkiVkOaezL0WYEZ3anJc=", label = "DigiCert Global Root G3",
    source = "Debian ca-certificates" },
]
deny = []                      # optional

[[endpoints]]
url = "https://cdn.x.cp.wd.microsoft.com/ping"
pinset = "microsoft-cloud"     # optional: no pin set = verdict on trust alone
expect_status = 200            # optional
expect_body = "OK"             # optional
"#;
        let profile = Profile::parse(text, "example.toml").unwrap();
        assert_eq!(profile.pinsets[0].pins.len(), 2);
        assert_eq!(
            profile.pinsets[0].pins[1].label.as_deref(),
            Some("DigiCert Global Root G3")
        );
        assert_eq!(profile.endpoints[0].expect.status, Some(200));
    }

    #[test]
    fn errors_name_file_line_and_fix() {
        let cases = [
            (
                "[pinsets.a]\npins = [\n  \"sha256/abc\",\n]\n",
                "p.toml:3: \"sha256/abc\" is not a valid pin: bad base64",
            ),
            (
                "[pinsets.a]\npins = [\"sha256/i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=\"]\n[[endpoints]]\nurl = \"http://x/\"\n",
                "p.toml:4: url: \"http://x/\" uses http://",
            ),
            ("[[endpoints]]\nurl = \"x\"\nexpect_stauts = 200\n", "p.toml:3: unknown field `expect_stauts`"),
            ("[[endpoints]]\nurl = \"x\"\nexpect_status = 999\n", "p.toml:3: expect_status = 999"),
            (
                "[[endpoints]]\nurl = \"x\"\nmethod = \"PUT\"\n",
                "p.toml:3: method = \"PUT\" is not supported: use GET, HEAD or POST",
            ),
            (
                "[[endpoints]]\nurl = \"x\"\n\nmethod = \"head\"\n",
                "p.toml:4: method = \"head\" is not supported: use GET, HEAD or POST (methods are case-sensitive: write \"HEAD\")",
            ),
            ("[[endpoints]]\nurl = \"x\"\nmethod = 1\n", "p.toml:3:"),
            (
                "[[endpoints]]\nurl = \"x\"\nmethod = \"HEAD\"\nexpect_body = \"OK\"\n",
                "p.toml:4: expect_body cannot match with method = \"HEAD\": the answer to HEAD has no body; remove expect_body or use GET",
            ),
            ("[pinsets.a]\npins = [1]\n", "p.toml:2: [pinsets.a] pins: expected a pin string"),
            ("[pinsets.a]\npins = [{ label = \"x\" }]\n", "needs `pin = \"sha256/...\"`"),
            ("[pinsets.a]\npins = []\n", "p.toml: pin set \"a\" has no pins"),
            ("description = \n", "p.toml:1:"),
        ];
        for (text, want) in cases {
            let got = Profile::parse(text, "p.toml").unwrap_err().to_string();
            assert!(got.contains(want), "want {want:?} in {got:?}");
        }
    }

    #[test]
    fn anchors_must_be_ca_certificates_and_their_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let pki = crate::lab::Pki::genuine(&["a.test"]).unwrap();
        std::fs::write(dir.path().join("leaf.pem"), pki.leaf.pem()).unwrap();
        std::fs::write(dir.path().join("root.pem"), pki.root.pem()).unwrap();
        let files = Files::Dir(dir.path().to_path_buf());
        let text = |file: &str| {
            format!("[pinsets.a]\npins = [\"sha256/i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=\"]\nanchors = [\"{file}\"]\n")
        };
        let set = Profile::parse_with(&text("root.pem"), "p.toml", &files).unwrap();
        assert_eq!(set.pinsets[0].anchors.len(), 1);
        let e = Profile::parse_with(&text("leaf.pem"), "p.toml", &files)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.toml:3: [pinsets.a] anchors: certificate #1 of")
                && e.contains("\"a.test\" is not a CA certificate"),
            "{e}"
        );
    }

    #[test]
    fn undefined_pinset_is_reported_with_its_line() {
        let profile =
            Profile::parse("[[endpoints]]\nurl = \"x\"\npinset = \"nope\"\n", "p.toml").unwrap();
        let err = profile.check_refs(&[]).unwrap_err().to_string();
        assert!(
            err.starts_with("p.toml:3: pin set \"nope\" is not defined"),
            "{err}"
        );
    }
}
