//! Shared pieces of the integration tests: lab PKIs, servers, files in a temporary directory,
//! and running the `pinprobe` binary with a controlled OS trust store.
//!
//! Every run of the binary gets its own temporary directory holding the OS store
//! (`SSL_CERT_FILE`, with `SSL_CERT_DIR` an empty directory), so the machine's store never
//! changes a result, and every URL is a made-up name mapped to 127.0.0.1 with `--resolve`.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
pub use pinprobe::lab::Pki;
use pinprobe::lab::{Behaviour, Ca, Leaf, Server, PROXY_VARS};
use rustls::pki_types::CertificateDer;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The host name every lab server answers for.
pub const HOST: &str = "lab.test";

/// Longest a child run may take before the test kills it and fails.
const CHILD_DEADLINE: Duration = Duration::from_secs(20);

/// A genuine private PKI (the lab's root -> intermediate -> leaf, ECDSA) for `names`, valid
/// now.
pub fn genuine_pki(names: &[&str]) -> Pki {
    Pki::genuine(names).expect("lab pki")
}

/// The SPKI SHA-256 of a certificate, computed here independently of pinprobe (x509-parser
/// for the SPKI bytes, sha2 for the digest).
pub fn spki_sha256(der: &CertificateDer<'_>) -> [u8; 32] {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).expect("certificate parses");
    Sha256::digest(cert.tbs_certificate.subject_pki.raw).into()
}

/// The pin of a certificate in base64.
pub fn pin_base64(der: &CertificateDer<'_>) -> String {
    base64::engine::general_purpose::STANDARD.encode(spki_sha256(der))
}

/// The pin of a certificate in hex.
pub fn pin_hex(der: &CertificateDer<'_>) -> String {
    hex::encode(spki_sha256(der))
}

/// A pin that belongs to no certificate of the tests (the SHA-256 of a text).
pub fn unrelated_pin(seed: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(seed.as_bytes()))
}

/// Starts a TLS server presenting `chain` with `leaf`'s key.
pub async fn serve_chain(
    chain: Vec<CertificateDer<'static>>,
    leaf: &Leaf,
    behaviour: Behaviour,
) -> Server {
    Server::start(chain, leaf.key.clone_key(), behaviour)
        .await
        .expect("lab server starts")
}

/// Serves `chain` with `leaf`'s key (an HTTP 200 "OK" after the handshake) and probes it with
/// `root` as `--cacert`, for the JSON result.
pub async fn probe_chain(root: &Ca, chain: Vec<CertificateDer<'static>>, leaf: &Leaf) -> Outcome {
    let server = serve_chain(chain, leaf, http(200, "OK")).await;
    Probe::new()
        .cacert(root)
        .endpoint(server.port())
        .json()
        .run()
        .await
}

/// Starts a TLS server presenting the leaf and its issuers.
pub async fn serve(leaf: &Leaf, behaviour: Behaviour) -> Server {
    serve_chain(leaf.chain(), leaf, behaviour).await
}

/// An HTTP answer.
pub fn http(status: u16, body: &str) -> Behaviour {
    Behaviour::Http {
        status,
        body: body.to_string(),
    }
}

/// `https://HOST:PORT/ping`
pub fn url(port: u16) -> String {
    format!("https://{HOST}:{port}/ping")
}

/// One run of the binary, built step by step; files go to its own temporary directory.
pub struct Probe {
    dir: TempDir,
    args: Vec<OsString>,
    os_store: String,
    envs: Vec<(String, String)>,
    removed: Vec<String>,
    open_files: Option<u64>,
    /// a shell script to run instead of the binary, and the `PATH` it gets
    script: Option<(PathBuf, String)>,
}

impl Default for Probe {
    fn default() -> Probe {
        Probe::new()
    }
}

impl Probe {
    /// A run with an empty OS store and no arguments.
    pub fn new() -> Probe {
        Probe {
            dir: tempfile::tempdir().expect("temporary directory"),
            args: Vec::new(),
            os_store: String::new(),
            envs: Vec::new(),
            removed: Vec::new(),
            open_files: None,
            script: None,
        }
    }

