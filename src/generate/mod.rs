//! `pinprobe pin`: writes a profile from live chains.
//!
//! Each endpoint is probed once, as `test` does; the pins are those of the verified path (leaf,
//! intermediates, anchor), each labelled with what it is, when it expires and when it was taken.
//! A chain that reaches no public (or `--cacert`) anchor is refused unless `--allow-untrusted`,
//! because pinning an inspecting proxy's CA is the classic mistake: the pins would then accept
//! the interception. One refused endpoint means no profile is written (exit status 1), so a
//! reviewer never gets a file that silently lacks an endpoint.
//!
//! The profile goes to standard output or `-o FILE`; what was pinned, refused or changed goes
//! to standard error, so that standard output stays a clean TOML document.
//!
//! The command's options and entry point are in `crate::cmd::pin`.

pub mod document;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml_edit::DocumentMut;

use crate::chain::trust::{AnchorInfo, PathState, TimeProblem};
use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::net::resolve::Resolver;
use crate::pins::Pin;
use crate::probe::{self, ProbeResult};
use crate::profile::Profile;
use crate::report::{Quiet, Summary};
use crate::run;
use crate::verdict::Verdict;

use document::{Changes, Pinned, Plan, Taken};

/// Longest HTTP body written as `expect_body`; longer answers are not a health check's.
pub const MAX_EXPECT_BODY: usize = 64;

/// A `pin` run, validated: what to probe and how, and where the profile goes.
#[derive(Clone, Debug)]
pub struct Job {
    /// the endpoints to pin, each once, and how to reach them
    pub config: Config,
    /// where the endpoints came from, for the first line on standard error
    pub source: String,
    /// one pin set for every endpoint, with this name
    pub shared_set: Option<String>,
    /// pin a chain that reaches no public (or --cacert) anchor
    pub allow_untrusted: bool,
    /// backup pins added to every set
    pub backups: Vec<Pin>,
    /// the profile to rewrite (as read by [`load_for_update`]) and its path
    pub update: Option<(DocumentMut, PathBuf)>,
    /// where the profile goes: this file, else the `update` file, else standard output
    pub output: Option<PathBuf>,
}

/// Why an endpoint was not pinned.
#[derive(Clone, Debug)]
pub struct Refusal {
    /// the endpoint
    pub url: String,
    /// its verdict
    pub verdict: Verdict,
    /// the curl code of the verdict
    pub curl_code: u8,
    /// the probe's one-line evidence
    pub detail: String,
    /// why pinning it is refused, and what to do
    pub why: Vec<String>,
}

