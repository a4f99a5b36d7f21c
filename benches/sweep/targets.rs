//! The targets of the bench: each case adds a line, `PASS` when it met the target and `FAIL`
//! when it did not; the summary at the end counts them. A failed target is printed, never a
//! failure of the bench (its exit status stays 0): speed is measured here, not asserted.

use std::io::Write;

use crate::Result;

/// The targets checked in one run, in the order they were measured.
#[derive(Default)]
pub struct Targets(Vec<(String, bool)>);

impl Targets {
    pub fn push(&mut self, what: String, met: bool) {
        self.0.push((what, met));
    }

    /// The summary: how many were met, then one line each.
    pub fn print(&self, out: &mut impl Write) -> Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "targets (pinprobe with its default -j): {} of {} met",
            self.0.iter().filter(|(_, met)| *met).count(),
            self.0.len()
        )?;
        for (what, met) in &self.0 {
            writeln!(out, "  {} {what}", if *met { "PASS" } else { "FAIL" })?;
        }
        Ok(())
    }
}

/// `PASS (target)` or `FAIL (target)` after a measured figure; nothing when it has no target.
pub fn verdict(check: Option<(bool, String)>) -> String {
    match check {
        None => String::new(),
        Some((true, target)) => format!("PASS ({target})"),
        Some((false, target)) => format!("FAIL ({target})"),
    }
}