    /// Runs `/bin/sh SCRIPT` with the arguments instead of the binary, with the directory of
    /// the built binary first on its `PATH` (as `pinprobe`), then `/usr/bin` and `/bin`.
    pub fn script(mut self, script: PathBuf) -> Probe {
        let bin = Path::new(env!("CARGO_BIN_EXE_pinprobe"))
            .parent()
            .expect("the binary's directory");
        self.script = Some((script, format!("{}:/usr/bin:/bin", bin.display())));
        self
    }

    /// As [`Probe::script`], with no `pinprobe` on the `PATH`.
    pub fn script_without_pinprobe(mut self, script: PathBuf) -> Probe {
        self.script = Some((script, "/usr/bin:/bin".to_string()));
        self
    }

    /// Sets an environment variable on the child (proxy variables are otherwise removed).
    pub fn env(mut self, name: &str, value: &str) -> Probe {
        self.envs.push((name.to_string(), value.to_string()));
        self
    }

    /// Removes an environment variable from the child (`SSL_CERT_FILE`, to leave `SSL_CERT_DIR`
    /// alone in charge of the OS store).
    pub fn env_remove(mut self, name: &str) -> Probe {
        self.removed.push(name.to_string());
        self
    }

    /// Runs the child with at most `limit` open files, soft and hard alike, so that it cannot
    /// raise its own limit (`ulimit -n` and `ulimit -Hn` before the run).
    pub fn open_files(mut self, limit: u64) -> Probe {
        self.open_files = Some(limit);
        self
    }

    /// Writes `contents` to `name` in the run's directory.
    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Probe
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// `--format json`
    pub fn json(self) -> Probe {
        self.args(["--format", "json"])
    }

    /// `--resolve HOST:PORT:127.0.0.1`
    pub fn resolve(self, port: u16) -> Probe {
        self.args(["--resolve".to_string(), format!("{HOST}:{port}:127.0.0.1")])
    }

    /// The URL `https://HOST:PORT/ping`, resolved to 127.0.0.1.
    pub fn endpoint(self, port: u16) -> Probe {
        self.resolve(port).args([url(port)])
    }

    /// `--cacert FILE` with the CA's certificate.
    pub fn cacert(self, ca: &Ca) -> Probe {
        let name = format!("cacert-{}.pem", self.args.len());
        let path = self.file(&name, &ca.pem());
        self.args([OsString::from("--cacert"), path.into_os_string()])
    }

    /// Puts the CA's certificate in the OS store of the child.
    pub fn os_trusts(mut self, ca: &Ca) -> Probe {
        self.os_store.push_str(&ca.pem());
        self
    }

    /// `--profile FILE` with the given TOML.
    pub fn profile(self, toml: &str) -> Probe {
        let path = self.file("profile.toml", toml);
        self.args([OsString::from("--profile"), path.into_os_string()])
    }

    /// The path `--profile` writes to, for messages.
    pub fn profile_path(&self) -> PathBuf {
        self.dir.path().join("profile.toml")
    }

    /// Runs the binary on a blocking thread (the lab servers keep serving on the test's
    /// runtime), kills it if it outlives the deadline, and collects its output.
    pub async fn run(self) -> Outcome {
        tokio::task::spawn_blocking(move || self.run_blocking())
            .await
            .expect("the child runner does not panic")
    }

