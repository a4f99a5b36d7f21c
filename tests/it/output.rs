//! Files pinprobe writes (`-o` of every command, `pin --update`): an existing file is replaced
//! only when asked and keeps its mode, a symbolic link keeps pointing at the file it names, the
//! temporary file cannot be hijacked, and a failed write leaves the original whole.

use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::*;

const HAND_WRITTEN: &str = "# written by hand, not to be lost\n";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// A file holding [`HAND_WRITTEN`] with mode 0600.
fn hand_written(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, HAND_WRITTEN).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// The names in a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn sample_pins() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pins/defender-pinnedpubkey.txt")
}

/// `pins convert --from curl SAMPLE -o path`, and more arguments.
fn convert_to(path: &Path, more: &[&str]) -> Probe {
    Probe::new()
        .args(["pins", "convert", "--from", "curl"])
        .args([sample_pins().into_os_string()])
        .args(flag("-o", path))
        .args(more)
}

/// A chain file for `inspect --file`, in `dir`.
fn chain_file(dir: &Path, pki: &Pki) -> PathBuf {
    let path = dir.join("chain.pem");
    std::fs::write(&path, format!("{}{}", pki.leaf.pem(), pki.inter.pem())).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_file_is_refused_without_force_before_any_work() {
    let pki = genuine_pki(&[HOST]);
    let dir = tempfile::tempdir().unwrap();
    let mine = hand_written(dir.path(), "mine.toml");
    let chain = chain_file(dir.path(), &pki);
    let runs = [
        convert_to(&mine, &[]),
        Probe::new()
            .args(["inspect"])
            .args(flag("--file", &chain))
            .args(flag("-o", &mine)),
        // nothing is probed: the refusal comes first
        Probe::new()
            .args(flag("-o", &mine))
            .args(["https://127.0.0.1:1/"]),
        Probe::new()
            .args(["pin"])
            .args(flag("-o", &mine))
            .args(["https://127.0.0.1:1/"]),
    ];
    for run in runs {
        let out = run.run().await;
        out.assert_code(2);
        assert_eq!(
            out.stderr,
            format!(
                "pinprobe: error: {} exists: give --force to replace it\n",
                mine.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&mine).unwrap(), HAND_WRITTEN);
    }
    assert_eq!(names(dir.path()), ["chain.pem", "mine.toml"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn force_replaces_the_file_and_keeps_its_mode() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let dir = tempfile::tempdir().unwrap();
    let chain = chain_file(dir.path(), &pki);

    let converted = hand_written(dir.path(), "converted.toml");
    convert_to(&converted, &["--force"])
        .run()
        .await
        .assert_code(0);
    let text = std::fs::read_to_string(&converted).unwrap();
    assert!(text.contains("converted from curl file"), "{text}");
    assert_eq!(mode(&converted), 0o600);

    let inspected = hand_written(dir.path(), "inspected.json");
    Probe::new()
        .args(["inspect", "--format", "json", "--force"])
        .args(flag("--file", &chain))
        .args(flag("-o", &inspected))
        .run()
        .await;
    let text = std::fs::read_to_string(&inspected).unwrap();
    assert!(text.contains("\"inspect\""), "{text}");
    assert_eq!(mode(&inspected), 0o600);

    let report = hand_written(dir.path(), "report.json");
    Probe::new()
        .cacert(&pki.root)
        .endpoint(server.port())
        .json()
        .args(flag("-o", &report))
        .args(["--force"])
        .run()
        .await
        .assert_code(0);
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.contains("\"verdict\": \"ok\""), "{text}");
    assert_eq!(mode(&report), 0o600);

    let pinned = hand_written(dir.path(), "pinned.toml");
    Probe::new()
        .args(["pin", "--force"])
        .cacert(&pki.root)
        .endpoint(server.port())
        .args(flag("-o", &pinned))
        .run()
        .await
        .assert_code(0);
    let text = std::fs::read_to_string(&pinned).unwrap();
    assert!(text.contains("[[endpoints]]"), "{text}");
    assert_eq!(mode(&pinned), 0o600);

    // no temporary file is left behind
    assert_eq!(
        names(dir.path()),
        [
            "chain.pem",
            "converted.toml",
            "inspected.json",
            "pinned.toml",
            "report.json"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_through_a_link_rewrites_the_file_it_names_and_no_planted_link() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.toml");
    Probe::new()
        .args(["pin"])
        .cacert(&pki.root)
        .endpoint(server.port())
        .args(flag("-o", &real))
        .run()
        .await
        .assert_code(0);
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.path().join("link.toml");
    symlink(&real, &link).unwrap();
    // links at the temporary names pinprobe used to write through, pointing at a victim
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me\n").unwrap();
    for planted in ["link.toml.pinprobe-new", "real.toml.pinprobe-new"] {
        symlink(&victim, dir.path().join(planted)).unwrap();
    }

    let spare = unrelated_pin("offline spare");
    let out = Probe::new()
        .args(["pin"])
        .args(flag("--update", &link))
        .args(["--backup-pin", &format!("sha256/{spare}")])
        .cacert(&pki.root)
        .resolve(server.port())
        .run()
        .await;
    out.assert_code(0);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(
        text.contains(&spare),
        "the file the link names is updated:\n{text}"
    );
    assert_eq!(mode(&real), 0o600);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    assert_eq!(
        names(dir.path()),
        [
            "link.toml",
            "link.toml.pinprobe-new",
            "real.toml",
            "real.toml.pinprobe-new",
            "victim.txt"
        ]
    );
}

/// Runs `pins convert ... -o path --force` with writes limited to `max_bytes` per file
/// (RLIMIT_FSIZE, SIGXFSZ ignored so a write past it fails with EFBIG instead of killing).
fn convert_with_file_size_limit(path: &Path, max_bytes: u64) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pinprobe"));
    command
        .args(["pins", "convert", "--from", "curl", "--force", "-o"])
        .arg(path)
        .arg(sample_pins())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls between fork and exec
    unsafe {
        command.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: max_bytes,
                rlim_max: max_bytes,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = command.output().expect("pinprobe starts");
    (
        output.status.code().expect("an exit status, not a signal"),
        String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    )
}

#[test]
fn a_write_that_fails_leaves_the_original_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mine = hand_written(dir.path(), "mine.toml");
    let (code, stderr) = convert_with_file_size_limit(&mine, 100);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "pinprobe: error: cannot write the report to {}: ",
            mine.display()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), HAND_WRITTEN);
    assert_eq!(
        names(dir.path()),
        ["mine.toml"],
        "no temporary file is left"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_directory_leaves_the_original_whole() {
    // SAFETY: geteuid has no preconditions
    if unsafe { libc::geteuid() } == 0 {
        // the write failure of any user is covered by a_write_that_fails_leaves_the_original_whole
        let _ = writeln!(
            std::io::stderr(),
            "root writes in a read-only directory: skipping"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mine = hand_written(dir.path(), "mine.toml");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
    let out = convert_to(&mine, &["--force"]).run().await;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    out.assert_code(2);
    assert!(
        out.stderr
            .contains(&format!("cannot write the report to {}", mine.display())),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), HAND_WRITTEN);
    assert_eq!(names(dir.path()), ["mine.toml"]);
}
