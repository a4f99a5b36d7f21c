//! Files and standard input as pinprobe reads them: each within its size limit, refused with a
//! message naming the file and the limit; `-` for standard input; `--targets` line by line.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::*;

/// Runs the binary on `/dev/zero` given to `args`, and checks it ends with status 2 and one
/// short line that names the file and the limit.
async fn refuses_dev_zero(args: &[&str], want: &str) {
    let out = Probe::new().args(args).run().await;
    out.assert_code(2);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, format!("pinprobe: error: {want}\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_file_is_refused_at_its_limit() {
    refuses_dev_zero(
        &["inspect", "--file", "/dev/zero"],
        "inspect --file /dev/zero: larger than the 1 MiB a certificate chain may be",
    )
    .await;
    refuses_dev_zero(
        &["--profile", "/dev/zero"],
        "--profile /dev/zero: larger than the 4 MiB a profile may be",
    )
    .await;
    refuses_dev_zero(
        &["inspect", "--pins", "/dev/zero", "lab.test"],
        "--pins /dev/zero: larger than the 4 MiB a profile may be",
    )
    .await;
    refuses_dev_zero(
        &["pins", "convert", "--from", "curl", "/dev/zero"],
        "pins convert /dev/zero: larger than the 4 MiB a pin file may be",
    )
    .await;
    refuses_dev_zero(
        &["pin", "--update", "/dev/zero"],
        "pin --update /dev/zero: larger than the 4 MiB a profile may be",
    )
    .await;
    refuses_dev_zero(
        &["--targets", "/dev/zero"],
        "--targets /dev/zero: line 1 runs on past 1 MiB without a line break: not a list of endpoints",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_or_binary_line_of_targets_is_a_skipped_line() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let probe = Probe::new();
    let file = probe.file("targets.txt", "");
    let mut list = vec![b'x'; 100_000];
    list.extend(format!("\n{}\n", url(server.port())).as_bytes());
    list.extend(b"lab\xff.test\n");
    std::fs::write(&file, list).unwrap();
    let out = probe
        .cacert(&pki.root)
        .resolve(server.port())
        .args(flag("--targets", &file))
        .json()
        .run()
        .await;
    // the endpoint is ok, but two lines were skipped
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(doc["results"][0]["verdict"], "ok", "{doc:#}");
    let skipped: Vec<&str> = doc["pinprobe"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let name = file.display().to_string();
    assert_eq!(
        skipped,
        [
            format!(
                "{name}:1: longer than the 8 KiB a line may be (it starts \"{}\"...) (line skipped)",
                "x".repeat(40)
            ),
            format!(
                "{name}:3: not UTF-8 text (\"lab\u{fffd}.test\"): save the list as UTF-8 (line skipped)"
            ),
        ]
    );
    assert!(out.stderr.len() < 1000, "{}", out.stderr);
}

/// Runs the binary with `stdin` on standard input.
fn with_stdin(args: &[&std::ffi::OsStr], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pinprobe"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pinprobe starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    // the child may stop reading early: a closed pipe is fine here
    let _ = input.write_all(stdin);
    drop(input);
    let output = child.wait_with_output().expect("pinprobe ends");
    (
        output.status.code().expect("an exit status, not a signal"),
        String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    )
}

#[test]
fn dash_is_standard_input_and_named_so() {
    let pki = genuine_pki(&[HOST]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, pki.root.pem()).unwrap();
    let chain = format!("{}{}", pki.leaf.pem(), pki.inter.pem());
    let args = ["inspect", "--format", "json", "--file", "-", "--cacert"];
    let mut args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    args.push(root.as_os_str());
    args.push(HOST.as_ref());
    let (code, stdout, stderr) = with_stdin(&args, chain.as_bytes());
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_verdict(&doc["inspect"], "ok", 0);

    // the text report names the file as the user would say it
    let text_args: Vec<&std::ffi::OsStr> = args
        .iter()
        .copied()
        .filter(|a| *a != "--format" && *a != "json")
        .collect();
    let (code, stdout, stderr) = with_stdin(&text_args, chain.as_bytes());
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "pinprobe {} inspect standard input (a chain read from a file, 2 certificates)",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );

    let (code, _, stderr) = with_stdin(&["inspect".as_ref(), "--file".as_ref(), "-".as_ref()], b"");
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "pinprobe: error: standard input: no certificate found: expected -----BEGIN CERTIFICATE----- blocks\n"
    );
    let big = vec![b'a'; 2 << 20];
    let (code, _, stderr) =
        with_stdin(&["inspect".as_ref(), "--file".as_ref(), "-".as_ref()], &big);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "pinprobe: error: inspect --file standard input: larger than the 1 MiB a certificate chain may be\n"
    );

    let (code, _, stderr) = with_stdin(
        &[
            "--profile".as_ref(),
            "-".as_ref(),
            "--targets".as_ref(),
            "-".as_ref(),
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("pinprobe: error: --profile and --targets: "),
        "{stderr}"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_named_pipe_or_a_directory_is_refused_at_once() {
    let probe = Probe::new();
    let fifo = probe.file("placeholder", "").with_file_name("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let dir = fifo.with_file_name("");
    // with no writer, opening the pipe to read would wait for ever
    for (flag, path, want) in [
        ("--profile", &fifo, "a named pipe, not a file"),
        ("--onboarding", &fifo, "a named pipe, not a file"),
        ("--profile", &dir, "a directory, not a file"),
        // read as a stream (a pipe of `<(command)` is welcome), but never a directory
        (
            "--targets",
            &dir,
            "a directory, not a file: give a list of endpoints",
        ),
    ] {
        let out = Probe::new()
            .args([flag.as_ref(), path.as_os_str(), "--list".as_ref()])
            .run()
            .await;
        out.assert_code(2);
        assert!(out.stderr.contains(want), "{flag}: {}", out.stderr);
    }
    let out = Probe::new()
        .args(["inspect".as_ref(), "--file".as_ref(), fifo.as_os_str()])
        .run()
        .await;
    out.assert_code(2);
    assert!(
        out.stderr.contains("a named pipe, not a file"),
        "{}",
        out.stderr
    );
}
