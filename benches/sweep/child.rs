//! Measuring a client: each one runs as a child process, waited for with `wait4`, so that its
//! CPU time (user + sys, grandchildren included once their parent has waited for them) and its
//! peak RSS are its own; and the CPU time of the server side, read from /proc or `getrusage`.

use std::fs;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::Result;

/// Longest any one client run may take before it is killed (and reported as such).
pub const CHILD_DEADLINE: Duration = Duration::from_secs(120);

/// What one child run cost.
#[derive(Clone, Debug)]
pub struct Run {
    pub wall: Duration,
    /// user + sys of the child and every descendant it waited for
    pub cpu: Duration,
    pub max_rss_kib: u64,
    pub status: ExitStatus,
    /// how long the child was allowed to run; `Some` when it was killed at that limit
    pub killed: Option<Duration>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn failed(&self) -> Option<String> {
        if let Some(limit) = self.killed {
            return Some(format!("killed after {} s", limit.as_secs()));
        }
        if self.status.success() {
            return None;
        }
        let code = self
            .status
            .code()
            .map(|c| format!("exit status {c}"))
            .unwrap_or_else(|| format!("signal {:?}", self.status.signal()));
        let first = self.stderr.lines().next().unwrap_or_default();
        Some(format!("{code}: {first}"))
    }
}

/// Runs `cmd` as a child in its own process group, waits for it with `wait4` and returns its
/// wall time, CPU time and peak RSS. A child still running at `limit` is killed with its
/// whole process group.
pub fn measure(cmd: &mut Command, dir: &Path, limit: Duration) -> Result<Run> {
    let stdout_path = dir.join("child.stdout");
    let stderr_path = dir.join("child.stderr");
    cmd.stdout(fs::File::create(&stdout_path)?)
        .stderr(fs::File::create(&stderr_path)?)
        .process_group(0);
    let start = Instant::now();
    let child: Child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let (done, wait) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            // The child is not reaped before the watchdog has finished (WNOWAIT below), so the
            // process group id cannot have been reused.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            return true;
        }
        false
    });
    // Wait for the exit without reaping, so that the watchdog never signals a reused pid.
    loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break;
        }
    }
    let wall = start.elapsed();
    let _ = done.send(());
    let killed = watchdog.join().unwrap_or(false);
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(format!("wait4: {e}").into());
        }
    }
    drop(child);
    Ok(Run {
        wall,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss as u64,
        status: ExitStatus::from_raw(status),
        killed: killed.then_some(limit),
        stdout: fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: fs::read_to_string(&stderr_path).unwrap_or_default(),
    })
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000)
}

fn clock_tick() -> Duration {
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Duration::from_secs(1) / u32::try_from(hz).unwrap_or(100).max(1)
}

/// utime + stime of a process from /proc/PID/stat.
pub fn proc_cpu(pid: u32) -> Duration {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // fields after the command name, which may hold spaces: state is field 3, utime 14
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u32>().ok())
            .unwrap_or(0)
    };
    clock_tick() * (ticks(11) + ticks(12))
}

/// CPU time of this process (the in-process origin's server side).
pub fn self_cpu() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// The medians of several runs of one command, each taken on its own (the run of median wall
/// time need not be the run of median CPU).
#[derive(Clone, Copy, Debug)]
pub struct Medians {
    pub wall: Duration,
    pub cpu: Duration,
    pub max_rss_kib: u64,
}

impl Medians {
    /// `None` for no run.
    pub fn of(runs: &[Run]) -> Option<Medians> {
        fn middle<T: Ord + Copy>(mut values: Vec<T>) -> Option<T> {
            values.sort();
            values.get(values.len() / 2).copied()
        }
        Some(Medians {
            wall: middle(runs.iter().map(|r| r.wall).collect())?,
            cpu: middle(runs.iter().map(|r| r.cpu).collect())?,
            max_rss_kib: middle(runs.iter().map(|r| r.max_rss_kib).collect())?,
        })
    }

    pub fn wall_ms(&self) -> f64 {
        self.wall.as_secs_f64() * 1000.0
    }

    pub fn cpu_ms(&self) -> f64 {
        self.cpu.as_secs_f64() * 1000.0
    }

    pub fn rss_mib(&self) -> f64 {
        self.max_rss_kib as f64 / 1024.0
    }
}
