//! Updating one pin set of the document from the paths of its endpoints: entries on a path
//! kept, backups kept, stale ones removed (or kept while an endpoint of the set was not
//! probed), new path pins added, issuer organisations merged.

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, TableLike, Value};

use super::array::{push_entry, remove_entries};
use super::{text, Entry, Pinned, SetChange, Taken, BACKUP_LABEL, BACKUP_SOURCE};
use crate::pins::{marked_backup, Pin};

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
    t.insert("label", text(label));
    t.insert("source", text(source));
    t.fmt();
    Value::InlineTable(t)
}

pub(super) fn update_set(
    doc: &mut DocumentMut,
    name: &str,
    endpoints: &[&Pinned],
    unprobed: Vec<String>,
    backups: &[Pin],
) -> Result<SetChange, String> {
    let (path, orgs) = paths_and_orgs(endpoints);

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
            list.push(text(org));
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

/// The pins of every path of the set, in order, without duplicates; and the issuer
/// organisations of every chain (None when a chain had a certificate without one).
fn paths_and_orgs<'e>(endpoints: &[&'e Pinned]) -> (Vec<&'e Taken>, Option<Vec<String>>) {
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
    (path, orgs)
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
            list.push(text(&org));
            change.orgs_added.push(org);
        }
    }
}
