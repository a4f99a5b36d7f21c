//! The progress bar of long runs: done/total, rate, failures so far and ETA, on standard
//! error, only when it is a terminal (never in pipes or CI logs) and the run is long enough to
//! need it.
//!
//! The bar draws on a thread of its own, at any moment, so the count of probes done and the
//! count of failures must change together: one lock holds both, and the bar's position is set
//! before its message, so every frame shows at most as many failures as probes done.

use std::io::IsTerminal;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Runs shorter than this get no bar.
pub const MIN_ENDPOINTS: usize = 6;

/// What the bar draws: the default colours of the terminal, nothing styled (a colour chosen
/// here is invisible on some background).
const TEMPLATE: &str = "{bar:30} {pos}/{len} {rate} {msg} eta {eta}";

/// A progress bar and the probes counted so far.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    counts: Mutex<Counts>,
}

/// Probes done, and how many of them failed.
#[derive(Debug, Default)]
struct Counts {
    done: u64,
    failed: u64,
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
        bar.set_style(style());
        bar.set_message(failed_text(0));
        bar.enable_steady_tick(Duration::from_millis(250));
        Some(Progress {
            bar,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// One probe done.
    pub fn done(&self, ok: bool) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.done += 1;
        if !ok {
            counts.failed += 1;
        }
        // the position first: a frame drawn between the two shows the new count of probes
        // with the old count of failures, never the other way round
        self.bar.set_position(counts.done);
        self.bar.set_message(failed_text(counts.failed));
    }

    /// Removes the bar before the summary is written.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The bar's style: [`TEMPLATE`], with the rate in whole probes per second.
fn style() -> ProgressStyle {
    ProgressStyle::with_template(TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let rate = state.per_sec();
                let _ = if rate.is_finite() {
                    write!(w, "{rate:.0}/s")
                } else {
                    w.write_str("-/s")
                };
            },
        )
}

fn failed_text(failed: u64) -> String {
    format!("{failed} failed")
}
