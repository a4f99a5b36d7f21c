//! What an onboarded agent left on this machine, read without privileges: the onboarding file
//! it was given, and the partner geography `mdatp health --details edr` reports.
//!
//! Nothing here stops a run: a file that is missing, unreadable (the agent's files are often
//! root's alone) or malformed, and an `mdatp` that fails, hangs or talks too much, each become
//! a note for the report. `mdatp` runs once, before any probe, without standard input, with
//! its output capped and a deadline after which it is killed.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::blob::partner_geo;
use super::{quoted, read, Tenant};
use crate::catalog::{Catalog, Geo};
use crate::error::Error;

/// Where an onboarded agent keeps its package, in the order they are looked at: the Linux
/// agent's JSON, the macOS preference an MDM deploys, and the one the macOS script writes.
pub const INSTALLED_FILES: [&str; 3] = [
    "/etc/opt/microsoft/mdatp/mdatp_onboard.json",
    "/Library/Managed Preferences/com.microsoft.wdav.atp.plist",
    "/Library/Application Support/Microsoft/Defender/com.microsoft.wdav.atp.plist",
];

/// How long `mdatp health` may take; it answers in well under a second.
const DEADLINE: Duration = Duration::from_secs(5);

/// How often a running `mdatp` is checked for its end.
const POLL: Duration = Duration::from_millis(20);

/// The most output of `mdatp` read; its health report is a few KiB.
const OUTPUT_CAP: usize = 64 * 1024;

/// How long the output of an `mdatp` that has ended is waited for: only a process it left
/// behind can hold its output open.
const OUTPUT_WAIT: Duration = Duration::from_secs(1);

/// The arguments of the health report that names the partner geography.
const HEALTH: [&str; 3] = ["health", "--details", "edr"];

/// What the agent installed on this machine says about its tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Installed {
    /// the package of the first onboarding file found, when it could be read
    pub tenant: Option<Tenant>,
    /// `edr_partner_geo_location` of `mdatp health --details edr` (`GW_EU`): set on devices
    /// onboarded with a streamlined package
    pub partner_geo: Option<Geo>,
    /// what could not be read or run, and why, for the report
    pub notes: Vec<String>,
}

/// Reads the first of `files` that exists and, when `mdatp` is given, runs
/// `mdatp health --details edr` for the partner geography. Failures are notes, never errors.
pub fn installed(files: &[&Path], mdatp: Option<&Path>) -> Installed {
    installed_within(files, mdatp, DEADLINE)
}

/// [`installed`], with `mdatp` given `deadline` to answer.
pub(super) fn installed_within(
    files: &[&Path],
    mdatp: Option<&Path>,
    deadline: Duration,
) -> Installed {
    let mut found = Installed::default();
    found.tenant = installed_tenant(files, &mut found.notes);
    if let Some(mdatp) = mdatp {
        found.partner_geo = agent_geo(mdatp, deadline, &mut found.notes);
    }
    if let (Some(tenant), Some(geo)) = (&found.tenant, found.partner_geo) {
        if tenant.catalog != Catalog::Streamlined || tenant.geo != geo {
            found.notes.push(format!(
                "mdatp reports the partner geography GW_{geo}, but {} is a {} package for {}: \
                 the device may have been onboarded again since",
                tenant.source, tenant.catalog, tenant.geo
            ));
        }
    }
    found
}

/// The tenant of the first of `files` that exists.
fn installed_tenant(files: &[&Path], notes: &mut Vec<String>) -> Option<Tenant> {
    for file in files {
        match std::fs::metadata(file) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                notes.push(cannot_read(file, &e));
                return None;
            }
            Ok(_) => {}
        }
        return match read(file) {
            Ok(tenant) => Some(tenant),
            Err(Error::Read { source, .. }) => {
                notes.push(cannot_read(file, &source));
                None
            }
            Err(e) => {
                notes.push(e.to_string());
                None
            }
        };
    }
    if !files.is_empty() {
        let looked: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        notes.push(format!(
            "no onboarding package installed: looked for {}",
            looked.join(", ")
        ));
    }
    None
}

