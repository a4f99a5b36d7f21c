//! Reports: the text report in the Defender guide's shape, the JSON document, NDJSON, JUnit
//! and the one-line summary fleet inventories store.
//!
//! All output of a run goes through here. A run writes one report or several (`--format` to
//! standard output or `-o`, and the files of `--json`, `--ndjson` and `--junit`), each a
//! [`Sink`] of one [`Report`], which hands every result to each: NDJSON lines as the probes
//! finish, the others in input order (the text report prints each line at once, the documents
//! are written at the end). Every report ends with the same [`Summary`], whose `passed` is the
//! exit status. A closed pipe (`pinprobe | head`) ends the output quietly.

pub mod fleet;
pub mod inspect;
pub mod json;
pub mod junit;
pub mod prometheus;
mod shown;
pub mod text;

pub use shown::{is_escaped, Shown};

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::chain::trust::OsStoreReport;
use crate::error::Error;
use crate::policy::{FailOn, Failure, Rule};
use crate::probe::{Order, ProbeResult};
use crate::targets::Skipped;
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
    /// one line for fleet inventories (a Jamf extension attribute, an Intune custom attribute)
    Summary,
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
    /// lines of --targets that were not endpoints (`FILE:LINE: why (line skipped)`)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
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

/// Counts by verdict, in the order of the verdict table, and what fails the run: one summary
/// per run, which every report and the exit status read.
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
    /// endpoints whose verdict is `ok` and that carry a warning
    #[serde(skip)]
    pub ok_warned: usize,
    /// endpoints with a warning that fails the run (`--fail-on`)
    #[serde(skip)]
    pub warned_failing: usize,
    /// per warning code that fails the run, the endpoints that carry it
    #[serde(skip)]
    pub failing_warnings: BTreeMap<&'static str, usize>,
    /// the interception products named by the results of each verdict
    #[serde(skip)]
    pub vendors: BTreeMap<Verdict, BTreeSet<String>>,
    /// the warnings that fail the run (`--fail-on`)
    #[serde(skip)]
    pub fail_on: FailOn,
}

impl Summary {
    /// No result yet, under `fail_on`, with `skipped` lines of --targets.
    pub fn new(fail_on: FailOn, skipped: usize) -> Summary {
        Summary {
            fail_on,
            skipped,
            ..Summary::default()
        }
    }

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
            if result.verdict == Verdict::Ok {
                self.ok_warned += 1;
            }
        }
        let failing = self.fail_on.failing(&result.warnings);
        if !failing.is_empty() {
            self.warned_failing += 1;
        }
        for code in failing {
            *self.failing_warnings.entry(code).or_default() += 1;
        }
        *self.verdicts.entry(result.verdict).or_default() += 1;
        // the product is named only where the verdict is the interception it made
        if let Some(vendor) = result
            .interception
            .vendor
            .as_ref()
            .filter(|_| result.verdict == Verdict::SslInterception)
        {
            self.vendors
                .entry(result.verdict)
                .or_default()
                .insert(vendor.clone());
        }
    }

    /// True when the run passes: every verdict ok, every target line read, and no warning
    /// that `--fail-on` names.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }

    /// The rules that failed the run, in the order verdicts, skipped lines, `--fail-on`;
    /// empty when it passed.
    pub fn failures(&self) -> Vec<Failure> {
        let mut failures = Vec::new();
        if self.failed > 0 {
            let counts: Vec<String> = self
                .verdicts
                .iter()
                .filter(|(v, _)| **v != Verdict::Ok)
                .map(|(v, n)| format!("{v} on {n}"))
                .collect();
            failures.push(Failure {
                rule: Rule::Verdict,
                count: self.failed,
                detail: counts.join(", "),
            });
        }
        if self.skipped > 0 {
            failures.push(Failure {
                rule: Rule::SkippedLine,
                count: self.skipped,
                detail: format!(
                    "{} line{} of --targets skipped",
                    self.skipped,
                    plural(self.skipped)
                ),
            });
        }
        if self.warned_failing > 0 {
            failures.push(Failure {
                rule: Rule::FailOn,
                count: self.warned_failing,
                detail: format!("{}: {}", self.fail_on.flag(), self.failing_warnings()),
            });
        }
        failures
    }

    /// The warnings that fail the run, with the endpoints that carry each: `pin-drift on 1`.
    pub fn failing_warnings(&self) -> String {
        let counts: Vec<String> = self
            .failing_warnings
            .iter()
            .map(|(code, n)| format!("{code} on {n}"))
            .collect();
        counts.join(", ")
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

/// Where a report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// standard output
    Stdout,
    /// a file, which appears at its path whole once the run is done (see `crate::output`)
    File(PathBuf),
}

