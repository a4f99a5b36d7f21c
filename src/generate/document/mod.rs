//! The profile `pinprobe pin` writes, as a TOML document: a new one, or an existing one updated
//! in place.
//!
//! Both go through toml_edit, so that updating a reviewed profile keeps what the reviewer wrote:
//! comments, labels, sources, key order and layout. Only the `pins` arrays of the sets whose
//! endpoints were probed change (and `expect_issuer_orgs` gains the organisations newly seen);
//! new endpoints and sets are appended.
//!
//! Strings that come from the certificates or the server (labels, issuer organisations, the
//! expected body) are written with the escapes of `pin_formats::toml_string` (`text`): the
//! value stays exact, and the file shows `\u202E` where toml_edit alone would write the
//! character itself.

use std::collections::{BTreeSet, HashMap};

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

use crate::endpoint::Endpoint;
use crate::pins::Pin;

/// Label of the entries added with `--backup-pin`.
pub const BACKUP_LABEL: &str = "backup (not in the current chain)";
/// Source of the entries added with `--backup-pin`.
pub const BACKUP_SOURCE: &str = "--backup-pin";

/// One pin taken from a live chain, with its generated label and source.
#[derive(Clone, Debug)]
pub struct Taken {
    /// the pin
    pub pin: Pin,
    /// `leaf: lab.test, expires 2027-02-22, taken 2026-11-24`
    pub label: String,
    /// `pinprobe pin, live chain of https://...`
    pub source: String,
}

/// An endpoint whose chain was pinned.
#[derive(Clone, Debug)]
pub struct Pinned {
    /// the endpoint's URL, as pinprobe writes it
    pub url: String,
    /// host name or address
    pub host: String,
    /// TCP port
    pub port: u16,
    /// the pins of the verified path: leaf, intermediates, anchor (no duplicates)
    pub pins: Vec<Taken>,
    /// issuer organisations of the chain as served; `None` when a certificate names none
    /// (the unexpected-issuer signal would then fire on the genuine chain)
    pub issuer_orgs: Option<Vec<String>>,
    /// the HTTP status seen
    pub expect_status: Option<u16>,
    /// the body seen, when short and printable
    pub expect_body: Option<String>,
}

/// What to write into the document.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// the endpoints pinned, in input order
    pub endpoints: Vec<Pinned>,
    /// one set for every endpoint (`--shared-set`)
    pub shared_set: Option<String>,
    /// `--backup-pin`, added to every set
    pub backups: Vec<Pin>,
}

/// A pin entry of a set, as reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// the pin
    pub pin: Pin,
    /// its label, if it has one
    pub label: Option<String>,
}

/// What happened to one pin set.
#[derive(Clone, Debug, Default)]
pub struct SetChange {
    /// the set's name
    pub name: String,
    /// the set did not exist before
    pub created: bool,
    /// the endpoints of this run that use it
    pub endpoints: Vec<String>,
    /// endpoints of the file that use it and were not probed in this run
    pub unprobed: Vec<String>,
    /// entries added (pins of the path, then backups)
    pub added: Vec<Entry>,
    /// existing entries still on the path
    pub kept: Vec<Entry>,
    /// existing entries not on the path, kept as backups
    pub backups: Vec<Entry>,
    /// existing entries not on the path, kept because unprobed endpoints use the set
    pub stale_kept: Vec<Entry>,
    /// existing entries no longer on the path, removed
    pub removed: Vec<Entry>,
    /// `--backup-pin` pins that are on the path, so no backup
    pub backups_on_path: Vec<Pin>,
    /// organisations added to `expect_issuer_orgs`
    pub orgs_added: Vec<String>,
    /// a certificate served names no issuer organisation, so none were written or added
    pub orgs_unknown: bool,
    /// entries whose pin is on no path of this run (backups, stale ones kept, --backup-pin)
    pub off_path: usize,
}

/// What `apply` changed.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// per pin set, in the order the endpoints named them
    pub sets: Vec<SetChange>,
    /// `[[endpoints]]` appended
    pub endpoints_added: Vec<String>,
    /// endpoints of the file without a pin set that were given one: (url, set)
    pub endpoints_linked: Vec<(String, String)>,
}

/// A TOML string value written as `pin_formats::toml_string` writes it: every character of
/// `report::is_escaped` escaped (toml_edit escapes only the C0 controls and DEL). A parsed
/// value keeps its text when the document is written.
pub(crate) fn text(s: &str) -> Value {
    crate::pin_formats::toml_string(s)
        .parse::<Value>()
        .unwrap_or_else(|_| Value::from(s))
}

/// A new, empty profile with a header comment and a description.
pub fn new_document(header: &str, description: &str) -> DocumentMut {
    let mut doc = DocumentMut::new();
    doc.insert("description", Item::Value(text(description)));
    if let Some(mut key) = doc.as_table_mut().key_mut("description") {
        key.leaf_decor_mut().set_prefix(format!("{header}\n"));
    }
    doc
}

/// The name of a pin set for a host: `cdn.x.cp.wd.microsoft.com` gives
/// `cdn-x-cp-wd-microsoft-com`.
pub fn set_name(host: &str) -> String {
    let mut name = String::with_capacity(host.len());
    for c in host.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches('-');
    if name.is_empty() {
        "endpoint".to_string()
    } else {
        name.to_string()
    }
}

