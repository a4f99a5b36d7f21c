//! What an onboarded agent left on this machine, read without privileges: the onboarding file
//! it was given, and the partner geography `mdatp health --details edr` reports.
//!
//! Nothing here stops a run: a file that is missing, unreadable (the agent's files are often
//! root's alone) or malformed, and an `mdatp` that fails, hangs or talks too much, each become
//! a note for the report, which names the file as "the installed onboarding file" (no flag
//! named it). `mdatp` runs once, before any probe, without standard input, with its output
//! capped and a deadline after which it is killed with every process it started (it runs in
//! a process group of its own).

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::blob::partner_geo;
use super::org::OrgId;
use super::{parse, quoted, quoted_hiding, Tenant};
use crate::catalog::{Catalog, Geo};
use crate::error::Error;
use crate::input;

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
/// behind can hold its output open, and what was read by then is kept.
const OUTPUT_WAIT: Duration = Duration::from_secs(1);

/// How messages name an installed file: no flag named it.
const INSTALLED_FILE: &str = "the installed onboarding file";

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
        let read = input::read_bounded(file, input::INSTALLED_ONBOARDING)
            .and_then(|bytes| parse(&bytes, &file.display().to_string()));
        return match read {
            Ok(tenant) => Some(tenant),
            Err(Error::Read { source, .. }) => {
                notes.push(cannot_read(file, &source));
                None
            }
            // the limit names the file as installed already
            Err(e @ Error::TooLarge { .. }) => {
                notes.push(e.to_string());
                None
            }
            Err(e) => {
                notes.push(format!("{INSTALLED_FILE} {e}"));
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
            "cannot read {INSTALLED_FILE} {}: permission denied (pinprobe does not ask for \
             privileges)",
            file.display()
        )
    } else {
        format!("cannot read {INSTALLED_FILE} {}: {e}", file.display())
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
    // of output still open, only the lines it ended are whole
    let text = if output.complete {
        &text[..]
    } else {
        text.rsplit_once('\n').map_or("", |(lines, _)| lines)
    };
    let Some(value) = health_field(text, "edr_partner_geo_location") else {
        notes.push(if output.complete {
            format!("{shown}: no edr_partner_geo_location in its output")
        } else {
            format!(
                "{shown}: its output stayed open after it ended, without \
                 edr_partner_geo_location in what it wrote"
            )
        });
        return None;
    };
    // the tenant id, when the output gives it, is hidden as in a package's messages
    let org = health_field(text, "org_id").and_then(|id| OrgId::new(id).ok());
    let value_shown = match &org {
        Some(org) => quoted_hiding(value, org),
        None => quoted(value),
    };
    if value.is_empty() || value.eq_ignore_ascii_case("unavailable") {
        notes.push(format!(
            "{shown}: no partner geography (edr_partner_geo_location {value_shown}): the device \
             was onboarded with a standard package"
        ));
        return None;
    }
    let geo = partner_geo(value);
    if geo.is_none() {
        notes.push(format!(
            "{shown}: edr_partner_geo_location {value_shown} is not a known geography: expected \
             GW_ followed by one of {}",
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
    /// its output was read to its end; false when a process it left behind held it open
    complete: bool,
    status: ExitStatus,
}

/// Runs `program` without standard input, in a process group of its own, reading at most
/// [`OUTPUT_CAP`] bytes of its output and killing the group after `deadline`; the error says
/// why there is no output. The output of a program that ended is waited for [`OUTPUT_WAIT`],
/// and what was read by then is kept.
fn run(program: &Path, args: &[&str], deadline: Duration) -> Result<Output, String> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    let read = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        let read = Arc::clone(&read);
        std::thread::spawn(move || {
            let _ = tx.send(collect(stdout, &read));
        });
    }
    let status = wait_within(&mut child, deadline)?;
    let complete = match rx.recv_timeout(OUTPUT_WAIT) {
        Ok(Ok(())) => true,
        Ok(Err(e)) => return Err(format!("cannot read its output: {e}")),
        Err(_) => false,
    };
    let mut stdout = std::mem::take(&mut *read.lock().unwrap_or_else(PoisonError::into_inner));
    let truncated = stdout.len() > OUTPUT_CAP;
    stdout.truncate(OUTPUT_CAP);
    Ok(Output {
        stdout,
        truncated,
        complete,
        status,
    })
}

/// Reads `stdout` into `read` as it comes, up to one byte more than [`OUTPUT_CAP`], then
/// drains the rest, so that a talkative program is not left blocked on a full pipe. Returns
/// when the output ends.
fn collect(mut stdout: impl Read, read: &Mutex<Vec<u8>>) -> io::Result<()> {
    let mut chunk = [0u8; 8 * 1024];
    loop {
        let n = match stdout.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut kept = read.lock().unwrap_or_else(PoisonError::into_inner);
        let room = (OUTPUT_CAP + 1).saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..n.min(room)]);
        if kept.len() > OUTPUT_CAP {
            drop(kept);
            return io::copy(&mut stdout, &mut io::sink()).map(drop);
        }
    }
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
                // not known to run still, its id may name no group of its own: it alone is
                // killed
                let _ = child.kill();
                let _ = child.wait();
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

/// Kills `child`, still running, with the processes it started, and reaps it.
fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(group) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill takes no pointers. The group is the one the child leads since it was
        // spawned (`process_group(0)`); the child is not reaped yet, so the id is still its own.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
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