/// The note for a file that exists but cannot be read.
fn cannot_read(file: &Path, e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::PermissionDenied {
        format!(
            "cannot read {}: permission denied (pinprobe does not ask for privileges)",
            file.display()
        )
    } else {
        format!("cannot read {}: {e}", file.display())
    }
}

/// The partner geography `mdatp health --details edr` reports.
fn agent_geo(mdatp: &Path, deadline: Duration, notes: &mut Vec<String>) -> Option<Geo> {
    let shown = format!("{} {}", mdatp.display(), HEALTH.join(" "));
    let output = match run(mdatp, &HEALTH, deadline) {
        Ok(output) => output,
        Err(why) => {
            notes.push(format!("{shown}: {why}"));
            return None;
        }
    };
    if output.truncated {
        notes.push(format!(
            "{shown}: output longer than {} KiB; the rest was not read",
            OUTPUT_CAP / 1024
        ));
    }
    if !output.status.success() {
        notes.push(format!("{shown}: {}", output.status));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(value) = health_field(&text, "edr_partner_geo_location") else {
        notes.push(format!(
            "{shown}: no edr_partner_geo_location in its output"
        ));
        return None;
    };
    if value.is_empty() || value.eq_ignore_ascii_case("unavailable") {
        notes.push(format!(
            "{shown}: no partner geography (edr_partner_geo_location {}): the device was \
             onboarded with a standard package",
            quoted(value)
        ));
        return None;
    }
    let geo = partner_geo(value);
    if geo.is_none() {
        notes.push(format!(
            "{shown}: edr_partner_geo_location {} is not a known geography: expected GW_ \
             followed by one of {}",
            quoted(value),
            Geo::codes()
        ));
    }
    geo
}

/// The value of `key` in `mdatp health` output (`key : "value"` or `key : value`), unquoted.
fn health_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        (name.trim() == key).then_some(value.trim())
    })
}

/// What a program wrote and how it ended.
struct Output {
    stdout: Vec<u8>,
    /// it wrote more than [`OUTPUT_CAP`]
    truncated: bool,
    status: ExitStatus,
}

/// Runs `program` without standard input, reading at most [`OUTPUT_CAP`] bytes of its output
/// and killing it after `deadline`; the error says why there is no output.
fn run(program: &Path, args: &[&str], deadline: Duration) -> Result<Output, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run it: {e}"))?;
    let (tx, rx) = mpsc::channel();
    if let Some(mut stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let read = (&mut stdout)
                .take(OUTPUT_CAP as u64 + 1)
                .read_to_end(&mut buf);
            let _ = tx.send(read.map(|_| buf));
            // a talkative program is not left blocked on a full pipe
            let _ = io::copy(&mut stdout, &mut io::sink());
        });
    }
    let status = wait_within(&mut child, deadline)?;
    let mut stdout = match rx.recv_timeout(OUTPUT_WAIT) {
        Ok(Ok(buf)) => buf,
        Ok(Err(e)) => return Err(format!("cannot read its output: {e}")),
        Err(_) => return Err("its output stayed open after it ended".to_string()),
    };
    let truncated = stdout.len() > OUTPUT_CAP;
    stdout.truncate(OUTPUT_CAP);
    Ok(Output {
        stdout,
        truncated,
        status,
    })
}

/// How `child` ended, polled at most `deadline / POLL` times; a child still running at the
/// deadline is killed.
fn wait_within(child: &mut std::process::Child, deadline: Duration) -> Result<ExitStatus, String> {
    let start = Instant::now();
    loop {
        let waited = match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => start.elapsed(),
            Err(e) => {
                stop(child);
                return Err(format!("cannot wait for it: {e}"));
            }
        };
        if waited >= deadline {
            stop(child);
            return Err(format!("no answer within {deadline:?}; it was stopped"));
        }
        std::thread::sleep(POLL.min(deadline - waited));
    }
}

/// Kills `child` and reaps it.
fn stop(child: &mut std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// `mdatp` in a directory of `PATH`. Relative directories of `PATH` are skipped: a program
/// found through them would depend on where pinprobe was started.
pub fn mdatp_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join("mdatp"))
        .find(|candidate| is_executable(candidate))
}

/// True for a file that may be run.
#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// True for a file that may be run.
#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
