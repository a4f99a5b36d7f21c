//! The profile `pinprobe pin` writes, as a TOML document: a new one, or an existing one updated
//! in place.
//!
//! Both go through toml_edit, so that updating a reviewed profile keeps what the reviewer wrote:
//! comments, labels, sources, key order and layout. Only the `pins` arrays of the sets whose
//! endpoints were probed change (and `expect_issuer_orgs` gains the organisations newly seen);
//! new endpoints and sets are appended.

use std::collections::{BTreeSet, HashMap};

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, TableLike, Value};

use crate::endpoint::Endpoint;
use crate::pins::{marked_backup, Pin};

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

/// A new, empty profile with a header comment and a description.
pub fn new_document(header: &str, description: &str) -> DocumentMut {
    let mut doc = DocumentMut::new();
    doc.insert("description", toml_edit::value(description));
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
    table.insert("url", toml_edit::value(endpoint.url.as_str()));
    table.insert("pinset", toml_edit::value(set));
    if let Some(status) = endpoint.expect_status {
        table.insert("expect_status", toml_edit::value(i64::from(status)));
    }
    if let Some(body) = &endpoint.expect_body {
        table.insert("expect_body", toml_edit::value(body.as_str()));
    }
    let item = doc
        .entry("endpoints")
        .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
    if let Some(tables) = item.as_array_of_tables_mut() {
        tables.push(table);
    }
}

/// The pin of an entry of a `pins` array, with its label and source.
fn read_entry(value: &Value) -> Option<(Pin, Option<String>, Option<String>)> {
    match value {
        Value::String(s) => Pin::parse(s.value()).ok().map(|p| (p, None, None)),
        Value::InlineTable(t) => {
            let text = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
            let pin = Pin::parse(&text("pin")?).ok()?;
            Some((pin, text("label"), text("source")))
        }
        _ => None,
    }
}

fn entry_value(pin: &Pin, label: &str, source: &str) -> Value {
    let mut t = InlineTable::new();
    t.insert("pin", pin.to_string().into());
    t.insert("label", label.into());
    t.insert("source", source.into());
    t.fmt();
    Value::InlineTable(t)
}

fn update_set(
    doc: &mut DocumentMut,
    name: &str,
    endpoints: &[&Pinned],
    unprobed: Vec<String>,
    backups: &[Pin],
) -> Result<SetChange, String> {
    // the pins of every path of the set, in order, without duplicates
    let mut path: Vec<&Taken> = Vec::new();
    for e in endpoints {
        for t in &e.pins {
            if !path.iter().any(|p| p.pin == t.pin) {
                path.push(t);
            }
        }
    }
    let orgs: Option<Vec<String>> = endpoints.iter().try_fold(Vec::new(), |mut all, e| {
        for org in e.issuer_orgs.as_ref()? {
            if !all.iter().any(|o: &String| o.eq_ignore_ascii_case(org)) {
                all.push(org.clone());
            }
        }
        Some(all)
    });

    let (set, created) = set_table(doc, name)?;

    let mut change = SetChange {
        name: name.to_string(),
        created,
        endpoints: endpoints.iter().map(|e| e.url.clone()).collect(),
        unprobed,
        orgs_unknown: orgs.is_none(),
        ..SetChange::default()
    };

    if let (true, Some(orgs)) = (created, &orgs) {
        let mut list = Array::new();
        for org in orgs {
            list.push(org.as_str());
        }
        set.insert("expect_issuer_orgs", Item::Value(Value::Array(list)));
        if let Some(mut key) = set.key_mut("expect_issuer_orgs") {
            key.leaf_decor_mut().set_prefix(
                "# issuer organisations of the chains served; any other is reported as unexpected-issuer\n",
            );
        }
        change.orgs_added = orgs.clone();
    }
    if set.get("pins").is_none() {
        set.insert("pins", Item::Value(Value::Array(Array::new())));
    }
    let pins = set
        .get_mut("pins")
        .and_then(Item::as_array_mut)
        .ok_or_else(|| format!("[pinsets.{name}] pins is not an array"))?;

    let on_path = |pin: &Pin| path.iter().any(|t| t.pin == *pin);
    let mut present = sort_entries(pins, name, &path, backups, &mut change)?;
    for t in &path {
        if !present.contains(&t.pin) {
            push_entry(pins, entry_value(&t.pin, &t.label, &t.source));
            present.push(t.pin);
            change.added.push(Entry {
                pin: t.pin,
                label: Some(t.label.clone()),
            });
        }
    }
    for pin in backups {
        if on_path(pin) {
            change.backups_on_path.push(*pin);
        } else if !present.contains(pin) {
            push_entry(pins, entry_value(pin, BACKUP_LABEL, BACKUP_SOURCE));
            present.push(*pin);
            change.added.push(Entry {
                pin: *pin,
                label: Some(BACKUP_LABEL.to_string()),
            });
        }
    }
    change.off_path = present.iter().filter(|p| !on_path(p)).count();

    if let (false, Some(orgs)) = (created, orgs) {
        merge_orgs(set, orgs, &mut change);
    }
    Ok(change)
}

