//! The installed agent's package and `mdatp health`, with a fake `mdatp` written as a small
//! shell script.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::super::installed::installed_within;
use super::{assert_no_org, blob, eu_streamlined, outer, us_standard, write, ORG};
use crate::catalog::Geo;
use crate::onboarding::Installed;

/// A deadline no healthy fake comes near.
const GENEROUS: Duration = Duration::from_secs(20);

/// An executable `mdatp` in `dir` that answers `health --details edr` by running `script`.
fn fake_mdatp(dir: &Path, script: &str) -> PathBuf {
    let path = write(
        dir,
        "mdatp",
        format!(
            "#!/bin/sh\n[ \"$*\" = \"health --details edr\" ] || {{ echo \"usage\"; exit 3; }}\n{script}\n"
        ),
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// [`installed_within`], again while the fake just written is busy: another test's child may
/// hold it open for a moment between fork and exec.
fn installed(files: &[&Path], mdatp: Option<&Path>, deadline: Duration) -> Installed {
    for _ in 0..50 {
        let found = installed_within(files, mdatp, deadline);
        if !found.notes.iter().any(|n| n.contains("Text file busy")) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the fake mdatp stayed busy");
}

/// The partner geography and notes of a fake `mdatp` that prints `output`.
fn agent_says(output: &str) -> (Option<Geo>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mdatp = fake_mdatp(dir.path(), &format!("cat <<'EOF'\n{output}\nEOF"));
    let found = installed(&[], Some(&mdatp), GENEROUS);
    (found.partner_geo, found.notes)
}

#[test]
fn the_installed_package_and_the_agents_partner_geography_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let package = write(
        dir.path(),
        "mdatp_onboard.json",
        outer(&blob(&eu_streamlined())),
    );
    let missing = dir.path().join("missing.plist");
    let mdatp = fake_mdatp(
        dir.path(),
        "echo 'healthy                                     : true'\n\
         echo 'edr_partner_geo_location                    : \"GW_EU\"'\n\
         echo 'edr_device_tags                             : []'",
    );
    let found = installed(&[&missing, &package], Some(&mdatp), GENEROUS);
    assert_eq!(found.notes, Vec::<String>::new());
    assert_eq!(found.partner_geo, Some(Geo::Eu));
    let tenant = found.tenant.unwrap();
    assert_eq!(tenant.geo, Geo::Eu);
    assert_eq!(tenant.source, package.display().to_string());
}

#[test]
fn the_partner_geography_is_read_quoted_or_not() {
    assert_eq!(
        agent_says("edr_partner_geo_location : GW_AU").0,
        Some(Geo::Au)
    );
    assert_eq!(
        agent_says("edr_partner_geo_location:\"GW_CH\"").0,
        Some(Geo::Ch)
    );
    for standard in [
        "edr_partner_geo_location : \"\"",
        "edr_partner_geo_location : unavailable",
    ] {
        let (geo, notes) = agent_says(standard);
        assert_eq!(geo, None);
        assert!(
            notes[0].contains("onboarded with a standard package"),
            "{notes:?}"
        );
    }
    let (geo, notes) = agent_says("edr_partner_geo_location : \"GW_ZZ\"");
    assert_eq!(geo, None);
    assert!(
        notes[0].contains("\"GW_ZZ\" is not a known geography"),
        "{notes:?}"
    );
    // the tenant id the output gives is not shown where its geography should be
    let (geo, notes) = agent_says(&format!(
        "org_id : \"{ORG}\"\nedr_partner_geo_location : \"{ORG}\""
    ));
    assert_eq!(geo, None);
    assert!(
        notes[0].contains("edr_partner_geo_location \"0f1e…e1f0\" is not a known geography"),
        "{notes:?}"
    );
    assert_no_org(&notes[0]);
    let (geo, notes) = agent_says("healthy : true");
    assert_eq!(geo, None);
    assert!(
        notes[0].ends_with("no edr_partner_geo_location in its output"),
        "{notes:?}"
    );
}

#[test]
fn an_mdatp_that_hangs_is_stopped_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let mdatp = fake_mdatp(dir.path(), "exec sleep 30");
    let start = Instant::now();
    let found = installed(&[], Some(&mdatp), Duration::from_millis(300));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(found.partner_geo, None);
    assert!(
        found
            .notes
            .iter()
            .any(|n| n.ends_with("health --details edr: no answer within 300ms; it was stopped")),
        "{:?}",
        found.notes
    );
}

#[test]
fn an_mdatp_that_talks_too_much_is_cut_off() {
    let (geo, notes) = {
        let dir = tempfile::tempdir().unwrap();
        let mdatp = fake_mdatp(
            dir.path(),
            "echo 'edr_partner_geo_location : \"GW_US\"'\nyes 'filler : text' | head -n 20000\nexit 1",
        );
        let found = installed(&[], Some(&mdatp), GENEROUS);
        (found.partner_geo, found.notes)
    };
    assert_eq!(geo, Some(Geo::Us));
    assert!(
        notes
            .iter()
            .any(|n| n.ends_with("output longer than 64 KiB; the rest was not read")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("exit status: 1")),
        "{notes:?}"
    );
}

#[test]
fn a_missing_package_and_a_missing_mdatp_are_notes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.plist");
    let mdatp = dir.path().join("mdatp");
    let found = installed(&[&a, &b], Some(&mdatp), GENEROUS);
    assert_eq!((found.tenant, found.partner_geo), (None, None));
    assert_eq!(
        found.notes[0],
        format!(
            "no onboarding package installed: looked for {}, {}",
            a.display(),
            b.display()
        )
    );
    assert!(found.notes[1].starts_with(&format!(
        "{} health --details edr: cannot run it: ",
        mdatp.display()
    )));
}

