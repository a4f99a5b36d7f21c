//! The `OnboardingInfo` string of an XML property list: the Jamf `.plist` and the Intune `.xml`
//! of the portal's macOS MDM package, the preference file the macOS script writes, and
//! `/Library/Managed Preferences/com.microsoft.wdav.atp.plist` on an onboarded Mac.
//!
//! A property list is a tree of `<dict>`s whose `<key>` is followed by its value; the Intune
//! profile nests the preference dict in a `PayloadContent` array. The first `OnboardingInfo` key
//! anywhere in the tree is taken, and the `<string>` after it. `roxmltree` decodes the entities
//! (`&quot;`, `&#x22;`, ...); the document type a plist declares is allowed, but a document
//! that declares entities of its own is refused, so that no expansion can outgrow the file.

use roxmltree::{Document, Node, ParsingOptions};

use super::Problem;

/// The most XML nodes read: an onboarding profile has a few dozen.
const NODES: u32 = 100_000;

/// What a property list is expected to be, for messages.
const EXPECTED: &str = "expected an XML property list as the Defender portal or an MDM writes it";

/// The `OnboardingInfo` string and the line it is on; none when the document has no such key.
pub(super) fn onboarding_info(text: &str) -> Result<Option<(String, usize)>, Problem> {
    if text.contains("<!ENTITY") {
        return Err(Problem::file(format!(
            "the property list declares XML entities: {EXPECTED}, which declares none"
        )));
    }
    let options = ParsingOptions {
        allow_dtd: true,
        nodes_limit: NODES,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(not_well_formed)?;
    let key = doc
        .descendants()
        .find(|n| n.has_tag_name("key") && n.text().map(str::trim) == Some("OnboardingInfo"));
    let Some(key) = key else {
        return Ok(None);
    };
    let Some(value) = key.next_siblings().skip(1).find(Node::is_element) else {
        return Err(Problem::at(
            line_of(&key),
            "the key OnboardingInfo has no value: expected a <string> with the onboarding blob after it",
        ));
    };
    if !value.has_tag_name("string") {
        return Err(Problem::at(
            line_of(&value),
            format!(
                "OnboardingInfo is a <{}>: expected a <string> with the onboarding blob",
                value.tag_name().name().escape_debug()
            ),
        ));
    }
    let info = text_in(&value);
    if info.trim().is_empty() {
        return Err(Problem::at(
            line_of(&value),
            "OnboardingInfo is empty: expected the onboarding blob, as the Defender portal writes it",
        ));
    }
    Ok(Some((info, line_of(&value))))
}

/// The problem of a document that does not parse: one cut short is named as such.
fn not_well_formed(e: roxmltree::Error) -> Problem {
    match e {
        roxmltree::Error::UnclosedRootNode | roxmltree::Error::UnexpectedEndOfStream => {
            Problem::file(
                "the property list ends early: the package is cut short; download it again \
                 from the Defender portal",
            )
        }
        e => {
            let shown: String = e.to_string().chars().flat_map(char::escape_debug).collect();
            Problem::at(
                e.pos().row as usize,
                format!("not well-formed XML ({shown}): {EXPECTED}"),
            )
        }
    }
}

/// The text inside an element, entities decoded.
fn text_in(node: &Node<'_, '_>) -> String {
    node.descendants()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}

/// The line an element starts on.
fn line_of(node: &Node<'_, '_>) -> usize {
    node.document().text_pos_at(node.range().start).row as usize
}
