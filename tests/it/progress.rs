//! The progress bar as a terminal shows it: the binary runs with its standard error on a
//! pseudo-terminal (and its report in a file, so that the bar draws), against lab servers slow
//! enough for several frames, and every byte the terminal received is checked: no colour
//! that is invisible on a dark background, and never more failures than probes done.

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pinprobe::lab::{Behaviour, PROXY_VARS};

use crate::support::*;

/// Longest the run may take before the test gives up on it.
const DEADLINE: Duration = Duration::from_secs(60);

/// A pseudo-terminal of 120 columns: the end the terminal reads, and the end the child writes.
fn pseudo_terminal() -> (File, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into the integers it is given and reads the
    // window size; no name buffer and no terminal settings are passed
    let done = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(done, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned by nothing else
    unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// The SGR (`ESC [ ... m`) sequences in `bytes` that set a black foreground: `30`, the
/// 256-colour `38;5;0` or the true-colour `38;2;0;0;0`.
fn black_foregrounds(bytes: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = bytes;
    while let Some(start) = rest.find("\x1b[") {
        let after = &rest[start + 2..];
        let Some(end) = after.find(|c: char| ('\x40'..='\x7e').contains(&c)) else {
            break;
        };
        if after[end..].starts_with('m') {
            let params: Vec<&str> = after[..end].split(';').collect();
            let mut i = 0;
            while i < params.len() {
                match params[i] {
                    "30" => found.push(after[..end].to_string()),
                    "38" | "48" if params.get(i + 1) == Some(&"5") => {
                        if params[i] == "38" && params.get(i + 2) == Some(&"0") {
                            found.push(after[..end].to_string());
                        }
                        i += 2;
                    }
                    "38" | "48" if params.get(i + 1) == Some(&"2") => {
                        let rgb = params.get(i + 2..i + 5).unwrap_or_default();
                        if params[i] == "38" && rgb.iter().all(|p| p.parse() == Ok(0)) {
                            found.push(after[..end].to_string());
                        }
                        i += 4;
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        rest = &after[end + 1..];
    }
    found
}

/// The text without its escape sequences (CSI and the two-byte ones).
fn without_escapes(bytes: &str) -> String {
    let mut text = String::new();
    let mut chars = bytes.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            text.push(c);
            continue;
        }
        if chars.next_if_eq(&'[').is_some() {
            // parameters and intermediates, up to the final byte
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    text
}

/// A frame of the bar: probes done, of how many, and failures so far.
#[derive(Debug)]
struct Frame {
    done: u64,
    total: u64,
    failed: u64,
    line: String,
}

/// The frames drawn, read from what the terminal received.
fn frames(bytes: &str) -> Vec<Frame> {
    without_escapes(bytes)
        .split(['\r', '\n'])
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let failed_at = words.iter().position(|w| *w == "failed")?;
            let failed = words.get(failed_at.checked_sub(1)?)?.parse().ok()?;
            let (done, total) = words.iter().find_map(|w| {
                let (done, total) = w.split_once('/')?;
                Some((done.parse().ok()?, total.parse().ok()?))
            })?;
            Some(Frame {
                done,
                total,
                failed,
                line: line.trim().to_string(),
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bar_on_a_terminal_uses_no_black_and_never_counts_more_failures_than_probes() {
    let trusted = genuine_pki(&[HOST]);
    let untrusted = genuine_pki(&[HOST]);
    // slow origins, so that the run lasts long enough for the bar to draw several frames
    let slow = |status| Behaviour::DelayedHttp {
        status,
        body: "OK".into(),
        delay: Duration::from_millis(200),
    };
    let good = serve(&trusted.leaf, slow(200)).await;
    let bad = serve(&untrusted.leaf, slow(200)).await;
    let total = 48;
    // three failures in four, so that failures race the count of probes done
    let list: String = (0..total)
        .map(|i| {
            let port = if i % 4 == 0 { good.port() } else { bad.port() };
            format!("https://{HOST}:{port}/p{i}\n")
        })
        .collect();

    let dir = tempfile::tempdir().expect("temporary directory");
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("targets.txt"), list).expect("targets");
    std::fs::write(path("root.pem"), trusted.root.pem()).expect("root");
    std::fs::write(path("os-store.pem"), "").expect("empty OS store");
    std::fs::create_dir(path("os-store.d")).expect("empty OS store directory");

    let (mut terminal, child_end) = pseudo_terminal();
    let mut command = Command::new(env!("CARGO_BIN_EXE_pinprobe"));
    command
        .current_dir(dir.path())
        .args([
            "--targets",
            "targets.txt",
            "--cacert",
            "root.pem",
            "-j",
            "8",
        ])
        .args(["--format", "json"])
        .args(["--resolve", &format!("{HOST}:{}:127.0.0.1", good.port())])
        .args(["--resolve", &format!("{HOST}:{}:127.0.0.1", bad.port())])
        .env("SSL_CERT_FILE", path("os-store.pem"))
        .env("SSL_CERT_DIR", path("os-store.d"))
        // a colour terminal, and colours forced on, so that any styling shows in the bytes
        .env("TERM", "xterm-256color")
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .stdin(Stdio::null())
        .stdout(File::create(path("report.json")).expect("report file"))
        .stderr(Stdio::from(child_end));
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    let mut child = command.spawn().expect("pinprobe starts");
    // the child holds the terminal's other end now: ours is closed with the command, so that
    // reading ends when the child exits
    drop(command);
    let reader = std::thread::spawn(move || {
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        // Linux answers EIO once no process holds the other end
        while let Ok(n @ 1..) = terminal.read(&mut buffer) {
            received.extend_from_slice(&buffer[..n]);
        }
        received
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for pinprobe") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pinprobe still ran after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let received = reader.join().expect("the terminal reader does not panic");
    let received = String::from_utf8_lossy(&received);
    assert!(!received.contains("panicked"), "{received}");
    // every endpoint was probed; most failed
    assert_eq!(status.code(), Some(1), "{received}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path("report.json")).expect("report"))
            .expect("the report is JSON");
    let results = report["results"].as_array().expect("results");
    assert_eq!(results.len(), total);

    let frames = frames(&received);
    assert!(
        frames.len() >= 2,
        "the bar drew fewer than two frames: {received:?}"
    );
    for frame in &frames {
        assert_eq!(frame.total, total as u64, "{frame:?}");
        assert!(frame.done <= frame.total, "{frame:?}");
        assert!(
            frame.failed <= frame.done,
            "more failures than probes done: {frame:?}"
        );
        assert!(frame.line.contains("/s "), "no rate in {frame:?}");
    }
    let black = black_foregrounds(&received);
    assert!(
        black.is_empty(),
        "black foreground {black:?} in what the terminal received: {received:?}"
    );
}

#[test]
fn black_foregrounds_are_found_in_every_notation() {
    for sgr in ["30", "1;30", "38;5;0", "0;38;2;0;0;0"] {
        let text = format!("a \x1b[{sgr}m12/s\x1b[0m b");
        assert_eq!(black_foregrounds(&text), [sgr], "{sgr}");
    }
    for sgr in ["0", "31", "38;5;30", "48;5;0", "38;2;0;30;0", "90", "2"] {
        let text = format!("\x1b[{sgr}mx\x1b[0m\x1b[2K\r");
        assert!(black_foregrounds(&text).is_empty(), "{sgr}");
    }
}

#[test]
fn frames_are_read_without_their_escapes() {
    let bytes = "\x1b[?25l\r\x1b[2K███░░ 16/40 12/s 3 failed eta 2s\r\x1b[2K████░ 17/40 \x1b[38;5;0m13/s\x1b[0m 4 failed eta 1s\n";
    let frames = frames(bytes);
    let counts: Vec<(u64, u64, u64)> = frames.iter().map(|f| (f.done, f.total, f.failed)).collect();
    assert_eq!(counts, [(16, 40, 3), (17, 40, 4)]);
}
