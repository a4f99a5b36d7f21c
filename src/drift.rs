//! Pin drift: how a pin set and the verified path have drifted apart, which position changed,
//! and the pins the chain would need.
//!
//! A set drifts when its pins are no longer on the path (stale) or the path holds keys the set
//! does not know (new). A new leaf under a CA the set still matches is the usual key rotation; a
//! new intermediate or anchor means the service changed CA, which breaks every client pinned to
//! the old one. The change is read from positions on the verified path (see `classify`); the
//! labels of stale pins (`pinprobe pin` writes `leaf: ...`, `intermediate: ...`, `anchor: ...`)
//! are read only when no pin of the set is on the path any more.

use serde::Serialize;

pub use crate::chain::trust::{PathKey, Role};
use crate::pins::{Pin, PinEntry, PinReport, PinSet};

impl Role {
    /// The role a label names, if it names one.
    pub fn from_label(label: &str) -> Option<Role> {
        let l = label.to_ascii_lowercase();
        if l.starts_with("leaf") || l.contains("(leaf") {
            Some(Role::Leaf)
        } else if l.starts_with("intermediate") || l.contains("(intermediate") {
            Some(Role::Intermediate)
        } else if l.starts_with("anchor") || l.starts_with("root") || l.contains("(root") {
            Some(Role::Anchor)
        } else {
            None
        }
    }
}

/// A pin of the set that is not on the path any more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StalePin {
    /// the pin
    pub pin: Pin,
    /// its label in the set
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// the position the label names, if any
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// What changed, in one word for CI messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// only the leaf key changed: the usual rotation
    LeafRotation,
    /// an intermediate or the anchor changed: a CA change
    CaChange,
    /// the labels do not tell which position the stale pins held
    Unknown,
    /// nothing on the path changed: certificates the set carries as anchors expired
    PinnedExpired,
}

/// The drift of one pin set against one verified path.
#[derive(Clone, Debug, Serialize)]
pub struct Drift {
    /// the pin set
    pub set: String,
    /// a pin of the set is still on the path
    pub matched: bool,
    /// what changed
    pub change: Change,
    /// one line for humans
    pub summary: String,
    /// pins of the set no longer on the path (backups, which are meant to be absent, excluded)
    pub stale: Vec<StalePin>,
    /// keys of the path the set does not hold
    pub new: Vec<PathKey>,
    /// the pins of the whole path, as the set would need them
    pub needed: Vec<PinEntry>,
    /// certificates the set carries as anchors that have expired (`Name (origin) expired on
    /// DATE`): still trusted by the client that ships them, due to be replaced
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pinned_expired: Vec<String>,
}

/// Describes how `set` and the verified `path` drifted apart, from the pin check of the two
/// (`pins::check`), with the set's own anchors that have expired (`pinned_expired`); None when
/// nothing drifted and nothing expired. `taken_on` dates the pins it proposes.
pub fn compare(
    set: &PinSet,
    report: &PinReport,
    path: &[PathKey],
    taken_on: &str,
    pinned_expired: Vec<String>,
) -> Option<Drift> {
    let stale: Vec<StalePin> = report
        .stale
        .iter()
        .map(|e| StalePin {
            pin: e.pin,
            label: e.label.clone(),
            role: e.label.as_deref().and_then(Role::from_label),
        })
        .collect();
    let matched = report.is_match();
    if stale.is_empty() && matched && pinned_expired.is_empty() {
        return None;
    }

    let only_expired = stale.is_empty() && matched;
    let (change, summary) = if only_expired {
        (
            Change::PinnedExpired,
            format!(
                "pin set {} matches, but carries {} certificate(s) that expired",
                set.name,
                pinned_expired.len()
            ),
        )
    } else {
        let (change, changed) = classify(report, &stale);
        let summary = summary(&set.name, change, matched, &changed, stale.len());
        (change, summary)
    };
    // nothing drifted when only the set's own certificates expired: the path's other keys are
    // not news then, as they are not in a run without that report, and no pin is needed
    let (new, needed) = if only_expired {
        (Vec::new(), Vec::new())
    } else {
        (
            report.new.clone(),
            crate::pins::needed(path, taken_on, "pinprobe drift report"),
        )
    };
    Some(Drift {
        set: set.name.clone(),
        matched,
        change,
        summary,
        stale,
        new,
        needed,
        pinned_expired,
    })
}

