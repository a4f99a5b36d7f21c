//! The pins section of `inspect`: the pin set's verdict on the path, and otherwise the pins to
//! add, one TOML line each, ready to paste into a pin set.

use std::io::{self, Write};

use super::super::Shown;
use crate::chain::trust::{Role, Store};
use crate::pin_formats::toml_string;
use crate::probe::ProbeResult;
use crate::verdict::Verdict;

/// One pin of the trusted path, ready to paste into a pin set.
struct PathPin {
    pin: String,
    label: String,
    what: String,
}

/// The pins of the certificates on the path the pins were compared with (leaf,
/// intermediates, anchor), labelled as `pin` labels them.
fn path_pins(r: &ProbeResult) -> Vec<PathPin> {
    let Some(trust) = &r.trust else {
        return Vec::new();
    };
    let Some(path) = r.pins.path.and_then(|store| trust.path(store)) else {
        return Vec::new();
    };
    let today = crate::pins::today();
    r.pins
        .keys
        .iter()
        .map(|k| PathPin {
            pin: k.pin.to_string(),
            what: match (k.role, k.index) {
                (Role::Anchor, _) | (_, None) => format!(
                    "anchor: {} ({})",
                    k.subject,
                    path.anchor
                        .as_ref()
                        .map_or(String::new(), |a| a.origin.to_string())
                ),
                (role, Some(index)) => format!("#{index} {}: {}", role.name(), k.subject),
            },
            // one key at a time: a leaf that shares its CA's key is still listed twice
            label: crate::pins::needed(std::slice::from_ref(k), &today, "pinprobe inspect")
                .pop()
                .and_then(|e| e.label)
                .unwrap_or_default(),
        })
        .collect()
}

pub(super) fn pins(out: &mut impl Write, r: &ProbeResult) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "pins")?;
    let store = r.pins.path.map_or("verified", Store::name);
    match (&r.pins.set, r.pins.matched) {
        (Some(set), Some(true)) => {
            writeln!(
                out,
                "  set      {}: matched on the {store} path",
                Shown(set)
            )?;
            for m in &r.pins.matches {
                writeln!(
                    out,
                    "  matched  {} on {} ({})",
                    m.pin,
                    Shown(&m.certificate),
                    Shown(m.label.as_deref().unwrap_or("no label"))
                )?;
            }
            return Ok(());
        }
        (Some(set), Some(false)) => writeln!(
            out,
            "  set      {}: no pin of the set is on the {store} path",
            Shown(set)
        )?,
        (Some(set), None) => writeln!(
            out,
            "  set      {}: not checked (no certificate was presented)",
            Shown(set)
        )?,
        (None, _) => writeln!(out, "  set      none: verdict on trust alone")?,
    }
    if r.verdict == Verdict::SslInterception || r.interception.is_strong() {
        return writeln!(
            out,
            "  pins to add: none: the chain was made by a device that re-signs the traffic (see evidence); pinning it would accept the interception"
        );
    }
    let to_add = path_pins(r);
    if to_add.is_empty() {
        return writeln!(
            out,
            "  pins to add: none: the chain reaches no anchor in either store, so no key on it is vouched for"
        );
    }
    match r.pins.path {
        Some(Store::Os) => writeln!(
            out,
            "  pins to add, from the os path (only the OS store trusts this chain: pin it only if it is your own private PKI):"
        )?,
        _ => writeln!(
            out,
            "  pins to add, from the verified {store} path (leaf, intermediates, anchor):"
        )?,
    }
    for p in to_add {
        writeln!(
            out,
            "    {{ pin = {}, label = {} }},  # {}",
            toml_string(&p.pin),
            toml_string(&p.label),
            Shown(&p.what)
        )?;
    }
    Ok(())
}