    fn run_blocking(self) -> Outcome {
        let store = self.file("os-store.pem", &self.os_store);
        let store_dir = self.dir.path().join("os-store.d");
        std::fs::create_dir(&store_dir).expect("empty certificate directory");
        let stdout_path = self.dir.path().join("child.stdout");
        let stderr_path = self.dir.path().join("child.stderr");
        let mut command = match &self.script {
            Some((script, path)) => {
                let mut command = Command::new("/bin/sh");
                command.arg(script).env("PATH", path);
                command
            }
            None => Command::new(env!("CARGO_BIN_EXE_pinprobe")),
        };
        command
            .args(&self.args)
            .current_dir(self.dir.path())
            .env("SSL_CERT_FILE", &store)
            .env("SSL_CERT_DIR", &store_dir)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_path).expect("stdout file"))
            .stderr(File::create(&stderr_path).expect("stderr file"));
        for var in PROXY_VARS {
            command.env_remove(var);
        }
        for (name, value) in &self.envs {
            command.env(name, value);
        }
        for name in &self.removed {
            command.env_remove(name);
        }
        if let Some(limit) = self.open_files {
            use std::os::unix::process::CommandExt as _;
            let limit = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            // SAFETY: setrlimit is async-signal-safe and only reads the struct it is given
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let start = Instant::now();
        let mut child = command.spawn().expect("pinprobe starts");
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for pinprobe") {
                break status;
            }
            if start.elapsed() > CHILD_DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "pinprobe {:?} still ran after {CHILD_DEADLINE:?}; stderr: {}",
                    self.args,
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = start.elapsed();
        let stdout = std::fs::read_to_string(&stdout_path).expect("stdout is UTF-8");
        let stderr = std::fs::read_to_string(&stderr_path).expect("stderr is UTF-8");
        assert!(
            !stderr.contains("panicked"),
            "pinprobe {:?} panicked: {stderr}",
            self.args
        );
        Outcome {
            code: status
                .code()
                .expect("pinprobe exits with a status, not a signal"),
            stdout,
            stderr,
            elapsed,
            args: self.args,
            dir: self.dir,
        }
    }
}

/// What a run of the binary left.
pub struct Outcome {
    /// exit status
    pub code: i32,
    /// standard output
    pub stdout: String,
    /// standard error
    pub stderr: String,
    /// wall time of the child
    pub elapsed: Duration,
    args: Vec<OsString>,
    dir: TempDir,
}

impl Outcome {
    /// The run's temporary directory (files written by `-o` live there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Asserts the exit status, showing the output when it differs.
    pub fn assert_code(&self, code: i32) -> &Outcome {
        assert_eq!(
            self.code, code,
            "exit status of pinprobe {:?}\nstdout:\n{}\nstderr:\n{}",
            self.args, self.stdout, self.stderr
        );
        self
    }

    /// The JSON document on standard output.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of pinprobe {:?} is not JSON ({e}):\n{}\nstderr:\n{}",
                self.args, self.stdout, self.stderr
            )
        })
    }

    /// Every result of the JSON document, in order.
    pub fn results(&self) -> Vec<Value> {
        self.json()["results"]
            .as_array()
            .expect("results is an array")
            .clone()
    }

    /// The one result of a single-endpoint run.
    pub fn result(&self) -> Value {
        let results = self.results();
        assert_eq!(results.len(), 1, "one result expected: {results:#?}");
        results.into_iter().next().expect("one result")
    }
}

/// Asserts a result's verdict and curl code, printing the whole result when they differ.
pub fn assert_verdict(result: &Value, verdict: &str, curl_code: u64) {
    assert_eq!(
        (result["verdict"].as_str(), result["curl_code"].as_u64()),
        (Some(verdict), Some(curl_code)),
        "verdict and curl code of\n{result:#}"
    );
}

/// The text of a JSON string field, or a failure naming the field.
pub fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"))
}

/// The signals of a result's interception evidence.
pub fn signals(result: &Value) -> Vec<&Value> {
    result["interception"]["evidence"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// The signal with this name, or a failure listing what was found.
pub fn signal<'a>(result: &'a Value, name: &str) -> &'a Value {
    signals(result)
        .into_iter()
        .find(|s| s["signal"] == name)
        .unwrap_or_else(|| panic!("no {name} signal in\n{:#}", result["interception"]))
}

/// A flag and the file it names, as arguments.
pub fn flag(name: &str, path: &Path) -> [OsString; 2] {
    [OsString::from(name), path.as_os_str().to_owned()]
}