#[test]
fn an_unreadable_or_malformed_package_is_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let locked = write(
        dir.path(),
        "mdatp_onboard.json",
        outer(&blob(&us_standard())),
    );
    let good = write(dir.path(), "good.json", outer(&blob(&us_standard())));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_err() {
        let found = installed(&[&locked, &good], None, GENEROUS);
        assert_eq!(
            found.tenant, None,
            "the first file that exists is the one read"
        );
        assert_eq!(
            found.notes,
            [format!(
                "cannot read the installed onboarding file {}: permission denied (pinprobe \
                 does not ask for privileges)",
                locked.display()
            )]
        );
    }
    let garbage = write(dir.path(), "garbage.json", "not a package");
    let found = installed(&[&garbage], None, GENEROUS);
    assert_eq!(found.tenant, None);
    assert!(
        found.notes[0].starts_with(&format!(
            "the installed onboarding file {}: no onboarding blob found",
            garbage.display()
        )),
        "{:?}",
        found.notes
    );
}

#[test]
fn the_agent_and_its_package_disagreeing_is_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let package = write(
        dir.path(),
        "mdatp_onboard.json",
        outer(&blob(&us_standard())),
    );
    let mdatp = fake_mdatp(dir.path(), "echo 'edr_partner_geo_location : \"GW_EU\"'");
    let found = installed(&[&package], Some(&mdatp), GENEROUS);
    assert_eq!(found.partner_geo, Some(Geo::Eu));
    assert_eq!(
        found.notes,
        [format!(
            "mdatp reports the partner geography GW_EU, but {} is a standard package for US: the \
             device may have been onboarded again since",
            package.display()
        )]
    );
}

#[test]
fn an_installed_file_too_large_is_named_as_installed() {
    // the note said `--onboarding FILE: larger than ...`, though no flag named the file
    let dir = tempfile::tempdir().unwrap();
    let big = write(dir.path(), "mdatp_onboard.json", vec![b' '; (1 << 20) + 1]);
    let found = installed(&[&big], None, GENEROUS);
    assert_eq!(
        found.notes,
        [format!(
            "the installed onboarding file {}: larger than the 1 MiB an onboarding package may be",
            big.display()
        )]
    );
}

/// True while the process `pid` runs: it exists and is not a zombie left for its parent.
fn running(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the process exists
    let exists = unsafe { libc::kill(pid, 0) } == 0;
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'))
    });
    exists && !zombie
}

#[test]
fn an_mdatp_stopped_at_the_deadline_takes_what_it_started_with_it() {
    // only the script was killed: the `sleep` it started ran on
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let mdatp = fake_mdatp(
        dir.path(),
        &format!("sleep 100 &\necho $! > '{}'\nwait", pid_file.display()),
    );
    let found = installed(&[], Some(&mdatp), Duration::from_millis(500));
    assert!(
        found.notes.iter().any(|n| n.ends_with("it was stopped")),
        "{:?}",
        found.notes
    );
    let pid: libc::pid_t = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let start = Instant::now();
    while running(pid) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = running(pid);
    if left {
        // SAFETY: the test's own `sleep`, which must not outlive it
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(!left, "the sleep mdatp started still runs");
}

#[test]
fn what_an_mdatp_wrote_is_kept_when_a_child_holds_its_output_open() {
    // its valid output was thrown away: "its output stayed open after it ended"
    let dir = tempfile::tempdir().unwrap();
    let mdatp = fake_mdatp(
        dir.path(),
        "echo 'edr_partner_geo_location : \"GW_CH\"'\nsleep 4 &",
    );
    let found = installed(&[], Some(&mdatp), GENEROUS);
    assert_eq!(found.partner_geo, Some(Geo::Ch), "{:?}", found.notes);
    assert_eq!(found.notes, Vec::<String>::new());
    // a line it had not ended is not read
    let dir = tempfile::tempdir().unwrap();
    let mdatp = fake_mdatp(
        dir.path(),
        "printf 'edr_partner_geo_location : GW_CH'\nsleep 4 &",
    );
    let found = installed(&[], Some(&mdatp), GENEROUS);
    assert_eq!(found.partner_geo, None);
    assert!(
        found.notes[0].ends_with(
            "health --details edr: its output stayed open after it ended, without \
             edr_partner_geo_location in what it wrote"
        ),
        "{:?}",
        found.notes
    );
}
