//! Android's network security config (`res/xml/network_security_config.xml`):
//! `<domain-config>` elements with `<domain>` names and a `<pin-set>` of
//! `<pin digest="SHA-256">base64</pin>`.
//!
//! Each `<domain-config>` with a `<pin-set>` becomes one set, named after its first domain; its
//! domains and the pin set's `expiration` are kept for writing back. A nested `<domain-config>`
//! without a pin set of its own inherits its parent's pins on the device and adds no set here.
//! An XML comment just before a `<pin>` is its label, as Android projects comment their pins.

use roxmltree::{Document, Node};

use super::{entry, label_of, one_line, pin_from_base64, Domain, ForeignSet, Problems, SetDetails};
use crate::error::Error;
use crate::pins::Pin;

/// Reads the `<domain-config>` elements that have a `<pin-set>`, one set each.
pub(super) fn read(text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    let doc = Document::parse(text).map_err(|e| Error::At {
        file: file.to_string(),
        line: e.pos().row as usize,
        message: format!("column {}: not well-formed XML: {e}", e.pos().col),
    })?;
    let mut problems = Problems::new(file);
    let root = doc.root_element();
    if root.tag_name().name() != "network-security-config" {
        return Err(Error::At {
            file: file.to_string(),
            line: line(&root),
            message: format!(
                "the root element is <{}>: expected <network-security-config>",
                root.tag_name().name()
            ),
        });
    }
    let mut sets: Vec<ForeignSet> = Vec::new();
    for node in root.descendants().filter(Node::is_element) {
        let name = node.tag_name().name();
        if name == "pin-set" {
            check_pin_set_place(&node, &mut problems);
        }
        if name == "domain-config" {
            if let Some(set) = domain_config(&node, &sets, &mut problems) {
                sets.push(set);
            }
        }
    }
    problems.finish(sets)
}

/// The line a node starts on.
fn line(node: &Node<'_, '_>) -> usize {
    node.document().text_pos_at(node.range().start).row as usize
}

/// A `<pin-set>` outside a `<domain-config>` is a problem: Android would ignore it.
fn check_pin_set_place(node: &Node<'_, '_>, problems: &mut Problems) {
    if node
        .parent_element()
        .is_none_or(|p| p.tag_name().name() != "domain-config")
    {
        let parent = node
            .parent_element()
            .map(|p| p.tag_name().name().to_string())
            .unwrap_or_default();
        problems.add(
            line(node),
            format!("<pin-set> inside <{parent}>: Android reads pins only in a <domain-config>; move it there"),
        );
    }
}

/// The set of one `<domain-config>`: none when it has no `<pin-set>` (it inherits its parent's
/// pins) or no `<domain>` to name it after.
fn domain_config(
    node: &Node<'_, '_>,
    earlier: &[ForeignSet],
    problems: &mut Problems,
) -> Option<ForeignSet> {
    let pin_sets: Vec<Node<'_, '_>> = node
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "pin-set")
        .collect();
    let pin_set = pin_sets.first()?;
    for extra in &pin_sets[1..] {
        problems.add(
            line(extra),
            format!(
                "a second <pin-set> in the <domain-config> of line {}: Android takes one; merge their pins",
                line(node)
            ),
        );
    }
    let domains: Vec<Domain> = node
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "domain")
        .map(|d| Domain {
            name: d.text().unwrap_or_default().trim().to_string(),
            include_subdomains: d.attribute("includeSubdomains") == Some("true"),
        })
        .collect();
    let Some(first) = domains.first().filter(|d| !d.name.is_empty()) else {
        problems.add(
            line(node),
            "a <domain-config> with a <pin-set> but no <domain>: add <domain>example.com</domain>",
        );
        return None;
    };
    if let Some(earlier) = earlier.iter().find(|s| s.name == first.name) {
        problems.add(
            line(node),
            format!(
                "a second <domain-config> for {:?}: merge it with the first ({} pins)",
                first.name,
                earlier.pins.len()
            ),
        );
    }
    let mut set = ForeignSet {
        name: first.name.clone(),
        details: SetDetails {
            domains: domains.clone(),
            ..SetDetails::default()
        },
        ..ForeignSet::default()
    };
    set.details.expiration = expiration(pin_set, problems);
    pins(pin_set, &mut set, problems);
    if set.pins.is_empty() {
        problems.add(
            line(pin_set),
            format!(
                "the <pin-set> of {:?} has no pins: add <pin digest=\"SHA-256\">base64</pin>",
                set.name
            ),
        );
    }
    set.details.description = describe(&set.details);
    Some(set)
}

