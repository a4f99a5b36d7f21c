//! pinprobe's own profile (TOML): its pin sets, read with the profile parser, and written so
//! that the same parser loads them back (`[pinsets.NAME]` with `pins = [{ pin, label, source }]`).

use super::{Domain, ForeignSet, SetDetails};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::pins::PinEntry;
use crate::profile::Profile;

pub(super) fn read(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    // the pins alone: the files the profile names (its includes and anchors) are not read
    let profile = Profile::parse_with(text, file, &crate::profile::Files::Skip)?;
    let endpoints = &profile.endpoints;
    Ok(profile
        .pinsets
        .into_iter()
        .map(|set| {
            let using: Vec<&Endpoint> = endpoints
                .iter()
                .filter(|e| e.pinset.as_deref() == Some(set.name.as_str()))
                .collect();
            let mut domains: Vec<Domain> = Vec::new();
            for e in &using {
                let domain = Domain {
                    name: e.host.to_ascii_lowercase(),
                    include_subdomains: false,
                };
                if !domains.contains(&domain) {
                    domains.push(domain);
                }
            }
            ForeignSet {
                name: set.name,
                pins: set.pins,
                deny: set.deny,
                details: SetDetails {
                    description: set.description,
                    expect_issuer_orgs: set.expect_issuer_orgs,
                    domains,
                    endpoints: using.iter().map(|e| e.url.clone()).collect(),
                    ..SetDetails::default()
                },
            }
        })
        .collect())
}

/// A TOML basic string on one line, escaped as pinprobe writes every TOML string (profiles,
/// the pins `inspect` suggests): control characters and bidirectional overrides escaped, so
/// that a name from the network can neither break the line nor reorder it on a terminal (the
/// TOML writer would make a value with a line break multi-line).
pub(crate) fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if crate::report::is_escaped(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A table key: bare when TOML allows it, quoted otherwise (`"example.com"`).
fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        name.to_string()
    } else {
        toml_string(name)
    }
}

fn entries(name: &str, pins: &[PinEntry]) -> String {
    let mut out = format!("{name} = [\n");
    for p in pins {
        let mut fields = vec![format!("pin = {}", toml_string(&p.pin.to_string()))];
        if let Some(label) = &p.label {
            fields.push(format!("label = {}", toml_string(label)));
        }
        if let Some(source) = &p.source {
            fields.push(format!("source = {}", toml_string(source)));
        }
        out.push_str(&format!("  {{ {} }},\n", fields.join(", ")));
    }
    out.push_str("]\n");
    out
}

/// One `[pinsets.NAME]` table, ready to paste into a profile.
pub(super) fn write_set(set: &ForeignSet) -> String {
    let mut out = format!("[pinsets.{}]\n", key(&set.name));
    if let Some(description) = &set.details.description {
        out.push_str(&format!("description = {}\n", toml_string(description)));
    }
    if !set.details.expect_issuer_orgs.is_empty() {
        let orgs: Vec<String> = set
            .details
            .expect_issuer_orgs
            .iter()
            .map(|o| toml_string(o))
            .collect();
        out.push_str(&format!("expect_issuer_orgs = [{}]\n", orgs.join(", ")));
    }
    out.push_str(&entries("pins", &set.pins));
    if !set.deny.is_empty() {
        out.push_str(&entries("deny", &set.deny));
    }
    out
}

/// A whole profile: `description`, every set, then an endpoint for each URL or host a set is
/// for (a profile pins only the endpoints that name a set; without any, the sets serve
/// `--pins FILE --pinset NAME`).
pub(super) fn write(sets: &[ForeignSet], description: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(description) = description {
        out.push_str(&format!("description = {}\n", toml_string(description)));
    }
    for set in sets {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&write_set(set));
    }
    for set in sets {
        for url in endpoint_urls(set) {
            out.push_str(&format!(
                "\n[[endpoints]]\nurl = {}\npinset = {}\n",
                toml_string(&url),
                toml_string(&set.name)
            ));
        }
    }
    out
}

/// The URLs a profile probes for a set: its endpoints' own, else `https://HOST/` for each of
/// its hosts (a host with subdomains stands for itself; a `*.` pattern is no URL).
fn endpoint_urls(set: &ForeignSet) -> Vec<String> {
    if !set.details.endpoints.is_empty() {
        return set.details.endpoints.clone();
    }
    let mut urls: Vec<String> = Vec::new();
    for d in &set.details.domains {
        if d.is_one_level_wildcard() {
            continue;
        }
        let host = if d.name.contains(':') {
            format!("[{}]", d.name)
        } else {
            d.name.clone()
        };
        let url = format!("https://{host}/");
        if Endpoint::parse(&url).is_ok() && !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_valid_toml_strings() {
        for label in [
            "plain",
            "with \"quotes\"",
            "back\\slash",
            "tab\tand\u{7}bell",
            "line\nbreak\r",
            "bidi \u{202e}override",
        ] {
            let doc = format!("x = {}", toml_string(label));
            assert!(!doc.contains('\n') && !doc.contains('\u{202e}'), "{doc}");
            let value: toml::Table = toml::from_str(&doc).unwrap();
            assert_eq!(value["x"].as_str(), Some(label), "{doc}");
        }
    }
}
