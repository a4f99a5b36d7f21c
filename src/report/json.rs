//! The JSON report: one document with the run, the summary and every result.
//!
//! Field names are a public format (DESIGN.md): fields may be added, never renamed.

use std::io::{self, Write};

use serde::Serialize;

use super::{RunInfo, Summary};
use crate::policy::Failure;
use crate::probe::ProbeResult;

/// The run a document is about.
pub struct Json {
    info: RunInfo,
}

#[derive(Serialize)]
struct Document<'a> {
    pinprobe: &'a RunInfo,
    summary: SummaryObject<'a>,
    results: &'a [ProbeResult],
}

/// The counts, and what they mean for the run: whether it passed, the rules that failed it,
/// and the warning categories `--fail-on` named.
#[derive(Serialize)]
struct SummaryObject<'a> {
    #[serde(flatten)]
    counts: &'a Summary,
    passed: bool,
    failed_by: Vec<Failure>,
    fail_on: &'a [&'static str],
}

impl Json {
    /// A report about the run `info` describes.
    pub fn new(info: RunInfo) -> Json {
        Json { info }
    }

    /// Writes the document of `results`, in input order, with `summary`.
    pub fn finish(
        &mut self,
        out: &mut impl Write,
        summary: &Summary,
        results: &[ProbeResult],
    ) -> io::Result<()> {
        let doc = Document {
            pinprobe: &self.info,
            summary: SummaryObject {
                counts: summary,
                passed: summary.passed(),
                failed_by: summary.failures(),
                fail_on: summary.fail_on.names(),
            },
            results,
        };
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
        writeln!(out)
    }
}
