//! Reports: the text report in the Defender guide's shape and the JSON document.
//!
//! All output of a run goes through here, to standard output or the `-o` file. Results arrive
//! in input order, one at a time; the text report prints each line at once, the JSON report
//! writes its document at the end. A closed pipe (`pinprobe | head`) ends the output quietly.

pub mod inspect;
pub mod json;
pub mod junit;
pub mod prometheus;
mod shown;
pub mod text;

pub use shown::{is_escaped, Shown};

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::chain::trust::OsStoreReport;
use crate::probe::ProbeResult;
use crate::verdict::{Advice, Verdict};

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// one line per endpoint, advice at the end
    Text,
    /// one JSON document
    Json,
    /// one JSON result per line, as each finishes
    Ndjson,
    /// JUnit XML
    Junit,
    /// the Prometheus text exposition format (node_exporter's textfile collector)
    Prometheus,
}

/// What the run was about, for report headers.
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    /// pinprobe's version
    pub version: &'static str,
    /// where the endpoints came from (profile file, bundled profile or command line)
    pub profile: String,
    /// when the run started, RFC 3339
    pub started: String,
    /// number of endpoints
    pub endpoints: usize,
    /// how the endpoints are reached: `direct`, `via http://proxy:3128 (HTTPS_PROXY)`...
    pub routes: String,
    /// each endpoint is probed directly and through the proxy
    pub compare_direct: bool,
    /// where the OS store was read from, how many anchors it held, and the problems met
    pub os_store: OsStoreReport,
    /// lines of --targets that were not endpoints (`FILE:LINE: why`)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// which of the profile's lists was probed, and why (`streamlined endpoints for EU
    /// (--geo)`), when the profile has several
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_list: Option<String>,
    /// warnings about the run rather than one endpoint (`pinned-certificate-expired`)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::probe::Warning>,
    /// what to do about each verdict (the profile's words, else the generic ones)
    #[serde(skip)]
    pub advice: Advice,
}

/// Counts by verdict, in the order of the verdict table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// endpoints reported
    pub total: usize,
    /// endpoints whose verdict is `ok`
    pub ok: usize,
    /// endpoints whose verdict is not `ok`
    pub failed: usize,
    /// count per verdict code
    pub verdicts: BTreeMap<Verdict, usize>,
    /// endpoints with at least one warning
    pub warned: usize,
    /// lines of --targets that were not endpoints
    pub skipped: usize,
    /// warnings fail the run (`--fail-on warning`)
    #[serde(skip)]
    pub fail_on_warning: bool,
}

impl Summary {
    /// Counts one result.
    pub fn add(&mut self, result: &ProbeResult) {
        self.total += 1;
        if result.verdict == Verdict::Ok {
            self.ok += 1;
        } else {
            self.failed += 1;
        }
        if !result.warnings.is_empty() {
            self.warned += 1;
        }
        *self.verdicts.entry(result.verdict).or_default() += 1;
    }

    /// True when the run passes: every verdict ok, every target line read, and no warning when
    /// warnings fail it.
    pub fn passed(&self) -> bool {
        self.failed == 0 && self.skipped == 0 && !(self.fail_on_warning && self.warned > 0)
    }
}

/// A writer that takes a closed pipe (`pinprobe | head`) as the end of the output: after
/// the first broken pipe it writes nothing and reports success, so the run ends as usual for
/// what was written. Every command's standard output goes through one.
pub struct Quiet<W> {
    inner: W,
    closed: bool,
}

impl<W: Write> Quiet<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Quiet<W> {
        Quiet {
            inner,
            closed: false,
        }
    }

    fn quiet<T>(&mut self, result: io::Result<T>, or: T) -> io::Result<T> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(or)
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Quiet<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.quiet(result, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.quiet(result, ())
    }
}

/// A report being written.
pub struct Report<W: Write> {
    out: Quiet<W>,
    format: Format,
    text: text::Text,
    json: json::Json,
    junit: junit::Junit,
    prometheus: prometheus::Prometheus,
    /// counts for the line-oriented format, which keeps nothing else
    ndjson: Summary,
    fail_on_warning: bool,
}

impl<W: Write> Report<W> {
    /// Starts a report; the text header is written at once.
    pub fn new(out: W, format: Format, verbose: bool, info: RunInfo) -> io::Result<Report<W>> {
        let mut report = Report {
            out: Quiet::new(out),
            format,
            text: text::Text::new(verbose),
            json: json::Json::new(info.clone()),
            junit: junit::Junit::new(info.clone(), false),
            prometheus: prometheus::Prometheus::new(),
            ndjson: Summary::default(),
            fail_on_warning: false,
        };
        if format == Format::Text {
            let mut buf = Vec::new();
            report.text.header(&mut buf, &info)?;
            report.write(&buf)?;
        }
        Ok(report)
    }

    /// Makes warnings fail the run (`--fail-on warning`): the summary says so, and JUnit
    /// reports them as failures.
    pub fn fail_on_warning(&mut self, yes: bool) {
        self.fail_on_warning = yes;
        self.junit.fail_on_warning(yes);
    }

    /// The format of the pins a drifted chain needs (`--pin-format`).
    pub fn pin_format(&mut self, format: crate::pin_formats::PinFormat) {
        self.text.pin_format(format);
    }

    /// The expired anchors of each pin set, for the Prometheus format (see
    /// [`prometheus::pinned_expired_counts`]).
    pub fn pinned_expired(&mut self, counts: BTreeMap<String, usize>) {
        self.prometheus.pinned_expired(counts);
    }

    /// Adds one result (in input order).
    pub fn result(&mut self, result: ProbeResult) -> io::Result<()> {
        match self.format {
            Format::Text => {
                let mut buf = Vec::new();
                self.text.result(&mut buf, &result)?;
                self.write(&buf)
            }
            Format::Json => {
                self.json.result(result);
                Ok(())
            }
            Format::Ndjson => {
                // written at once and dropped: memory stays flat whatever the count
                self.ndjson.add(&result);
                let mut line = serde_json::to_vec(&result).map_err(io::Error::other)?;
                line.push(b'\n');
                self.write(&line)
            }
            Format::Junit => {
                self.junit.result(&result);
                Ok(())
            }
            Format::Prometheus => {
                self.prometheus.result(&result);
                Ok(())
            }
        }
    }

    /// Ends the report (summary and advice, or the JSON document) and returns the counts.
    pub fn finish(mut self) -> io::Result<Summary> {
        let mut buf = Vec::new();
        let mut summary = match self.format {
            Format::Text => self.text.finish(&mut buf, self.fail_on_warning)?,
            Format::Json => self.json.finish(&mut buf)?,
            Format::Ndjson => self.ndjson.clone(),
            Format::Junit => self.junit.finish(&mut buf)?,
            Format::Prometheus => self.prometheus.finish(&mut buf)?,
        };
        summary.fail_on_warning = self.fail_on_warning;
        self.write(&buf)?;
        self.out.flush()?;
        Ok(summary)
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        // a line printed is a line the user can act on while the rest runs
        if matches!(self.format, Format::Text | Format::Ndjson) {
            self.out.flush()?;
        }
        Ok(())
    }
}

/// `s` for counts other than one.
pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// At most `max` characters of `text`, with `...` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_ends_the_output_quietly() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
        }
        let mut out = Quiet::new(Closed);
        assert!(writeln!(out, "line").is_ok());
        assert!(out.flush().is_ok());
        assert!(out.closed);
    }
}