/// The table of pin set `name`, created (empty) when the document has none; true when created.
fn set_table<'d>(
    doc: &'d mut DocumentMut,
    name: &str,
) -> Result<(&'d mut dyn TableLike, bool), String> {
    let pinsets = doc.entry("pinsets").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let pinsets = pinsets
        .as_table_like_mut()
        .ok_or("`pinsets` is not a table: write each set as [pinsets.NAME]")?;
    let created = pinsets.get(name).is_none();
    if created {
        pinsets.insert(name, Item::Table(Table::new()));
    }
    let set = pinsets
        .get_mut(name)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("pin set {name:?} is not a table: write it as [pinsets.{name}]"))?;
    Ok((set, created))
}

/// Sorts the set's present entries against the path: kept (on the path), backups (marked or
/// given with --backup-pin), stale but kept (some endpoint of the set was not probed), or
/// removed. Returns the pins that stay.
fn sort_entries(
    pins: &mut Array,
    name: &str,
    path: &[&Taken],
    backups: &[Pin],
    change: &mut SetChange,
) -> Result<Vec<Pin>, String> {
    let on_path = |pin: &Pin| path.iter().any(|t| t.pin == *pin);
    let mut keep = Vec::with_capacity(pins.len());
    let mut present: Vec<Pin> = Vec::new();
    for value in pins.iter() {
        let Some((pin, label, source)) = read_entry(value) else {
            return Err(format!(
                "[pinsets.{name}] pins: an entry is not a pin string or {{ pin = \"...\" }} table"
            ));
        };
        let entry = Entry {
            pin,
            label: label.clone(),
        };
        let kept = if on_path(&pin) {
            change.kept.push(entry);
            true
        } else if backups.contains(&pin) || marked_backup(label.as_deref(), source.as_deref()) {
            change.backups.push(entry);
            true
        } else if !change.unprobed.is_empty() {
            change.stale_kept.push(entry);
            true
        } else {
            change.removed.push(entry);
            false
        };
        if kept {
            present.push(pin);
        }
        keep.push(kept);
    }
    remove_entries(pins, &keep);
    Ok(present)
}