/// Probes the endpoints of the job and writes the profile. Refused endpoints count as failed
/// (exit status 1) and nothing is written; what was pinned, refused or changed goes to
/// standard error.
pub fn pin(job: Job) -> Result<Summary, Error> {
    let config = &job.config;
    let update_path = job.update.as_ref().map(|(_, path)| path.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let context = run::context(config, Resolver::system(config.resolve.clone()))?;
    let routes = context.proxies().describe();
    let mut results: Vec<Option<ProbeResult>> = vec![None; config.endpoints.len()];
    runtime.block_on(probe::run_all(
        Arc::new(context),
        config.endpoints.clone(),
        config.concurrency,
        |index, result| results[index] = Some(result),
    ));

    let taken_on = today();
    let mut summary = Summary::default();
    let mut pinned = Vec::new();
    let mut refused = Vec::new();
    let mut verdicts = Vec::new();
    for (endpoint, result) in config.endpoints.iter().zip(results) {
        let result = result
            .unwrap_or_else(|| ProbeResult::internal_error(endpoint, "the probe gave no result"));
        *summary.verdicts.entry(result.verdict).or_default() += 1;
        summary.total += 1;
        verdicts.push((endpoint.url.clone(), result.verdict));
        match take(endpoint, &result, job.allow_untrusted, &taken_on) {
            Ok(p) => {
                summary.ok += 1;
                pinned.push(p);
            }
            Err(r) => {
                summary.failed += 1;
                refused.push(r);
            }
        }
    }

    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "pinprobe {} pin: {} from {}, {routes}",
        env!("CARGO_PKG_VERSION"),
        count(config.endpoints.len(), "endpoint"),
        job.source
    );
    if !refused.is_empty() {
        for r in &refused {
            let _ = write_refusal(&mut err, r);
        }
        let _ = writeln!(
            err,
            "\nno profile written: {} of {} refused{}",
            count(refused.len(), "endpoint"),
            config.endpoints.len(),
            match &update_path {
                Some(path) => format!("; {} is unchanged", path.display()),
                None => String::new(),
            }
        );
        return Ok(summary);
    }

    let plan = Plan {
        endpoints: pinned,
        shared_set: job.shared_set,
        backups: job.backups,
    };
    let (mut doc, target) = match job.update {
        Some((doc, path)) => {
            let target = job.output.unwrap_or(path);
            (doc, Some(target))
        }
        None => (
            document::new_document(
                &header(plan.endpoints.len(), &taken_on),
                &description(&plan.endpoints, &taken_on),
            ),
            job.output,
        ),
    };
    let changes = document::apply(&mut doc, &plan).map_err(|message| Error::File {
        file: update_path
            .as_ref()
            .map_or_else(|| "the new profile".into(), |p| p.display().to_string()),
        message,
    })?;
    let text = doc.to_string();
    let shown = target.as_ref().map_or_else(
        || "standard output".to_string(),
        |p| p.display().to_string(),
    );
    // what is written must load, or the reviewer gets a file that pinprobe itself refuses
    Profile::parse(&text, &shown)
        .and_then(|p| p.check_refs(&shown, &[]))
        .map_err(|e| Error::File {
            file: shown.clone(),
            message: format!(
                "the profile made does not load ({e}); nothing was written: please report this"
            ),
        })?;
    write_profile(target.as_deref(), &text)?;

    let _ = write_changes(&mut err, &changes, &plan, &verdicts, &shown, &update_path);
    Ok(summary)
}

/// Reads the profile to update: it must load as a profile (with every pin set it names
/// defined in it) and parse as an editable TOML document.
pub fn load_for_update(path: &Path) -> Result<(DocumentMut, Profile, PathBuf), Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file = path.display().to_string();
    let profile = Profile::parse(&text, &file)?;
    profile.check_refs(&file, &[])?;
    let doc = text.parse::<DocumentMut>().map_err(|e| Error::File {
        file: file.clone(),
        message: format!("cannot be edited: {}", e.message()),
    })?;
    Ok((doc, profile, path.to_path_buf()))
}

/// Writes the profile to the file, through a temporary file beside it so that a failed write
/// never leaves half a profile, or to standard output (a closed pipe is a normal end).
fn write_profile(target: Option<&Path>, text: &str) -> Result<(), Error> {
    let Some(path) = target else {
        let mut out = Quiet::new(io::stdout().lock());
        return out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|source| Error::Write {
                target: "standard output".into(),
                source,
            });
    };
    let write_error = |source| Error::Write {
        target: path.display().to_string(),
        source,
    };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".pinprobe-new");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, text).map_err(write_error)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        write_error(e)
    })
}

/// The verdicts that end a probe before the handshake completed, or in a bug.
fn without_chain(verdict: Verdict) -> bool {
    matches!(
        verdict,
        Verdict::DnsFailed
            | Verdict::ConnectFailed
            | Verdict::Timeout
            | Verdict::HandshakeFailed
            | Verdict::ProxyAuthRequired
            | Verdict::ProxyRefused
            | Verdict::InternalError
    )
}