/// One report of a run being written: its format, and the writer of its target.
pub struct Sink<'w> {
    format: Format,
    /// where it goes, for messages: `standard output` or the file's path
    target: String,
    out: Quiet<Box<dyn Write + 'w>>,
}

impl<'w> Sink<'w> {
    /// A report in `format` written to `out`; `target` names it in errors.
    pub fn new(format: Format, target: impl Into<String>, out: impl Write + 'w) -> Sink<'w> {
        Sink {
            format,
            target: target.into(),
            out: Quiet::new(Box::new(out)),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let result = self.out.write_all(bytes).and_then(|()| {
            // a line printed is a line the user can act on while the rest runs
            if matches!(self.format, Format::Text | Format::Ndjson) {
                self.out.flush()
            } else {
                Ok(())
            }
        });
        result.map_err(|source| Error::Write {
            target: self.target.clone(),
            source,
        })
    }
}

/// What each format keeps between results.
enum State {
    Text(Box<text::Text>),
    Json(Box<json::Json>),
    Ndjson,
    Junit(Box<junit::Junit>),
    Summary,
    Prometheus(Box<prometheus::Prometheus>),
}

/// The reports of a run: each result goes to every sink, NDJSON as it comes, the others in
/// input order; all of them end with the same [`Summary`].
pub struct Report<'w> {
    sinks: Vec<(Sink<'w>, State)>,
    summary: Summary,
    /// results that finished before one ahead of them, for the sinks that keep input order
    pending: BTreeMap<usize, ProbeResult>,
    /// the index of the next result in input order
    next: usize,
    /// where the one-line summary goes when no report on standard output has one, and the
    /// files the reports went to
    status: Option<(Box<dyn Write + 'w>, Vec<String>)>,
}

impl<'w> Report<'w> {
    /// Starts the reports; the text header is written at once.
    pub fn new(sinks: Vec<Sink<'w>>, verbose: bool, info: RunInfo) -> Result<Report<'w>, Error> {
        let mut opened = Vec::new();
        for mut sink in sinks {
            let state = match sink.format {
                Format::Text => {
                    let mut text = text::Text::new(verbose);
                    let mut buf = Vec::new();
                    text.header(&mut buf, &info)
                        .map_err(|source| Error::Write {
                            target: sink.target.clone(),
                            source,
                        })?;
                    sink.write(&buf)?;
                    State::Text(Box::new(text))
                }
                Format::Json => State::Json(Box::new(json::Json::new(info.clone()))),
                Format::Ndjson => State::Ndjson,
                Format::Junit => State::Junit(Box::new(junit::Junit::new(info.clone()))),
                Format::Summary => State::Summary,
                Format::Prometheus => State::Prometheus(Box::new(prometheus::Prometheus::new())),
            };
            opened.push((sink, state));
        }
        Ok(Report {
            sinks: opened,
            summary: Summary::new(FailOn::default(), info.skipped.len()),
            pending: BTreeMap::new(),
            next: 0,
            status: None,
        })
    }

    /// The warnings that fail the run (`--fail-on`), before the first result: the summaries
    /// say so, and JUnit reports them as failures.
    pub fn fail_on(&mut self, fail_on: FailOn) {
        self.summary.fail_on = fail_on;
    }

    /// The format of the pins a drifted chain needs (`--pin-format`).
    pub fn pin_format(&mut self, format: crate::pin_formats::PinFormat) {
        for (_, state) in &mut self.sinks {
            if let State::Text(text) = state {
                text.pin_format(format);
            }
        }
    }

    /// The expired anchors of each pin set, for the Prometheus format (see
    /// [`prometheus::pinned_expired_counts`]).
    pub fn pinned_expired(&mut self, counts: BTreeMap<String, usize>) {
        for (_, state) in &mut self.sinks {
            if let State::Prometheus(prometheus) = state {
                prometheus.pinned_expired(counts.clone());
            }
        }
    }

    /// Ends the run with the one-line summary written to `out` (standard error when no
    /// report on standard output says how the run went), naming the `files` written.
    pub fn status_to(&mut self, out: impl Write + 'w, files: Vec<String>) {
        self.status = Some((Box::new(out), files));
    }

    /// The order the results must come in: as they finish when an NDJSON report is written
    /// (the others are put back in input order here, within the scheduler's window), else
    /// input order; as they finish, too, when no report needs an order.
    pub fn order(&self) -> Order {
        let ndjson = self
            .sinks
            .iter()
            .any(|(_, state)| matches!(state, State::Ndjson));
        match (self.keeps_input_order(), ndjson) {
            (false, _) => Order::Completion,
            (true, false) => Order::Input,
            (true, true) => Order::CompletionAndInput,
        }
    }

    /// True when a report takes the results in input order (text, JSON, JUnit, Prometheus).
    fn keeps_input_order(&self) -> bool {
        self.sinks.iter().any(|(_, state)| {
            matches!(
                state,
                State::Text(_) | State::Json(_) | State::Junit(_) | State::Prometheus(_)
            )
        })
    }

    /// Adds the result of the job at `index` (results may come in any order).
    pub fn result(&mut self, index: usize, result: ProbeResult) -> Result<(), Error> {
        self.summary.add(&result);
        for (sink, state) in &mut self.sinks {
            if matches!(state, State::Ndjson) {
                // written at once and dropped: memory stays flat whatever the count
                let mut line = serde_json::to_vec(&result).map_err(|e| Error::Write {
                    target: sink.target.clone(),
                    source: io::Error::other(e),
                })?;
                line.push(b'\n');
                sink.write(&line)?;
            }
        }
        if !self.keeps_input_order() {
            return Ok(());
        }
        self.pending.insert(index, result);
        while let Some(result) = self.pending.remove(&self.next) {
            self.next += 1;
            self.in_order(result)?;
        }
        Ok(())
    }

    /// Hands one result, in input order, to the sinks that keep that order.
    fn in_order(&mut self, result: ProbeResult) -> Result<(), Error> {
        for (sink, state) in &mut self.sinks {
            match state {
                State::Text(text) => {
                    let mut buf = Vec::new();
                    text.result(&mut buf, &result)
                        .map_err(|source| Error::Write {
                            target: sink.target.clone(),
                            source,
                        })?;
                    sink.write(&buf)?;
                }
                State::Json(json) => json.result(&result).map_err(|source| Error::Write {
                    target: sink.target.clone(),
                    source,
                })?,
                State::Junit(junit) => junit.result(&result, &self.summary.fail_on),
                State::Prometheus(prometheus) => prometheus.result(&result),
                State::Ndjson | State::Summary => {}
            }
        }
        Ok(())
    }

    /// Ends every report (the summaries, the advice, the documents) and returns the counts.
    pub fn finish(mut self) -> Result<Summary, Error> {
        // a result that never came would hold back those after it: none is left unwritten
        for result in std::mem::take(&mut self.pending).into_values() {
            self.in_order(result)?;
        }
        for (sink, state) in &mut self.sinks {
            let mut buf = Vec::new();
            let written = match state {
                State::Text(text) => text.finish(&mut buf, &self.summary),
                // the document goes straight to its target: its results are not held here
                State::Json(json) => {
                    let mut out = io::BufWriter::new(&mut sink.out);
                    json.finish(&mut out, &self.summary)
                        .and_then(|()| out.flush())
                }
                State::Ndjson => Ok(()),
                State::Junit(junit) => junit.finish(&mut buf, &self.summary),
                State::Summary => writeln!(buf, "{}", fleet::line(&self.summary)),
                State::Prometheus(prometheus) => prometheus.finish(&mut buf).map(|_| ()),
            };
            written.map_err(|source| Error::Write {
                target: sink.target.clone(),
                source,
            })?;
            sink.write(&buf)?;
            sink.out.flush().map_err(|source| Error::Write {
                target: sink.target.clone(),
                source,
            })?;
        }
        if let Some((mut out, files)) = self.status.take() {
            // a note beside the reports: a failure to print it fails nothing
            let _ = writeln!(out, "{}", fleet::status(&self.summary, &files));
        }
        Ok(self.summary)
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
