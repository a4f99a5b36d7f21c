//! Editing a TOML array of pin entries by hand-written layout rules: one entry per line, the
//! comments and blank lines around each entry kept with it when entries are removed or added.

use toml_edit::{Array, Value};

fn prefix_of(value: &Value) -> String {
    value
        .decor()
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Splits the white space and comments before an array element at its first line break: the
/// head ends the previous element's line (a comment after its comma belongs to it), the body
/// is the element's own (comment lines above it, then its indentation).
fn split_prefix(prefix: &str) -> (&str, &str) {
    match prefix.find('\n') {
        Some(at) => prefix.split_at(at),
        None => (prefix, ""),
    }
}

/// Removes the entries whose `keep` is false, with their comments: the lines above an entry and
/// the comment after its comma go with it; the comment after the previous entry stays.
pub(super) fn remove_entries(array: &mut Array, keep: &[bool]) {
    if keep.iter().all(|k| *k) {
        return;
    }
    let values: Vec<Value> = array.iter().cloned().collect();
    let trailing_comma = array.trailing_comma();
    let trailing = array.trailing().as_str().unwrap_or_default().to_string();
    array.clear();
    // the head of the first removed entry of a run, which belongs to the entry before the run
    let mut carried: Option<String> = None;
    for (value, kept) in values.into_iter().zip(keep) {
        let prefix = prefix_of(&value);
        if *kept {
            let mut value = value;
            if let Some(head) = carried.take() {
                let (_, body) = split_prefix(&prefix);
                value.decor_mut().set_prefix(format!("{head}{body}"));
            }
            array.push_formatted(value);
        } else if carried.is_none() {
            carried = Some(split_prefix(&prefix).0.to_string());
        }
    }
    let trailing = match carried {
        Some(head) => format!("{head}{}", split_prefix(&trailing).1),
        None => trailing,
    };
    array.set_trailing(trailing);
    array.set_trailing_comma(trailing_comma && !array.is_empty());
}

/// Appends an entry on its own line, indented as the others; a one-line array is spread over
/// lines first (it holds no comments, which need line ends).
pub(super) fn push_entry(array: &mut Array, mut value: Value) {
    let multiline = array.iter().any(|v| prefix_of(v).contains('\n'))
        || array.trailing().as_str().is_some_and(|t| t.contains('\n'));
    if !multiline {
        for v in array.iter_mut() {
            v.decor_mut().set_prefix("\n  ");
            v.decor_mut().set_suffix("");
        }
        array.set_trailing("\n");
    }
    let indent = array
        .iter()
        .last()
        .map(|v| {
            let prefix = prefix_of(v);
            prefix
                .rsplit('\n')
                .next()
                .filter(|i| i.chars().all(|c| c == ' ' || c == '\t'))
                .map(str::to_string)
                .unwrap_or_else(|| "  ".into())
        })
        .unwrap_or_else(|| "  ".into());
    value.decor_mut().set_prefix(format!("\n{indent}"));
    value.decor_mut().set_suffix("");
    array.push_formatted(value);
    array.set_trailing_comma(true);
    let trailing = array.trailing().as_str().unwrap_or_default().to_string();
    if !trailing.contains('\n') {
        array.set_trailing(format!("{trailing}\n"));
    }
}