/// The pins of an endpoint's verified path, or why it must not be pinned.
pub fn take(
    endpoint: &Endpoint,
    r: &ProbeResult,
    allow_untrusted: bool,
    taken_on: &str,
) -> Result<Pinned, Refusal> {
    let refuse = |why: Vec<String>| Refusal {
        url: r.url.clone(),
        verdict: r.verdict,
        curl_code: r.curl_code,
        detail: r.detail.clone(),
        why,
    };
    // a chain counts only once the server proved it holds the leaf's key (the handshake
    // completed); an HTTP problem after that does not change the chain
    let trust = match (&r.trust, &r.tls) {
        (Some(trust), Some(_)) => trust,
        _ => {
            let what = if without_chain(r.verdict) || r.chain.is_empty() {
                "no chain to pin: the probe did not complete a TLS handshake"
            } else {
                "the TLS handshake did not complete, so the server never proved it holds the leaf's key"
            };
            return Err(refuse(vec![what.into()]));
        }
    };

    let public_reached = trust.public.state != PathState::NotReached;
    let (path, os_only) = if public_reached {
        if r.interception.is_strong() && !allow_untrusted {
            let signals: Vec<String> = r
                .interception
                .evidence
                .iter()
                .filter(|s| s.strength == crate::evidence::Strength::Strong)
                .map(|s| format!("{}: {}", s.signal, s.detail))
                .collect();
            return Err(refuse(vec![
                format!(
                    "the chain reaches the public anchor {}, but shows strong signs of interception: {}",
                    anchor_text(trust.public.anchor.as_ref()),
                    signals.join("; ")
                ),
                classic_mistake(),
            ]));
        }
        (&trust.public, false)
    } else if !allow_untrusted {
        let os = match (&trust.os.anchor, trust.os.state) {
            (Some(anchor), state) if state != PathState::NotReached => format!(
                "only the OS store trusts it: its path ends at the anchor {}",
                anchor_text(Some(anchor))
            ),
            _ => "the OS store does not trust it either".to_string(),
        };
        return Err(refuse(vec![
            format!("the chain reaches no public anchor (Mozilla's roots or --cacert); {os}"),
            classic_mistake(),
        ]));
    } else if trust.os.state != PathState::NotReached {
        (&trust.os, true)
    } else {
        return Err(refuse(vec![
            "the chain reaches no anchor in either store, so no path is verified and a pin taken from it would never match: give its CA with --cacert".into(),
        ]));
    };

    if let PathState::TimeInvalid(problem) = path.state {
        let what = match problem {
            TimeProblem::Expired => "expired",
            TimeProblem::NotYetValid => "not valid yet",
        };
        return Err(refuse(vec![format!(
            "a certificate on the {} path is {what} ({}): a client rejects this chain whatever its pins; renew the certificate first",
            path.store,
            path.error.as_deref().unwrap_or("out of its validity period")
        )]));
    }
    if let Some(name) = trust.hostname.as_ref().filter(|h| !h.ok) {
        return Err(refuse(vec![format!(
            "the leaf does not cover {} ({}): a client rejects this chain whatever its pins; fix the certificate or the --resolve mapping first",
            endpoint.host,
            name.detail.as_deref().unwrap_or("name mismatch")
        )]));
    }

    let source = if os_only {
        format!(
            "pinprobe pin --allow-untrusted, live chain of {} (anchored in the OS store only)",
            r.url
        )
    } else {
        format!("pinprobe pin, live chain of {}", r.url)
    };
    // the keys of the path the probe compared its pins with: the same path as chosen above
    let pins = crate::pins::needed(&r.pins.keys, taken_on, &source)
        .into_iter()
        .map(|e| Taken {
            pin: e.pin,
            label: e.label.unwrap_or_default(),
            source: e.source.unwrap_or_default(),
        })
        .collect();
    // the issuer organisations of the chain as served (what the unexpected-issuer signal
    // reads); a certificate without one would make that signal fire on the genuine chain
    let orgs = r.chain.iter().filter(|c| c.parse_error.is_none()).try_fold(
        Vec::<String>::new(),
        |mut all, c| {
            let o = c.issuer_o.as_ref()?;
            if !all.iter().any(|a| a.eq_ignore_ascii_case(o)) {
                all.push(o.clone());
            }
            Some(all)
        },
    );
    let answer = r.http.as_ref().and_then(|h| h.answer.as_ref());
    let body = answer.and_then(|a| {
        let body = a.body.trim();
        let usable = !a.truncated
            && !body.is_empty()
            && body.len() <= MAX_EXPECT_BODY
            && !body.chars().any(char::is_control);
        usable.then(|| body.to_string())
    });
    Ok(Pinned {
        url: endpoint.url.clone(),
        host: endpoint.host.clone(),
        port: endpoint.port,
        pins,
        issuer_orgs: orgs,
        expect_status: answer.map(|a| a.status),
        expect_body: body,
    })
}