/// The `expiration` of a `<pin-set>`, its only attribute.
fn expiration(pin_set: &Node<'_, '_>, problems: &mut Problems) -> Option<String> {
    let mut expiration = None;
    for attr in pin_set.attributes() {
        match attr.name() {
            "expiration" => {
                let date = attr.value();
                if is_date(date) {
                    expiration = Some(date.to_string());
                } else {
                    problems.add(
                        line(pin_set),
                        format!("expiration=\"{date}\" is not a date: Android expects yyyy-MM-dd, e.g. expiration=\"2027-01-01\""),
                    );
                }
            }
            other => problems.add(
                line(pin_set),
                format!("unknown attribute {other:?} on <pin-set>: Android knows expiration"),
            ),
        }
    }
    expiration
}

/// The `<pin>` elements of a `<pin-set>`, each labelled by the comment just before it.
fn pins(pin_set: &Node<'_, '_>, set: &mut ForeignSet, problems: &mut Problems) {
    let mut comment: Option<String> = None;
    for child in pin_set.children() {
        if child.is_comment() {
            comment = child.text().and_then(label_of);
            continue;
        }
        if !child.is_element() {
            continue;
        }
        let label = comment.take();
        match pin(&child) {
            Ok(pin) => set.pins.push(entry(pin, label)),
            Err(message) => problems.add(line(&child), message),
        }
    }
}

/// One `<pin digest="SHA-256">base64</pin>`.
fn pin(child: &Node<'_, '_>) -> Result<Pin, String> {
    if child.tag_name().name() != "pin" {
        return Err(format!(
            "unknown element <{}> in <pin-set>: expected <pin digest=\"SHA-256\">base64</pin>",
            child.tag_name().name()
        ));
    }
    match child.attribute("digest") {
        Some(d) if d.eq_ignore_ascii_case("SHA-256") => {}
        Some(d) => return Err(format!("digest=\"{d}\" is not supported: pins are <pin digest=\"SHA-256\">, the SHA-256 of the key (Android takes no other)")),
        None => return Err("a <pin> without digest: write <pin digest=\"SHA-256\">".into()),
    }
    let b64 = child.text().unwrap_or_default().trim();
    pin_from_base64(b64).map_err(|e| format!("<pin> {b64:?} is not a valid pin: {e}"))
}

/// `yyyy-MM-dd`
fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// The domains and expiration, for a profile's set description.
fn describe(details: &SetDetails) -> Option<String> {
    let domains: Vec<String> = details
        .domains
        .iter()
        .map(|d| {
            if d.include_subdomains {
                format!("{} (and subdomains)", d.name)
            } else {
                d.name.clone()
            }
        })
        .collect();
    let mut text = format!("Android domain-config for {}", domains.join(", "));
    if let Some(date) = &details.expiration {
        text.push_str(&format!("; the pins expire on {date}"));
    }
    Some(text)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A `<network-security-config>` with one `<domain-config>` per set: its domains (the caller
/// made sure each set has some: a `<domain-config>` applies its pins to its `<domain>`s and
/// nowhere else), and a `<pin-set>` with the expiration it came with; labels as comments.
pub(super) fn write(sets: &[ForeignSet]) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n");
    for set in sets {
        out.push_str("    <domain-config>\n");
        for d in &set.details.domains {
            let attr = if d.include_subdomains {
                " includeSubdomains=\"true\""
            } else {
                ""
            };
            out.push_str(&format!(
                "        <domain{attr}>{}</domain>\n",
                escape(&d.name)
            ));
        }
        match &set.details.expiration {
            Some(date) => out.push_str(&format!(
                "        <pin-set expiration=\"{}\">\n",
                escape(date)
            )),
            None => out.push_str("        <pin-set>\n"),
        }
        for p in &set.pins {
            if let Some(label) = &p.label {
                out.push_str(&format!("            <!-- {} -->\n", comment(label)));
            }
            out.push_str(&format!(
                "            <pin digest=\"SHA-256\">{}</pin>\n",
                p.pin.to_base64()
            ));
        }
        out.push_str("        </pin-set>\n    </domain-config>\n");
    }
    out.push_str("</network-security-config>\n");
    out
}

/// A label as the text of an XML comment, on one line: a character XML does not allow in a
/// document (a control character, U+FFFE, U+FFFF) becomes a space, and a space goes between two
/// `-`, since `--` may not appear in a comment, and after a last `-`, which would make `--->`.
fn comment(label: &str) -> String {
    let allowed: String = label
        .chars()
        .map(|c| if is_xml_char(c) { c } else { ' ' })
        .collect();
    let mut text = String::with_capacity(allowed.len());
    for c in one_line(&allowed).chars() {
        if c == '-' && text.ends_with('-') {
            text.push(' ');
        }
        text.push(c);
    }
    if text.ends_with('-') {
        text.push(' ');
    }
    text
}

/// The characters of an XML 1.0 document (its `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}