/// What changed, judged by position on the verified path first: while a pin of the set is still
/// on the path, the stale pins stood where the path now has keys the set does not hold, so a
/// new leaf for each stale pin is a leaf rotation and more stale pins than new leaves is a CA
/// change (at the new intermediate or anchor positions). Only when no pin of the set is on the
/// path at all does nothing on the path say where the stale pins stood: then their labels decide
/// (`leaf: ...`, `intermediate: ...`, `anchor: ...`, as `pinprobe pin` writes them), and without
/// labels the change is unknown. Returns the change and the CA positions that changed.
fn classify(report: &PinReport, stale: &[StalePin]) -> (Change, Vec<Role>) {
    let positions = |roles: &mut Vec<Role>| {
        roles.sort();
        roles.dedup();
    };
    let mut new: Vec<Role> = report.new.iter().map(|k| k.role).collect();
    positions(&mut new);
    if report.is_match() {
        // the set still holds a key of this path, so the stale pins stood where the path now
        // has keys the set does not hold; a new leaf can account for one of them, the usual
        // rotation; more stale pins than new leaves means a CA position changed too
        let new_leaves = report.new.iter().filter(|k| k.role == Role::Leaf).count();
        let change = if new.is_empty() {
            Change::Unknown
        } else if stale.len() <= new_leaves {
            Change::LeafRotation
        } else {
            Change::CaChange
        };
        new.retain(|r| *r != Role::Leaf);
        return (change, new);
    }
    let mut held: Vec<Role> = stale.iter().filter_map(|s| s.role).collect();
    positions(&mut held);
    let labelled = !stale.is_empty() && stale.iter().all(|s| s.role.is_some());
    match held.as_slice() {
        _ if !labelled => (Change::Unknown, Vec::new()),
        [Role::Leaf] => (Change::LeafRotation, held),
        _ => (Change::CaChange, held),
    }
}

