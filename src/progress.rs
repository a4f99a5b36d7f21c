//! The progress bar of long runs: done/total, rate, failures so far and ETA, on standard
//! error, only when it is a terminal (never in pipes or CI logs) and the run is long enough to
//! need it.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Runs shorter than this get no bar.
pub const MIN_ENDPOINTS: usize = 6;

/// A progress bar and the failures counted so far.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    failures: AtomicUsize,
}

impl Progress {
    /// A bar for `total` probes, when `wanted` (no `--quiet`), standard error is a terminal and
    /// the run is long enough.
    pub fn start(total: usize, wanted: bool) -> Option<Progress> {
        if !wanted || total < MIN_ENDPOINTS || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(
            Some(total as u64),
            ProgressDrawTarget::stderr_with_hz(4),
        );
        let style =
            ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec:.0} {msg} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message("0 failed");
        bar.enable_steady_tick(Duration::from_millis(250));
        Some(Progress {
            bar,
            failures: AtomicUsize::new(0),
        })
    }

    /// One probe done.
    pub fn done(&self, ok: bool) {
        if !ok {
            let failed = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
            self.bar.set_message(format!("{failed} failed"));
        }
        self.bar.inc(1);
    }

    /// Removes the bar before the summary is written.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
