//! `pinprobe pins convert` on realistic samples (`tests/data/pins/`): each converts to a profile
//! that pinprobe loads, each goes back to its own format and reads the same again, and a
//! malformed entry ends with exit status 2 and `FILE:LINE:` on standard error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pinprobe::profile::Profile;

/// A set a sample must give: name, number of pins, number of deny pins.
type SetCount = (&'static str, usize, usize);

/// The samples: file, format, and the sets they hold.
const SAMPLES: &[(&str, &str, &[SetCount])] = &[
    ("github-hpkp.txt", "hpkp", &[("github-hpkp", 7, 0)]),
    (
        "defender-pinnedpubkey.txt",
        "curl",
        &[("defender-pinnedpubkey", 3, 0)],
    ),
    (
        "CertificatePinning.kt",
        "okhttp",
        &[
            ("*.cp.wd.microsoft.com", 2, 0),
            ("**.events.data.microsoft.com", 2, 0),
        ],
    ),
    (
        "chromium-pinsets.json",
        "chromium",
        &[("microsoft", 3, 1), ("microsoft-ecc", 1, 0)],
    ),
    (
        "network_security_config.xml",
        "android",
        &[
            ("cp.wd.microsoft.com", 2, 0),
            ("events.data.microsoft.com", 2, 0),
        ],
    ),
];

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pins")
        .join(name)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `pinprobe pins convert ARGS`, with `stdin` on standard input.
fn convert<S: AsRef<std::ffi::OsStr>>(args: &[S], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pinprobe"))
        .args(["pins", "convert"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pinprobe starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    // the child may stop reading early (a file argument): a closed pipe is fine here
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let output = child.wait_with_output().expect("pinprobe ends");
    let run = Run {
        code: output.status.code().expect("an exit status, not a signal"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

impl Run {
    fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// (name, pins with labels, deny) of each set of a profile, in name order.
type Shape = Vec<(String, Vec<(String, Option<String>)>, Vec<String>)>;

fn shape(profile: &Profile) -> Shape {
    profile
        .pinsets
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.pins
                    .iter()
                    .map(|p| (p.pin.to_string(), p.label.clone()))
                    .collect(),
                s.deny.iter().map(|p| p.pin.to_string()).collect(),
            )
        })
        .collect()
}

#[test]
fn every_sample_becomes_a_profile_that_loads() {
    for (file, format, sets) in SAMPLES {
        let path = sample(file);
        let run = convert(&["--from".as_ref(), format.as_ref(), path.as_os_str()], "");
        run.assert_code(0);
        let profile = Profile::parse(&run.stdout, "converted.toml")
            .unwrap_or_else(|e| panic!("{file}: {e}\n{}", run.stdout));
        let origin = format!("converted from {format} file {}", path.display());
        assert_eq!(profile.description.as_deref(), Some(origin.as_str()));
        let mut want: Vec<(&str, usize, usize)> = sets.to_vec();
        want.sort();
        let got: Vec<(&str, usize, usize)> = profile
            .pinsets
            .iter()
            .map(|s| (s.name.as_str(), s.pins.len(), s.deny.len()))
            .collect();
        assert_eq!(got, want, "{file}:\n{}", run.stdout);
        for set in &profile.pinsets {
            for entry in set.pins.iter().chain(&set.deny) {
                assert_eq!(entry.source.as_deref(), Some(origin.as_str()), "{file}");
            }
        }
    }
}

#[test]
fn labels_from_comments_reach_the_profile() {
    let path = sample("network_security_config.xml");
    let run = convert(
        &["--from".as_ref(), "android".as_ref(), path.as_os_str()],
        "",
    );
    let profile = Profile::parse(&run.assert_code(0).stdout, "converted.toml").unwrap();
    let set = &profile.pinsets[0];
    assert_eq!(set.name, "cp.wd.microsoft.com");
    assert_eq!(
        set.pins[1].label.as_deref(),
        Some("backup: Microsoft RSA Root Certificate Authority 2017")
    );
    assert_eq!(
        set.description.as_deref(),
        Some("Android domain-config for cp.wd.microsoft.com (and subdomains), wd.microsoft.com (and subdomains); the pins expire on 2027-01-01")
    );
}

#[test]
fn each_sample_round_trips_through_its_own_format() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (file, format, _) in SAMPLES {
        let path = sample(file);
        let direct = convert(&["--from".as_ref(), format.as_ref(), path.as_os_str()], "");
        let direct = Profile::parse(&direct.assert_code(0).stdout, "direct.toml").unwrap();

        // back to the format, under the same file name (formats without set names use it)
        let again = dir.path().join(file);
        convert(
            &[
                "--from".as_ref(),
                format.as_ref(),
                "--to".as_ref(),
                format.as_ref(),
                "-o".as_ref(),
                again.as_os_str(),
                path.as_os_str(),
            ],
            "",
        )
        .assert_code(0);
        let back = convert(&["--from".as_ref(), format.as_ref(), again.as_os_str()], "");
        let back = Profile::parse(&back.assert_code(0).stdout, "back.toml").unwrap();
        assert_eq!(shape(&back), shape(&direct), "{file}");
    }
}

/// Where the sets of a sample apply: the hosts it names, or none (curl and HPKP name none).
fn names_hosts(file: &str) -> bool {
    !matches!(file, "github-hpkp.txt" | "defender-pinnedpubkey.txt")
}

#[test]
fn every_sample_crosses_into_every_format_that_holds_it() {
    let formats = [
        "okhttp", "curl", "hpkp", "hex", "toml", "chromium", "android",
    ];
    for (file, from, sets) in SAMPLES {
        let path = sample(file);
        let direct = convert(&["--from".as_ref(), from.as_ref(), path.as_os_str()], "");
        let direct = shape(&Profile::parse(&direct.assert_code(0).stdout, "d.toml").unwrap());
        let several = sets.len() > 1;
        let deny = sets.iter().any(|s| s.2 > 0);
        for to in formats {
            let by_host = matches!(to, "okhttp" | "chromium" | "android");
            let mut args: Vec<&std::ffi::OsStr> = vec![
                "--from".as_ref(),
                from.as_ref(),
                "--to".as_ref(),
                to.as_ref(),
                path.as_os_str(),
            ];
            let run = convert(&args, "");
            let too_many = several && matches!(to, "curl" | "hpkp");
            let deny_lost = deny && !matches!(to, "toml" | "chromium");
            // OkHttp's *.cp.wd.microsoft.com is one level below it, which only OkHttp says
            let wildcard = *from == "okhttp" && matches!(to, "chromium" | "android");
            if too_many || deny_lost || wildcard {
                run.assert_code(2);
                assert!(
                    run.stderr.contains(&format!("--to {to}: ")),
                    "{}",
                    run.stderr
                );
                continue;
            }
            let mut host_given = false;
            let run = if by_host && !names_hosts(file) {
                // a file that would load and pin nothing is refused, with the fix
                run.assert_code(2);
                assert!(
                    run.stderr.contains("names no host") && run.stderr.contains("--host"),
                    "{file} -> {to}: {}",
                    run.stderr
                );
                args.extend([
                    std::ffi::OsStr::new("--host"),
                    std::ffi::OsStr::new("api.example.com"),
                ]);
                host_given = true;
                convert(&args, "")
            } else {
                run
            };
            run.assert_code(0);
            // and back, through standard input
            let back = convert(&["--from", to, "-"], &run.stdout);
            let back = shape(&Profile::parse(&back.assert_code(0).stdout, "b.toml").unwrap());
            let keeps_labels = !matches!(to, "curl" | "hpkp");
            let pins_of = |shape: &Shape| -> Vec<(String, Option<String>)> {
                let mut pins: Vec<_> = shape
                    .iter()
                    .flat_map(|(_, pins, _)| pins.clone())
                    .map(|(p, l)| (p, l.filter(|_| keeps_labels)))
                    .collect();
                pins.sort();
                pins.dedup();
                pins
            };
            if to == "okhttp" {
                // OkHttp holds pins per host pattern: a set is named after its hosts
                assert_eq!(pins_of(&back), pins_of(&direct), "{file} -> okhttp");
                for (name, _, _) in &back {
                    assert!(
                        name.contains('.') && !name.contains("microsoft-"),
                        "{file} -> okhttp: set {name:?} is not a host:\n{}",
                        run.stdout
                    );
                }
                if host_given {
                    assert_eq!(back[0].0, "api.example.com");
                }
                continue;
            }
            let keeps_names = several || matches!(to, "toml" | "chromium" | "android");
            let want: Shape = direct
                .iter()
                .map(|(name, pins, deny)| {
                    (
                        if to == "android" && host_given {
                            "api.example.com".to_string()
                        } else if keeps_names {
                            name.clone()
                        } else {
                            "stdin".to_string()
                        },
                        pins.iter()
                            .map(|(p, l)| (p.clone(), l.clone().filter(|_| keeps_labels)))
                            .collect(),
                        deny.clone(),
                    )
                })
                .collect();
            assert_eq!(back, want, "{file} -> {to}:\n{}", run.stdout);
        }
    }
}

#[test]
fn android_pins_the_hosts_of_the_set_never_its_name() {
    // a profile whose set is named lab-test, used by an endpoint on lab.test
    let g2 = "i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=";
    let profile = format!("[pinsets.lab-test]\npins = [\"sha256/{g2}\"]\n\n[[endpoints]]\nurl = \"https://lab.test:8443/health\"\npinset = \"lab-test\"\n");
    let run = convert(&["--from", "toml", "--to", "android", "-"], &profile);
    run.assert_code(0);
    assert!(
        run.stdout.contains("<domain>lab.test</domain>") && !run.stdout.contains("lab-test"),
        "{}",
        run.stdout
    );

    // no endpoint uses the set: refused, naming the set and the fix
    let bare = format!("[pinsets.lab-test]\npins = [\"sha256/{g2}\"]\n");
    let run = convert(&["--from", "toml", "--to", "android", "-"], &bare);
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("pin set \"lab-test\" names no host")
            && run.stderr.contains("--host HOST"),
        "{}",
        run.stderr
    );
    let run = convert(
        &[
            "--from",
            "toml",
            "--to",
            "android",
            "--host",
            "lab-test=**.Lab.test",
            "-",
        ],
        &bare,
    );
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("<domain includeSubdomains=\"true\">lab.test</domain>"),
        "{}",
        run.stdout
    );

    // --host for a set the input does not have, or a value that is no host
    for (host, want) in [
        (
            "other=lab.test",
            "the input has no pin set \"other\"; its sets are lab-test",
        ),
        ("https://lab.test/", "is not a host: expected a host name"),
    ] {
        let run = convert(
            &["--from", "toml", "--to", "android", "--host", host, "-"],
            &bare,
        );
        run.assert_code(2);
        assert!(run.stderr.contains(want), "{host}: {}", run.stderr);
    }
}

#[test]
fn standard_input_and_output_file() {
    let text = std::fs::read_to_string(sample("defender-pinnedpubkey.txt")).unwrap();
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("defender.toml");
    let run = convert(
        &[
            "--from".as_ref(),
            "curl".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
            "-".as_ref(),
        ],
        &text,
    );
    run.assert_code(0);
    assert_eq!(
        run.stdout, "",
        "the profile goes to -o, not to standard output"
    );
    let profile = Profile::load(&out, pinprobe::input::PROFILE).unwrap();
    assert_eq!(profile.pinsets[0].name, "stdin");
    assert_eq!(
        profile.pinsets[0].pins[0].source.as_deref(),
        Some("converted from curl on standard input")
    );
}

#[test]
fn a_symbolic_chromium_name_is_reported_with_pinset_and_line() {
    let path = sample("chromium-symbolic.json");
    let run = convert(
        &["--from".as_ref(), "chromium".as_ref(), path.as_os_str()],
        "",
    );
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    let file = path.display().to_string();
    for (line, set, name) in [
        (12, "google", "GoogleBackup2048"),
        (13, "google", "GoogleG2"),
        (21, "tor", "RapidSSL"),
        (22, "tor", "DigiCertEVRoot"),
    ] {
        let want = format!("{file}:{line}: column 9: pinset \"{set}\": ");
        let found = run
            .stderr
            .lines()
            .find(|l| l.contains(&want))
            .unwrap_or_else(|| panic!("no {want:?} in:\n{}", run.stderr));
        assert!(
            found.contains(&format!("\"{name}\" is a symbolic name")),
            "{found}"
        );
    }
}

#[test]
fn malformed_entries_end_with_status_2_and_their_position() {
    let g2 = "i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=";
    let cases = [
        (
            "okhttp",
            format!("sha256/{g2}\nsha1/DmxUShsZuNiqPQsX2Oi9uv2sCnw=\n"),
            "standard input:2: column 1: \"sha1/",
        ),
        (
            "curl",
            format!("sha256//{g2};sha256//tooshort\n"),
            "standard input:1: entry 2 (column 54): \"sha256//tooshort\" is not a valid pin",
        ),
        (
            "hpkp",
            format!("Public-Key-Pins: pin-sha256=\"{g2}\"; pin-sha1=\"DmxUShsZuNiqPQsX2Oi9uv2sCnw=\"; max-age=600\n"),
            "standard input:1: directive 2 (column 77): pin-sha1 is not supported",
        ),
        (
            "hex",
            "8bb593a93be1d0e8a822bb887c547890c3e706aa\n".to_string(),
            "standard input:1: column 1: \"8bb593a93be1d0e8a822bb887c547890c3e706aa\" is 40 hex digits",
        ),
        (
            "android",
            format!("<network-security-config>\n<domain-config>\n<domain>a.example</domain>\n<pin-set>\n<pin digest=\"SHA-1\">{g2}</pin>\n</pin-set>\n</domain-config>\n</network-security-config>\n"),
            "standard input:5: digest=\"SHA-1\" is not supported",
        ),
        (
            "toml",
            "[pinsets.a]\npins = [\n  \"sha256/abc\",\n]\n".to_string(),
            "standard input:3: \"sha256/abc\" is not a valid pin",
        ),
    ];
    for (format, text, want) in cases {
        let run = convert(&["--from", format, "-"], &text);
        run.assert_code(2);
        assert!(
            run.stderr.starts_with("pinprobe: error: ") && run.stderr.contains(want),
            "{format}: want {want:?} in:\n{}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{format}: nothing is written on error");
    }
}

#[test]
fn refusals_and_unreadable_input_are_configuration_errors() {
    let run = convert(&["--from", "toml", "/nonexistent/pins.toml"], "");
    run.assert_code(2);
    assert!(
        run.stderr.contains("cannot read /nonexistent/pins.toml"),
        "{}",
        run.stderr
    );

    let path = sample("network_security_config.xml");
    let run = convert(
        &[
            "--from".as_ref(),
            "android".as_ref(),
            "--to".as_ref(),
            "hpkp".as_ref(),
            path.as_os_str(),
        ],
        "",
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains("--to hpkp: hpkp holds one pin set and the input has 2 (cp.wd.microsoft.com, events.data.microsoft.com)"),
        "{}",
        run.stderr
    );
}

#[test]
fn repeated_pins_are_written_once_and_counted_on_standard_error() {
    // 20,000 pins, each key twice: HPKP headers merged from several sources repeat keys
    let pins: Vec<String> = (0..20_000)
        .map(|i| crate::support::unrelated_pin(&format!("key {}", i % 10_000)))
        .collect();
    let header: Vec<String> = pins.iter().map(|p| format!("pin-sha256=\"{p}\"")).collect();
    let text = format!("Public-Key-Pins: {}; max-age=5184000\n", header.join("; "));
    let run = convert(&["--from", "hpkp", "-"], &text);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("standard input: dropped 10000 duplicate pins (a pin already in its set)"),
        "{}",
        run.stderr
    );
    for pin in &pins[..3] {
        assert_eq!(
            run.stdout.matches(&format!("sha256/{pin}")).count(),
            1,
            "{pin} written once"
        );
    }
    let back = convert(&["--from", "toml", "--to", "hpkp", "-"], &run.stdout);
    back.assert_code(0);
    assert_eq!(back.stdout.matches("pin-sha256=").count(), 10_000);
    assert!(!back.stderr.contains("duplicate"), "{}", back.stderr);
}