fn classic_mistake() -> String {
    "pinning an inspecting proxy's CA is the classic mistake: the pins would accept the interception. Run where the traffic is not inspected, pass your private CA with --cacert, or give --allow-untrusted if this chain is your own".into()
}

fn anchor_text(anchor: Option<&AnchorInfo>) -> String {
    match anchor {
        Some(a) => format!("\"{}\" ({}, {})", a.subject, a.spki_sha256, a.origin),
        None => "(unknown)".into(),
    }
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn header(endpoints: usize, taken_on: &str) -> String {
    format!(
        "# Generated by pinprobe {} on {taken_on} from the live chains of {}.\n\
         # Review before use: each pin is the key of a certificate this machine was served. Check\n\
         # that no device on the path re-signs the traffic, and keep a backup pin that is not in\n\
         # the current chain (--backup-pin): a pinned client needs one to survive a key change.\n",
        env!("CARGO_PKG_VERSION"),
        count(endpoints, "endpoint")
    )
}

fn description(endpoints: &[Pinned], taken_on: &str) -> String {
    match endpoints {
        [one] => format!("Pins of {}, taken {taken_on}", one.url),
        many => format!("Pins of {} endpoints, taken {taken_on}", many.len()),
    }
}

fn write_refusal(out: &mut impl Write, r: &Refusal) -> io::Result<()> {
    writeln!(
        out,
        "refused {}: {} (curl {}){}",
        r.url,
        r.verdict.code(),
        r.curl_code,
        if r.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", r.detail)
        }
    )?;
    for line in &r.why {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

fn write_entry(
    out: &mut impl Write,
    what: &str,
    e: &document::Entry,
    note: &str,
) -> io::Result<()> {
    writeln!(
        out,
        "  {what:<8} {}  {}{note}",
        e.pin,
        e.label.as_deref().unwrap_or("(no label)")
    )
}

/// What was pinned, set by set, and the warnings a reviewer needs.
fn write_changes(
    out: &mut impl Write,
    changes: &Changes,
    plan: &Plan,
    verdicts: &[(String, Verdict)],
    target: &str,
    update: &Option<PathBuf>,
) -> io::Result<()> {
    for set in &changes.sets {
        let verdict_of = |url: &str| {
            verdicts
                .iter()
                .find(|(u, _)| u == url)
                .map_or("", |(_, v)| v.code())
        };
        let endpoints: Vec<String> = set
            .endpoints
            .iter()
            .map(|u| format!("{u} ({})", verdict_of(u)))
            .collect();
        writeln!(
            out,
            "pin set {}{}: {}",
            set.name,
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
        let unprobed = set.unprobed.join(", ");
        for e in &set.stale_kept {
            write_entry(
                out,
                "stale",
                e,
                &format!(" (not on the path; kept because the set also serves {unprobed}, not probed now)"),
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
                set.orgs_added.join(", ")
            )?;
        }
    }
    for (url, set) in &changes.endpoints_linked {
        writeln!(out, "endpoint {url} now uses pin set {set}")?;
    }
    let what = if update.is_some() {
        "profile updated"
    } else {
        "profile written"
    };
    writeln!(
        out,
        "{what}: {target} ({}, {}); review it before use",
        count(changes.sets.len(), "pin set"),
        count(plan.endpoints.len(), "endpoint")
    )?;
    for set in &changes.sets {
        for pin in &set.backups_on_path {
            writeln!(
                out,
                "warning: --backup-pin {pin} is in the current chain of pin set {}: it is no backup",
                set.name
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
                set.name
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_is_a_date() {
        assert_eq!(today().len(), 10);
    }
}
