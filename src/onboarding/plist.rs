//! The `OnboardingInfo` string of an XML property list: the Jamf `.plist` and the Intune `.xml`
//! of the portal's macOS MDM package, the preference file the macOS script writes, and
//! `/Library/Managed Preferences/com.microsoft.wdav.atp.plist` on an onboarded Mac.
//!
//! A property list is a tree of `<dict>`s whose `<key>` is followed by its value; the Intune
//! profile nests the preference dict in a `PayloadContent` array. The `OnboardingInfo` key is
//! looked for anywhere in the tree, and the `<string>` after it taken; a document with two such
//! keys is refused. `roxmltree` decodes the entities (`&quot;`, `&#x22;`, ...); the document
//! type a plist declares is allowed, but a document that declares entities of its own is
//! refused, so that no expansion can outgrow the file. White space before the XML declaration,
//! which an editor or a copy may add, is skipped.
//!
//! A message about XML that does not parse names the tag or entity at fault, but no more of a
//! name than a masked tenant id shows: the id is not known before the document parses, and a
//! name may hold it.

use roxmltree::{Document, Node, ParsingOptions};

use super::{plain, unpadded, Problem};

/// The most XML nodes read: an onboarding profile has a few dozen.
const NODES: u32 = 100_000;

/// The longest name of the document a message shows whole: `integer`, the longest tag of a
/// property list. A longer one is shown by its first [`NAME_SHOWN`] characters.
const NAME_CHARS: usize = 7;

/// How many characters of a longer name a message shows.
const NAME_SHOWN: usize = 4;

/// What a property list is expected to be, for messages.
const EXPECTED: &str = "expected an XML property list as the Defender portal or an MDM writes it";

/// The `OnboardingInfo` string and the line of the file it is on, `text` starting on line
/// `first` of the file; none when the document has no such key.
pub(super) fn onboarding_info(
    text: &str,
    first: usize,
) -> Result<Option<(String, usize)>, Problem> {
    let start = unpadded(text);
    let padding = &text[..text.len() - start.len()];
    let offset = Offset {
        before: (first + padding.matches('\n').count()).saturating_sub(1),
        columns: padding
            .rsplit_once('\n')
            .map_or(padding, |(_, last)| last)
            .chars()
            .count(),
    };
    read(start, offset)
}

/// How a place in the document becomes a place in the file.
#[derive(Clone, Copy)]
struct Offset {
    /// the lines of the file before the document's first
    before: usize,
    /// the characters before the document on its first line
    columns: usize,
}

impl Offset {
    /// The line of the file of the document's line `row` (1-based).
    fn of(self, row: usize) -> usize {
        self.before + row
    }

    /// The column of the file of the document's column `col` on line `row`.
    fn column(self, row: usize, col: usize) -> usize {
        if row == 1 {
            self.columns + col
        } else {
            col
        }
    }

    /// The line of the file an element starts on.
    fn of_node(self, node: &Node<'_, '_>) -> usize {
        self.of(node.document().text_pos_at(node.range().start).row as usize)
    }
}

/// [`onboarding_info`] of a document that starts at its first character.
fn read(text: &str, offset: Offset) -> Result<Option<(String, usize)>, Problem> {
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
    let doc =
        Document::parse_with_options(text, options).map_err(|e| not_well_formed(e, offset))?;
    let mut keys = doc
        .descendants()
        .filter(|n| n.has_tag_name("key") && n.text().map(str::trim) == Some("OnboardingInfo"));
    let Some(key) = keys.next() else {
        return Ok(None);
    };
    if let Some(second) = keys.next() {
        return Err(Problem::at(
            offset.of_node(&second),
            format!(
                "a second key OnboardingInfo (the first is on line {}): expected one onboarding \
                 blob, as the Defender portal writes it",
                offset.of_node(&key)
            ),
        ));
    }
    let Some(value) = key.next_siblings().skip(1).find(Node::is_element) else {
        return Err(Problem::at(
            offset.of_node(&key),
            "the key OnboardingInfo has no value: expected a <string> with the onboarding blob after it",
        ));
    };
    if !value.has_tag_name("string") {
        return Err(Problem::at(
            offset.of_node(&value),
            format!(
                "OnboardingInfo is a <{}>: expected a <string> with the onboarding blob",
                name(value.tag_name().name())
            ),
        ));
    }
    let info = text_in(&value);
    if info.trim().is_empty() {
        return Err(Problem::at(
            offset.of_node(&value),
            "OnboardingInfo is empty: expected the onboarding blob, as the Defender portal writes it",
        ));
    }
    Ok(Some((info, offset.of_node(&value))))
}

/// The problem of a document that does not parse: one cut short is named as such.
fn not_well_formed(e: roxmltree::Error, offset: Offset) -> Problem {
    match e {
        roxmltree::Error::UnclosedRootNode | roxmltree::Error::UnexpectedEndOfStream => {
            Problem::file(
                "the property list ends early: the package is cut short; download it again \
                 from the Defender portal",
            )
        }
        // limits of the whole document: they have no place
        e @ (roxmltree::Error::NoRootNode
        | roxmltree::Error::NodesLimitReached
        | roxmltree::Error::AttributesLimitReached
        | roxmltree::Error::NamespacesLimitReached) => {
            Problem::file(format!("not well-formed XML ({e}): {EXPECTED}"))
        }
        e => {
            // the place is said as the file's, not roxmltree's of the document
            let (row, col) = (e.pos().row as usize, e.pos().col as usize);
            let text = names_cut(e).to_string();
            let place = format!(" at {row}:{col}");
            let shown = plain(text.strip_suffix(&place).unwrap_or(&text));
            Problem::at(
                offset.of(row),
                format!(
                    "column {}: not well-formed XML ({shown}): {EXPECTED}",
                    offset.column(row, col)
                ),
            )
        }
    }
}

/// The error with each name of the document in it cut by [`cut`].
fn names_cut(e: roxmltree::Error) -> roxmltree::Error {
    use roxmltree::Error as E;
    let cut = |text: String| cut(&text);
    match e {
        E::DuplicatedNamespace(a, pos) => E::DuplicatedNamespace(cut(a), pos),
        E::UnknownNamespace(a, pos) => E::UnknownNamespace(cut(a), pos),
        E::UnexpectedCloseTag(a, b, pos) => E::UnexpectedCloseTag(cut(a), cut(b), pos),
        E::UnknownEntityReference(a, pos) => E::UnknownEntityReference(cut(a), pos),
        E::DuplicatedAttribute(a, pos) => E::DuplicatedAttribute(cut(a), pos),
        E::EntityResolver(pos, a) => E::EntityResolver(pos, cut(a)),
        other => other,
    }
}

/// A name of the document for a message: plain, escaped for control characters, cut by
/// [`cut`].
fn name(text: &str) -> String {
    plain(&cut(text))
}

/// A name whole when it has at most [`NAME_CHARS`] characters, else its first [`NAME_SHOWN`]
/// and `…`.
fn cut(text: &str) -> String {
    if text.chars().nth(NAME_CHARS).is_some() {
        text.chars().take(NAME_SHOWN).chain(['…']).collect()
    } else {
        text.to_string()
    }
}

/// The text inside an element, entities decoded.
fn text_in(node: &Node<'_, '_>) -> String {
    node.descendants()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}