/// The endpoints of the document: (normalised URL, pin set, index in `[[endpoints]]`).
fn file_endpoints(doc: &DocumentMut) -> Result<Vec<(String, Option<String>)>, String> {
    let Some(item) = doc.get("endpoints") else {
        return Ok(Vec::new());
    };
    let Some(tables) = item.as_array_of_tables() else {
        return Err(
            "`endpoints` is not written as [[endpoints]] tables: write each endpoint under its own [[endpoints]] header so that --update can edit it"
                .into(),
        );
    };
    Ok(tables
        .iter()
        .map(|t| {
            let url = t.get("url").and_then(Item::as_str).unwrap_or_default();
            let url = Endpoint::parse(url).map_or_else(|_| url.to_string(), |e| e.url);
            let set = t.get("pinset").and_then(Item::as_str).map(str::to_string);
            (url, set)
        })
        .collect())
}

fn existing_sets(doc: &DocumentMut) -> Result<BTreeSet<String>, String> {
    match doc.get("pinsets") {
        None => Ok(BTreeSet::new()),
        Some(item) => item
            .as_table_like()
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .ok_or_else(|| "`pinsets` is not a table: write each set as [pinsets.NAME]".into()),
    }
}

/// Writes the plan into `doc`: for every endpoint, the pins of its set become the pins of the
/// paths seen (existing entries for those pins are kept as written), entries no longer on any
/// path are removed unless they are backups or the set also serves endpoints not probed now,
/// and new endpoints are appended. Errors are messages about the document's shape.
pub fn apply(doc: &mut DocumentMut, plan: &Plan) -> Result<Changes, String> {
    let in_file = file_endpoints(doc)?;
    let mut taken_names = existing_sets(doc)?;
    let probed: BTreeSet<&str> = plan.endpoints.iter().map(|e| e.url.as_str()).collect();

    // endpoints of one host and port share a set: they are served the same chain
    let mut by_place: HashMap<(String, u16), String> = HashMap::new();
    for (url, set) in &in_file {
        if let (Ok(e), Some(set)) = (Endpoint::parse(url), set) {
            by_place
                .entry((e.host, e.port))
                .or_insert_with(|| set.clone());
        }
    }

    let mut changes = Changes::default();
    // set name -> indices of plan endpoints, in order of first use
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    let mut new_endpoints: Vec<(usize, String)> = Vec::new();
    for (i, endpoint) in plan.endpoints.iter().enumerate() {
        let place = (endpoint.host.clone(), endpoint.port);
        let existing = in_file.iter().position(|(url, _)| *url == endpoint.url);
        let set = match existing.and_then(|at| in_file[at].1.clone()) {
            Some(set) => set,
            None => match &plan.shared_set {
                Some(shared) => shared.clone(),
                None => match by_place.get(&place) {
                    Some(set) => set.clone(),
                    None => {
                        let name = fresh_name(&endpoint.host, endpoint.port, &taken_names);
                        taken_names.insert(name.clone());
                        by_place.insert(place, name.clone());
                        name
                    }
                },
            },
        };
        match existing {
            Some(at) if in_file[at].1.is_none() => {
                link_endpoint(doc, at, &set);
                changes
                    .endpoints_linked
                    .push((endpoint.url.clone(), set.clone()));
            }
            Some(_) => {}
            None => new_endpoints.push((i, set.clone())),
        }
        match groups.iter_mut().find(|(name, _)| *name == set) {
            Some((_, members)) => members.push(i),
            None => groups.push((set, vec![i])),
        }
    }

    for (name, members) in &groups {
        let endpoints: Vec<&Pinned> = members.iter().map(|i| &plan.endpoints[*i]).collect();
        let unprobed = in_file
            .iter()
            .filter(|(url, set)| set.as_deref() == Some(name) && !probed.contains(url.as_str()))
            .map(|(url, _)| url.clone())
            .collect();
        changes
            .sets
            .push(update_set(doc, name, &endpoints, unprobed, &plan.backups)?);
    }

    for (i, set) in new_endpoints {
        append_endpoint(doc, &plan.endpoints[i], &set);
        changes.endpoints_added.push(plan.endpoints[i].url.clone());
    }
    Ok(changes)
}

/// A set name for a host that no set of the document or of this run has: the host's name, then
/// with the port, then numbered.
fn fresh_name(host: &str, port: u16, taken: &BTreeSet<String>) -> String {
    let base = set_name(host);
    if !taken.contains(&base) {
        return base;
    }
    let with_port = format!("{base}-{port}");
    if !taken.contains(&with_port) {
        return with_port;
    }
    (2..)
        .map(|n| format!("{with_port}-{n}"))
        .find(|n| !taken.contains(n))
        .unwrap_or(with_port)
}

fn link_endpoint(doc: &mut DocumentMut, at: usize, set: &str) {
    if let Some(table) = doc
        .get_mut("endpoints")
        .and_then(Item::as_array_of_tables_mut)
        .and_then(|t| t.get_mut(at))
    {
        table.insert("pinset", toml_edit::value(set));
    }
}

fn append_endpoint(doc: &mut DocumentMut, endpoint: &Pinned, set: &str) {
    let mut table = Table::new();
    table.insert("url", Item::Value(text(&endpoint.url)));
    table.insert("pinset", toml_edit::value(set));
    if let Some(status) = endpoint.expect_status {
        table.insert("expect_status", toml_edit::value(i64::from(status)));
    }
    if let Some(body) = &endpoint.expect_body {
        table.insert("expect_body", Item::Value(text(body)));
    }
    let item = doc
        .entry("endpoints")
        .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
    if let Some(tables) = item.as_array_of_tables_mut() {
        tables.push(table);
    }
}

/// The pin of an entry of a `pins` array, with its label and source.
mod array;
mod set;

use set::update_set;

#[cfg(test)]
mod tests;
