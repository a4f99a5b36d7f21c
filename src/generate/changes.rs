//! What `pin` tells on standard error: the refused endpoints and why, or, once the profile is
//! written, what each pin set kept, gained and lost, and the warnings a reviewer needs.
//!
//! URLs, set names, labels, issuer organisations and the probes' details come from the profile
//! and the certificates: each is printed through [`Shown`].

use std::io::{self, Write};
use std::path::PathBuf;

use crate::report::Shown;
use crate::verdict::Verdict;

use super::document::{Changes, Entry, Plan, SetChange};
use super::take::Refusal;

/// `n` things, in the singular or the plural.
pub(super) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Each refused endpoint with why, and that no profile was written.
pub(super) fn write_refused(
    out: &mut impl Write,
    refused: &[Refusal],
    endpoints: usize,
    update: &Option<PathBuf>,
) -> io::Result<()> {
    for r in refused {
        let _ = write_refusal(out, r);
    }
    writeln!(
        out,
        "\nno profile written: {} of {} refused{}",
        count(refused.len(), "endpoint"),
        endpoints,
        match update {
            Some(path) => format!("; {} is unchanged", Shown(&path.display().to_string())),
            None => String::new(),
        }
    )
}

fn write_refusal(out: &mut impl Write, r: &Refusal) -> io::Result<()> {
    writeln!(
        out,
        "refused {}: {} (curl {}){}",
        Shown(&r.url),
        r.verdict.code(),
        r.curl_code,
        if r.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", Shown(&r.detail))
        }
    )?;
    for line in &r.why {
        writeln!(out, "  {}", Shown(line))?;
    }
    Ok(())
}

/// What was pinned, set by set, and the warnings a reviewer needs.
pub(super) fn write_changes(
    out: &mut impl Write,
    changes: &Changes,
    plan: &Plan,
    verdicts: &[(String, Verdict)],
    target: &str,
    update: &Option<PathBuf>,
) -> io::Result<()> {
    for set in &changes.sets {
        write_set(out, set, verdicts)?;
    }
    for (url, set) in &changes.endpoints_linked {
        writeln!(
            out,
            "endpoint {} now uses pin set {}",
            Shown(url),
            Shown(set)
        )?;
    }
    let what = if update.is_some() {
        "profile updated"
    } else {
        "profile written"
    };
    writeln!(
        out,
        "{what}: {} ({}, {}); review it before use",
        Shown(target),
        count(changes.sets.len(), "pin set"),
        count(plan.endpoints.len(), "endpoint")
    )?;
    for set in &changes.sets {
        write_backup_warnings(out, set)?;
    }
    Ok(())
}

/// One pin set: its endpoints with their verdicts, then each pin with what became of it.
fn write_set(
    out: &mut impl Write,
    set: &SetChange,
    verdicts: &[(String, Verdict)],
) -> io::Result<()> {
    let verdict_of = |url: &str| {
        verdicts
            .iter()
            .find(|(u, _)| u == url)
            .map_or("", |(_, v)| v.code())
    };
    let endpoints: Vec<String> = set
        .endpoints
        .iter()
        .map(|u| format!("{} ({})", Shown(u), verdict_of(u)))
        .collect();
    writeln!(
        out,
        "pin set {}{}: {}",
        Shown(&set.name),
        if set.created { " (new)" } else { "" },
        endpoints.join(", ")
    )?;
    for e in &set.kept {
        write_entry(out, "kept", e, "")?;
    }
    for e in &set.added {
        write_entry(out, "added", e, "")?;
    }
    for e in &set.backups {
        write_entry(out, "backup", e, " (not on the path, kept as a backup)")?;
    }
    let unprobed = Shown(&set.unprobed.join(", ")).to_string();
    for e in &set.stale_kept {
        write_entry(
            out,
            "stale",
            e,
            &format!(
                " (not on the path; kept because the set also serves {unprobed}, not probed now)"
            ),
        )?;
    }
    for e in &set.removed {
        write_entry(out, "removed", e, " (no longer on the path)")?;
    }
    if set.orgs_unknown && set.created {
        writeln!(
            out,
            "  no expect_issuer_orgs: a certificate served names no issuer organisation"
        )?;
    }
    if !set.orgs_added.is_empty() && !set.created {
        writeln!(
            out,
            "  expect_issuer_orgs gains {}",
            Shown(&set.orgs_added.join(", "))
        )?;
    }
    Ok(())
}

fn write_entry(out: &mut impl Write, what: &str, e: &Entry, note: &str) -> io::Result<()> {
    writeln!(
        out,
        "  {what:<8} {}  {}{note}",
        e.pin,
        Shown(e.label.as_deref().unwrap_or("(no label)"))
    )
}

/// A backup pin that is on the path, or a set with no pin off the path.
fn write_backup_warnings(out: &mut impl Write, set: &SetChange) -> io::Result<()> {
    for pin in &set.backups_on_path {
        writeln!(
            out,
            "warning: --backup-pin {pin} is in the current chain of pin set {}: it is no backup",
            Shown(&set.name)
        )?;
    }
    if set.off_path == 0 {
        writeln!(
            out,
            "warning: pin set {} has no backup pin: every pin is in the chain served today. \
             HPKP (RFC 7469) and TrustKit require at least one pin that is not in the current \
             chain, so that clients survive a key change. Add one with --backup-pin PIN: the \
             pin of a spare key pair kept offline (openssl pkey -in spare.key -pubout -outform \
             DER | openssl dgst -sha256 -binary | base64), or of another CA's root you could \
             move to",
            Shown(&set.name)
        )?;
    }
    Ok(())
}
