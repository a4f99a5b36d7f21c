//! The JSON report: one document with the run, the summary and every result.
//!
//! Field names are a public format (DESIGN.md): fields may be added, never renamed.

use std::io::{self, Write};

use serde::Serialize;

use super::{RunInfo, Summary};
use crate::probe::ProbeResult;

/// The results collected so far.
pub struct Json {
    info: RunInfo,
    results: Vec<ProbeResult>,
}

#[derive(Serialize)]
struct Document<'a> {
    pinprobe: &'a RunInfo,
    summary: &'a Summary,
    results: &'a [ProbeResult],
}

impl Json {
    /// An empty report.
    pub fn new(info: RunInfo) -> Json {
        Json {
            info,
            results: Vec::new(),
        }
    }

    /// Keeps one result.
    pub fn result(&mut self, result: ProbeResult) {
        self.results.push(result);
    }

    /// Writes the document.
    pub fn finish(&mut self, out: &mut impl Write) -> io::Result<Summary> {
        let mut summary = Summary::default();
        for r in &self.results {
            summary.add(r);
        }
        let doc = Document {
            pinprobe: &self.info,
            summary: &summary,
            results: &self.results,
        };
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
        writeln!(out)?;
        Ok(summary)
    }
}
