//! The TLS origin of the throughput, cold-start and memory cases: nginx from Debian's packages
//! when it is installed (one port per chain, every handshake a full one), else the lab's
//! in-process server.

use std::fmt::Write as _;
use std::fs;
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use pinprobe::lab::{self, Behaviour, Server};

use crate::child::{proc_cpu, self_cpu};
use crate::options::Options;
use crate::pki::Pki;
use crate::Result;

/// Longest nginx may take to accept connections.
const NGINX_START: Duration = Duration::from_secs(10);

/// The TLS origin: one port per chain.
pub struct Origin {
    pub what: String,
    pub ports: Vec<u16>,
    nginx: Option<Nginx>,
    _lab: Vec<Server>,
}

impl Origin {
    pub fn start(
        options: &Options,
        runtime: &tokio::runtime::Runtime,
        pkis: &[&Pki],
        dir: &Path,
    ) -> Result<Origin> {
        let mut why_not = "not installed".to_string();
        if let Some(binary) = Nginx::find().filter(|_| options.nginx) {
            let nginx_dir = dir.join("nginx");
            fs::create_dir_all(nginx_dir.join("tmp"))?;
            match Nginx::start(&binary, pkis, &nginx_dir) {
                Ok((nginx, ports)) => {
                    return Ok(Origin {
                        what: format!("{} ({})", nginx.version, binary.display()),
                        ports,
                        nginx: Some(nginx),
                        _lab: Vec::new(),
                    })
                }
                Err(e) => why_not = e.to_string(),
            }
        } else if !options.nginx {
            why_not = "--no-nginx".into();
        }
        let mut servers = Vec::new();
        for pki in pkis {
            let server = runtime.block_on(Server::start_with_capacity(
                pki.leaf.chain(),
                pki.leaf.key.clone_key(),
                ok(),
                // enough for every run of the bench against this origin
                1_000_000,
            ))?;
            servers.push(server);
        }
        Ok(Origin {
            what: format!("pinprobe's in-process lab server (nginx: {why_not})"),
            ports: servers.iter().map(Server::port).collect(),
            nginx: None,
            _lab: servers,
        })
    }

    /// CPU time of the server side so far.
    pub fn server_cpu(&self) -> Duration {
        match &self.nginx {
            Some(n) => n.cpu(),
            None => self_cpu(),
        }
    }
}

/// What every origin answers: `200 OK` with the body `OK`.
pub fn ok() -> Behaviour {
    Behaviour::Http {
        status: 200,
        body: "OK".into(),
    }
}

/// nginx serving both chains, one port each; stopped (with its workers) on drop.
struct Nginx {
    child: Child,
    version: String,
}

impl Nginx {
    fn find() -> Option<PathBuf> {
        [
            "/usr/sbin/nginx",
            "/usr/local/sbin/nginx",
            "/usr/local/nginx/sbin/nginx",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    }

    fn start(binary: &Path, pkis: &[&Pki], dir: &Path) -> Result<(Nginx, Vec<u16>)> {
        let version = Command::new(binary)
            .arg("-v")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
            .unwrap_or_default();
        let mut last_error = String::new();
        // a port read from 127.0.0.1:0 may be taken again before nginx binds it: retry
        for _ in 0..5 {
            let ports = pkis
                .iter()
                .map(|_| lab::closed_port())
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let conf = dir.join("nginx.conf");
            fs::write(&conf, nginx_conf(pkis, &ports, dir))?;
            let mut child = Command::new(binary)
                .arg("-p")
                .arg(dir)
                .arg("-c")
                .arg(&conf)
                .args(["-g", "daemon off;"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(fs::File::create(dir.join("nginx.stderr"))?)
                .spawn()?;
            let started = Instant::now();
            let mut up = false;
            while started.elapsed() < NGINX_START {
                if child.try_wait()?.is_some() {
                    break;
                }
                if ports
                    .iter()
                    .all(|p| TcpStream::connect((Ipv4Addr::LOCALHOST, *p)).is_ok())
                {
                    up = true;
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
            let nginx = Nginx {
                child,
                version: version.clone(),
            };
            if up {
                return Ok((nginx, ports));
            }
            drop(nginx);
            last_error = fs::read_to_string(dir.join("nginx.stderr")).unwrap_or_default();
            last_error += &fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        }
        Err(format!("nginx did not start: {}", last_error.trim()).into())
    }

    /// CPU time of the master and its workers so far (from /proc, in clock ticks).
    fn cpu(&self) -> Duration {
        let pid = self.child.id();
        let mut pids = vec![pid];
        if let Ok(children) = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            pids.extend(
                children
                    .split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
        pids.iter().map(|p| proc_cpu(*p)).sum()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers and exits; SIGKILL would orphan them
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_conf(pkis: &[&Pki], ports: &[u16], dir: &Path) -> String {
    let mut servers = String::new();
    for (pki, port) in pkis.iter().zip(ports) {
        let _ = write!(
            servers,
            r#"
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name _;
        ssl_certificate {chain};
        ssl_certificate_key {key};
        location / {{ return 200 "OK"; }}
    }}"#,
            chain = pki.chain_pem.display(),
            key = pki.key_pem.display(),
        );
    }
    // every handshake is a full one: no session cache, no tickets
    format!(
        r#"worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    keepalive_timeout 0;
    default_type text/plain;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;{servers}
}}
"#,
        dir = dir.display()
    )
}