/// Adds the issuer organisations of the chains that an existing set does not list yet.
fn merge_orgs(set: &mut dyn TableLike, orgs: Vec<String>, change: &mut SetChange) {
    let Some(list) = set
        .get_mut("expect_issuer_orgs")
        .and_then(Item::as_array_mut)
    else {
        return;
    };
    for org in orgs {
        let known = list
            .iter()
            .filter_map(Value::as_str)
            .any(|o| o.eq_ignore_ascii_case(&org));
        if !known {
            list.push(org.as_str());
            change.orgs_added.push(org);
        }
    }
}

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
fn remove_entries(array: &mut Array, keep: &[bool]) {
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
fn push_entry(array: &mut Array, mut value: Value) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    fn pin(seed: u8) -> Pin {
        Pin::parse(&hex::encode([seed; 32])).unwrap()
    }

    fn taken(seed: u8, what: &str) -> Taken {
        Taken {
            pin: pin(seed),
            label: format!("{what}: x, expires 2030-01-01, taken 2026-01-01"),
            source: "pinprobe pin, live chain of https://a.test/".into(),
        }
    }

    fn pinned(url: &str, seeds: &[u8]) -> Pinned {
        let e = Endpoint::parse(url).unwrap();
        Pinned {
            url: e.url,
            host: e.host,
            port: e.port,
            pins: seeds
                .iter()
                .zip(["leaf", "intermediate", "anchor"])
                .map(|(s, w)| taken(*s, w))
                .collect(),
            issuer_orgs: Some(vec!["Lab".into()]),
            expect_status: Some(200),
            expect_body: Some("OK".into()),
        }
    }

    fn loads(doc: &DocumentMut) -> Profile {
        let text = doc.to_string();
        let profile = Profile::parse(&text, "p.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        profile.check_refs("p.toml", &[]).unwrap();
        profile
    }

    #[test]
    fn set_names_come_from_the_host() {
        let cases = [
            ("cdn.x.cp.wd.microsoft.com", "cdn-x-cp-wd-microsoft-com"),
            ("Lab.Test", "lab-test"),
            ("127.0.0.1", "127-0-0-1"),
            ("::1", "1"),
            ("--", "endpoint"),
        ];
        for (host, want) in cases {
            assert_eq!(set_name(host), want, "{host}");
        }
        let taken: BTreeSet<String> = ["a-test".to_string(), "a-test-8443".to_string()].into();
        assert_eq!(fresh_name("b.test", 443, &taken), "b-test");
        assert_eq!(fresh_name("a.test", 443, &taken), "a-test-443");
        assert_eq!(fresh_name("a.test", 8443, &taken), "a-test-8443-2");
    }

    #[test]
    fn a_new_profile_has_a_set_per_host_and_loads() {
        let mut doc = new_document("# header", "d");
        let plan = Plan {
            endpoints: vec![
                pinned("https://a.test/ping", &[1, 2, 3]),
                pinned("https://a.test/other", &[1, 2, 3]),
                pinned("https://a.test:8443/", &[4, 2, 3]),
                pinned("https://b.test/", &[5, 6, 3]),
            ],
            ..Plan::default()
        };
        let changes = apply(&mut doc, &plan).unwrap();
        let names: Vec<&str> = changes.sets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a-test", "a-test-8443", "b-test"]);
        assert!(changes.sets.iter().all(|s| s.created && s.off_path == 0));
        let profile = loads(&doc);
        assert_eq!(profile.endpoints.len(), 4);
        assert_eq!(profile.endpoints[1].pinset.as_deref(), Some("a-test"));
        assert_eq!(profile.endpoints[0].expect.body.as_deref(), Some("OK"));
        let a = &profile.pinsets[0];
        assert_eq!(a.pins.len(), 3);
        assert_eq!(a.expect_issuer_orgs, ["Lab"]);
        assert!(a.pins[0].label.as_deref().unwrap().starts_with("leaf: "));
        let text = doc.to_string();
        assert!(
            text.starts_with("# header\ndescription = \"d\"\n"),
            "{text}"
        );
        assert!(
            text.find("[pinsets.b-test]").unwrap() < text.find("[[endpoints]]").unwrap(),
            "{text}"
        );
    }

    #[test]
    fn a_shared_set_holds_the_union_and_backups() {
        let mut doc = new_document("# h", "d");
        let plan = Plan {
            endpoints: vec![
                pinned("https://a.test/", &[1, 2, 3]),
                pinned("https://b.test/", &[4, 2, 3]),
            ],
            shared_set: Some("svc".into()),
            backups: vec![pin(9), pin(2)],
        };
        let changes = apply(&mut doc, &plan).unwrap();
        assert_eq!(changes.sets.len(), 1);
        let set = &changes.sets[0];
        assert_eq!(set.backups_on_path, [pin(2)]);
        assert_eq!(set.off_path, 1);
        let profile = loads(&doc);
        let pins: Vec<Pin> = profile.pinsets[0].pins.iter().map(|e| e.pin).collect();
        assert_eq!(pins, [pin(1), pin(2), pin(3), pin(4), pin(9)]);
        assert_eq!(
            profile.pinsets[0].pins[4].label.as_deref(),
            Some(BACKUP_LABEL)
        );
    }

    const REVIEWED: &str = r#"# Reviewed by the platform team.
description = "svc"

[pinsets.svc]
# checked against the vendor's documentation
expect_issuer_orgs = ["Lab"]
pins = [
  # the issuing CA, checked by hand
  { pin = "sha256/AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=", label = "Lab Issuing CA (hand-written)", source = "ops" },  # keep me
  # the old leaf
  "sha256/AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",  # old leaf note
  { pin = "sha256/CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=", label = "offline spare", source = "backup key in the safe" },
]

[[endpoints]]
url = "https://a.test/ping"  # the health check
pinset = "svc"
expect_status = 200
"#;

    #[test]
    fn an_update_keeps_what_was_written_and_drops_what_left_the_path() {
        let mut doc: DocumentMut = REVIEWED.parse().unwrap();
        let mut a = pinned("https://a.test/ping", &[7, 2, 8]);
        a.issuer_orgs = Some(vec!["Lab".into(), "New Root Org".into()]);
        let plan = Plan {
            endpoints: vec![a, pinned("https://c.test/", &[5, 6, 3])],
            ..Plan::default()
        };
        let changes = apply(&mut doc, &plan).unwrap();
        let text = doc.to_string();
        let profile = loads(&doc);

        let svc = &changes.sets[0];
        assert!(!svc.created);
        assert_eq!(svc.kept.len(), 1);
        assert_eq!(
            svc.removed,
            [Entry {
                pin: pin(1),
                label: None
            }]
        );
        assert_eq!(svc.backups[0].label.as_deref(), Some("offline spare"));
        assert_eq!(
            svc.added.iter().map(|e| e.pin).collect::<Vec<_>>(),
            [pin(7), pin(8)]
        );
        assert_eq!(svc.orgs_added, ["New Root Org"]);
        assert_eq!(changes.endpoints_added, ["https://c.test/"]);

        for kept in [
            "# Reviewed by the platform team.",
            "# checked against the vendor's documentation",
            "# the issuing CA, checked by hand",
            "label = \"Lab Issuing CA (hand-written)\", source = \"ops\" },  # keep me",
            "label = \"offline spare\"",
            "url = \"https://a.test/ping\"  # the health check",
            "expect_issuer_orgs = [\"Lab\", \"New Root Org\"]",
        ] {
            assert!(text.contains(kept), "{kept:?} lost:\n{text}");
        }
        for gone in ["# the old leaf", "old leaf note", "AQEBAQEB"] {
            assert!(!text.contains(gone), "{gone:?} kept:\n{text}");
        }
        let svc = profile.pinsets.iter().find(|s| s.name == "svc").unwrap();
        let pins: Vec<Pin> = svc.pins.iter().map(|e| e.pin).collect();
        assert_eq!(pins, [pin(2), pin(9), pin(7), pin(8)]);
        // the existing endpoint keeps its expectation, the new one gets the answer seen
        assert_eq!(profile.endpoints[0].expect.body, None);
        assert_eq!(profile.endpoints[1].pinset.as_deref(), Some("c-test"));
        assert_eq!(profile.endpoints[1].expect.body.as_deref(), Some("OK"));
    }

    #[test]
    fn pins_of_a_set_that_serves_unprobed_endpoints_are_kept() {
        let text =
            format!("{REVIEWED}\n[[endpoints]]\nurl = \"https://b.test/\"\npinset = \"svc\"\n");
        let mut doc: DocumentMut = text.parse().unwrap();
        let plan = Plan {
            endpoints: vec![pinned("https://a.test/ping", &[7, 2, 8])],
            ..Plan::default()
        };
        let changes = apply(&mut doc, &plan).unwrap();
        let svc = &changes.sets[0];
        assert!(svc.removed.is_empty());
        assert_eq!(svc.stale_kept[0].pin, pin(1));
        assert_eq!(svc.unprobed, ["https://b.test/"]);
        loads(&doc);
    }

    #[test]
    fn a_one_line_array_is_spread_when_it_grows() {
        let mut doc: DocumentMut = "[pinsets.s]\npins = [\"sha256/AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\"]\n[[endpoints]]\nurl = \"https://a.test/\"\n"
            .parse()
            .unwrap();
        let plan = Plan {
            endpoints: vec![pinned("https://a.test/", &[1, 2])],
            shared_set: Some("s".into()),
            ..Plan::default()
        };
        let changes = apply(&mut doc, &plan).unwrap();
        assert_eq!(
            changes.endpoints_linked,
            [("https://a.test/".to_string(), "s".to_string())]
        );
        let text = doc.to_string();
        assert!(
            text.contains("pins = [\n  \"sha256/AgIC"),
            "not spread:\n{text}"
        );
        assert!(text.contains("\n  { pin = \"sha256/AQEB"), "{text}");
        assert_eq!(loads(&doc).endpoints[0].pinset.as_deref(), Some("s"));
    }

    #[test]
    fn shapes_it_cannot_edit_are_errors() {
        for text in [
            "endpoints = [{ url = \"https://a.test/\" }]\n",
            "pinsets = 1\n",
        ] {
            let mut doc: DocumentMut = text.parse().unwrap();
            let plan = Plan {
                endpoints: vec![pinned("https://a.test/", &[1])],
                ..Plan::default()
            };
            assert!(apply(&mut doc, &plan).is_err(), "{text}");
        }
    }
}