/// The one line of a drift report: what changed, and whether the set still matches.
/// `changed` are the positions that changed, when known.
fn summary(set: &str, change: Change, matched: bool, changed: &[Role], stale: usize) -> String {
    let state = if matched {
        "still matches on another pin, but clients pinned to the stale ones will fail"
    } else {
        "no longer matches"
    };
    match change {
        Change::LeafRotation => {
            format!("the leaf key changed (the usual rotation); pin set {set} {state}")
        }
        Change::CaChange if !changed.is_empty() => {
            let roles: Vec<&str> = changed.iter().map(|r| r.name()).collect();
            format!(
                "the {} changed (a CA change); pin set {set} {state}",
                roles.join(" and ")
            )
        }
        Change::CaChange => format!(
            "the path has a new intermediate or anchor (a CA change); pin set {set} {state}"
        ),
        // classify never gives it: compare words that case itself
        Change::Unknown | Change::PinnedExpired => format!(
            "{stale} pin(s) of set {set} are not on the path, and neither the path nor their labels say which position they held; pin set {set} {state}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pins::tests::entry;

    fn key(seed: &str, role: Role) -> PathKey {
        crate::pins::tests::key(seed, role, "2027-01-01T00:00:00Z")
    }

    fn set(pins: Vec<PinEntry>) -> PinSet {
        PinSet {
            name: "svc".into(),
            pins,
            ..PinSet::default()
        }
    }

    fn drift(set: &PinSet, path: &[PathKey], taken_on: &str) -> Option<Drift> {
        compare(
            set,
            &crate::pins::check(set, path, &[]),
            path,
            taken_on,
            Vec::new(),
        )
    }

    #[test]
    fn drift_table() {
        let path = [
            key("leaf2", Role::Leaf),
            key("inter", Role::Intermediate),
            key("root", Role::Anchor),
        ];
        let full_old = vec![
            entry("leaf1", "leaf: svc.test"),
            entry("inter", "intermediate: Issuing"),
            entry("root", "anchor: Root"),
        ];

        // nothing stale, matched: no drift
        let current = vec![entry("leaf2", "leaf: x"), entry("inter", "intermediate: y")];
        assert!(drift(&set(current), &path, "today").is_none());

        // a backup pin is meant to be absent
        let with_backup = vec![
            entry("inter", "intermediate: y"),
            entry("spare", "backup key"),
        ];
        assert!(drift(&set(with_backup), &path, "today").is_none());

        // leaf rotated under a full set: still matches, leaf rotation reported
        let d = drift(&set(full_old.clone()), &path, "today").unwrap();
        assert!(d.matched);
        assert_eq!(d.change, Change::LeafRotation);
        assert_eq!(d.stale.len(), 1);
        assert_eq!(d.new.len(), 1);
        assert!(d.summary.contains("still matches"), "{}", d.summary);

        // leaf-pinned set, leaf rotated: no match, leaf rotation
        let d = drift(&set(vec![entry("leaf1", "leaf: svc.test")]), &path, "today").unwrap();
        assert!(!d.matched);
        assert_eq!(d.change, Change::LeafRotation);

        // CA changed: stale intermediate and anchor
        let new_ca = [
            key("leaf3", Role::Leaf),
            key("inter2", Role::Intermediate),
            key("root2", Role::Anchor),
        ];
        let d = drift(&set(full_old.clone()), &new_ca, "today").unwrap();
        assert_eq!(d.change, Change::CaChange);
        assert!(
            d.summary.contains("leaf and intermediate and anchor"),
            "{}",
            d.summary
        );
        assert_eq!(d.needed.len(), 3);
        assert!(d.needed[1]
            .label
            .as_deref()
            .unwrap()
            .starts_with("intermediate: inter2"));

        // no pin on the path and labels that do not say: unknown, never a guess
        let d = drift(
            &set(vec![entry("other", "DigiCert Global Root G2")]),
            &new_ca,
            "t",
        )
        .unwrap();
        assert_eq!(d.change, Change::Unknown);
        assert!(
            d.summary.contains("neither the path nor their labels"),
            "{}",
            d.summary
        );
        // a leaf-pinned set without labels whose leaf rotated is not called a CA change
        let d = drift(&set(vec![entry("leaf1", "svc key")]), &path, "t").unwrap();
        assert_eq!(d.change, Change::Unknown);
        // labels as the bundled profile writes them: "(root, ...)"
        let d = drift(
            &set(vec![entry(
                "root",
                "DigiCert Global Root G2 (root, RSA-2048)",
            )]),
            &new_ca,
            "t",
        )
        .unwrap();
        assert_eq!(d.change, Change::CaChange);

        // by position, whatever the labels say: the anchor is still pinned, only the leaf is
        // new, though the stale pin's label claims an intermediate
        let d = drift(
            &set(vec![
                entry("root", "x"),
                entry("leaf1", "intermediate: mislabelled"),
            ]),
            &path,
            "t",
        )
        .unwrap();
        assert_eq!(d.change, Change::LeafRotation);
        assert!(d.matched);
        // the anchor is still pinned and a new intermediate came: a CA change of the intermediate
        let new_inter = [
            key("leaf2", Role::Leaf),
            key("inter2", Role::Intermediate),
            key("root", Role::Anchor),
        ];
        let d = drift(&set(full_old.clone()), &new_inter, "t").unwrap();
        assert_eq!(d.change, Change::CaChange);
        assert!(
            d.summary
                .starts_with("the intermediate changed (a CA change)"),
            "{}",
            d.summary
        );
        // the leaf's key is still pinned, re-issued under another CA: nothing is stale, so
        // the set has not drifted
        let reissued = [
            key("leaf1", Role::Leaf),
            key("inter2", Role::Intermediate),
            key("root2", Role::Anchor),
        ];
        assert!(drift(&set(vec![entry("leaf1", "x")]), &reissued, "t").is_none());
    }

    #[test]
    fn roles_from_labels() {
        for (label, role) in [
            ("leaf: svc.test, expires 2027", Some(Role::Leaf)),
            ("Intermediate: Issuing CA", Some(Role::Intermediate)),
            ("anchor: CN=Root", Some(Role::Anchor)),
            ("DigiCert Global Root G2 (root)", Some(Role::Anchor)),
            ("DigiCert Global Root G2", None),
        ] {
            assert_eq!(Role::from_label(label), role, "{label}");
        }
    }
}
