//! Real squid instances for the proxy tests: a forwarding proxy, an ssl-bump proxy that
//! re-signs with a lab CA, and a proxy that wants Basic credentials. Each runs from a
//! generated configuration in its own directory, on a loopback port, and is killed on drop.
//!
//! squid cannot listen on port 0, so the port comes from the kernel (bind to port 0, read it,
//! release it) and a start that loses the port to another process is retried. Without squid
//! the tests are skipped, unless `PINPROBE_REQUIRE_SQUID=1` (set by `.ci/run`) makes a missing
//! squid a failure.

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pinprobe::lab::{closed_port, Ca};
use tempfile::TempDir;

/// The user `lab-user`, password `lab-secret`, as `openssl passwd -apr1 -salt pinprobe` writes it.
const PASSWD: &str = "lab-user:$apr1$pinprobe$D9ZgXZZpUHbrBet1GvxYi/\n";
/// Credentials matching `PASSWD`.
pub const CREDENTIALS: &str = "lab-user:lab-secret";

/// How long a squid may take to accept connections.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// What the squid does with CONNECT.
pub enum Mode<'a> {
    /// forwards tunnels
    Forward,
    /// bumps every tunnel, re-signing with `ca`; trusts origins anchored at `origin_root`
    Bump { ca: &'a Ca, origin_root: &'a Ca },
    /// wants Basic credentials (`CREDENTIALS`) before it forwards
    BasicAuth,
}

/// A running squid.
pub struct Squid {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Squid {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://user:pass@127.0.0.1:PORT`
    pub fn url_with_credentials(&self) -> String {
        format!("http://{CREDENTIALS}@127.0.0.1:{}", self.port)
    }

    /// squid's own log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("cache.log")).unwrap_or_default()
    }
}

impl Drop for Squid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn squid_binary() -> Option<PathBuf> {
    ["/usr/sbin/squid", "/usr/local/sbin/squid", "/usr/bin/squid"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn required() -> bool {
    std::env::var("PINPROBE_REQUIRE_SQUID").is_ok_and(|v| v == "1")
}

/// Starts a squid that resolves `hosts` to 127.0.0.1. None (with a note on stderr) when squid
/// is not installed and not required.
pub fn start(mode: Mode<'_>, hosts: &[&str]) -> Option<Squid> {
    let Some(binary) = squid_binary() else {
        assert!(
            !required(),
            "PINPROBE_REQUIRE_SQUID=1 but squid is not installed: apt-get install squid-openssl"
        );
        let _ = writeln!(
            std::io::stderr(),
            "squid is not installed: skipping (set PINPROBE_REQUIRE_SQUID=1 to fail instead)"
        );
        return None;
    };
    let mut last_log = String::new();
    for _ in 0..3 {
        match try_start(&binary, &mode, hosts) {
            Ok(squid) => return Some(squid),
            Err(log) => last_log = log,
        }
    }
    panic!("squid did not start after 3 attempts; last log:\n{last_log}");
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write squid file");
    // squid drops root privileges to its own user, which must read these files
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    path
}

fn try_start(binary: &Path, mode: &Mode<'_>, hosts: &[&str]) -> Result<Squid, String> {
    let dir = tempfile::tempdir().expect("squid directory");
    // and must write its log here
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let d = dir.path();
    let port = closed_port().expect("free port");
    let hosts_file = write(d, "hosts", &format!("127.0.0.1 {}\n", hosts.join(" ")));
    let mut conf = String::new();
    match mode {
        Mode::Forward => conf.push_str(&format!(
            "http_port 127.0.0.1:{port}\nhttp_access allow localhost\n"
        )),
        Mode::BasicAuth => {
            let passwd = write(d, "passwd", PASSWD);
            conf.push_str(&format!(
                "http_port 127.0.0.1:{port}\n\
                 auth_param basic program /usr/lib/squid/basic_ncsa_auth {}\n\
                 auth_param basic realm pinprobe-lab\n\
                 auth_param basic children 1 startup=1 idle=1\n\
                 acl authed proxy_auth REQUIRED\n\
                 http_access allow authed\n",
                passwd.display()
            ));
        }
        Mode::Bump { ca, origin_root } => {
            let cert = write(d, "bump-ca.pem", &ca.pem());
            let key = write(d, "bump-ca.key", &ca.key_pem());
            let origin = write(d, "origin-root.pem", &origin_root.pem());
            let db = d.join("ssl_db");
            let status = Command::new("/usr/lib/squid/security_file_certgen")
                .args(["-c", "-s"])
                .arg(&db)
                .args(["-M", "4MB"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| format!("security_file_certgen: {e}"))?;
            if !status.success() {
                return Err(format!("security_file_certgen exited with {status}"));
            }
            make_world_writable(&db);
            conf.push_str(&format!(
                "http_port 127.0.0.1:{port} ssl-bump tls-cert={} tls-key={} generate-host-certificates=on dynamic_cert_mem_cache_size=4MB\n\
                 sslcrtd_program /usr/lib/squid/security_file_certgen -s {} -M 4MB\n\
                 sslcrtd_children 2 startup=1 idle=1\n\
                 acl step1 at_step SslBump1\n\
                 ssl_bump peek step1\n\
                 ssl_bump bump all\n\
                 tls_outgoing_options cafile={}\n\
                 http_access allow localhost\n",
                cert.display(),
                key.display(),
                db.display(),
                origin.display()
            ));
        }
    }
    conf.push_str(&format!(
        "http_access deny all\n\
         hosts_file {}\n\
         dns_nameservers 127.0.0.1\n\
         pid_filename none\n\
         cache_log {}\n\
         access_log none\n\
         cache deny all\n\
         cache_mem 1 MB\n\
         pinger_enable off\n\
         coredump_dir {}\n\
         shutdown_lifetime 0 seconds\n",
        hosts_file.display(),
        d.join("cache.log").display(),
        d.display()
    ));
    let conf_file = write(d, "squid.conf", &conf);
    let out = std::fs::File::create(d.join("squid.out")).expect("squid output file");
    let mut child = Command::new(binary)
        .arg("-N")
        .arg("-f")
        .arg(&conf_file)
        .stdout(out.try_clone().expect("clone"))
        .stderr(out)
        .spawn()
        .map_err(|e| format!("cannot run squid: {e}"))?;
    let start = Instant::now();
    while start.elapsed() < START_DEADLINE {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(d.join("squid.out")).unwrap_or_default()
                + &std::fs::read_to_string(d.join("cache.log")).unwrap_or_default();
            return Err(format!("squid exited with {status}:\n{log}"));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(Squid { child, port, dir });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!(
        "squid did not accept connections within {START_DEADLINE:?}:\n{}",
        std::fs::read_to_string(d.join("cache.log")).unwrap_or_default()
    ))
}

fn make_world_writable(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            make_world_writable(&path);
        } else {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666));
        }
    }
}
