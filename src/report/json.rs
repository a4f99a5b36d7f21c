//! The JSON report: one document with the run, the summary and every result.
//!
//! Field names are a public format (DESIGN.md): fields may be added, never renamed.
//!
//! The summary comes before the results in the document but is known only at the end, so
//! each result is written as it comes (in input order) to an unnamed temporary file, laid out
//! as it will stand in the document, and copied into it at the end: a sweep of 100,000
//! endpoints holds none of its results in memory. Where no temporary file can be made or
//! written (no writable `TMPDIR`, a full disk), they wait in memory instead: the run still ends
//! with its report. The
//! document is the one `serde_json::to_writer_pretty` gives for the whole.

use std::io::{self, Read, Seek, Write};

use serde::Serialize;

use super::{RunInfo, Summary};
use crate::policy::Failure;
use crate::probe::ProbeResult;

/// The indent of a result in the document: two levels (`results`, then the array).
const RESULT_INDENT: &[u8] = b"    ";

/// The run a document is about, and its results so far.
pub struct Json {
    info: RunInfo,
    /// the results so far, each laid out as in the document, separated by `,\n`
    results: Waiting,
    /// how many results were written to `results`
    count: usize,
}

/// Where the results wait for the end of the run.
enum Waiting {
    /// an unnamed temporary file, and how much of it holds results
    File { file: std::fs::File, len: u64 },
    /// memory, when no temporary file could be made or written
    Memory(Vec<u8>),
}

impl Waiting {
    /// A temporary file, else memory.
    fn new() -> Waiting {
        tempfile::tempfile().map_or_else(
            |_| Waiting::Memory(Vec::new()),
            |file| Waiting::File { file, len: 0 },
        )
    }

    /// Adds `bytes`. When the temporary file cannot take them (its disk is full), what it holds
    /// is taken back into memory and the results wait there: the run goes on to its report.
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Waiting::File { file, len } = self {
            if file.write_all(bytes).is_ok() {
                *len += bytes.len() as u64;
                return Ok(());
            }
            let mut kept = Vec::new();
            file.rewind()?;
            (&mut *file).take(*len).read_to_end(&mut kept)?;
            *self = Waiting::Memory(kept);
        }
        if let Waiting::Memory(held) = self {
            held.extend_from_slice(bytes);
        }
        Ok(())
    }

    /// Copies everything added to `out`.
    fn copy_to(&mut self, out: &mut impl Write) -> io::Result<()> {
        match self {
            Waiting::File { file, len } => {
                file.rewind()?;
                io::copy(&mut (&mut *file).take(*len), out).map(|_| ())
            }
            Waiting::Memory(bytes) => out.write_all(bytes),
        }
    }
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

/// The document of `results` about the run `info` describes, with `summary`.
fn document<'a>(
    info: &'a RunInfo,
    summary: &'a Summary,
    results: &'a [ProbeResult],
) -> Document<'a> {
    Document {
        pinprobe: info,
        summary: SummaryObject {
            counts: summary,
            passed: summary.passed(),
            failed_by: summary.failures(),
            fail_on: summary.fail_on.names(),
        },
        results,
    }
}

impl Json {
    /// A report about the run `info` describes.
    pub fn new(info: RunInfo) -> Json {
        Json::waiting_in(info, Waiting::new())
    }

    fn waiting_in(info: RunInfo, waiting: Waiting) -> Json {
        Json {
            info,
            results: waiting,
            count: 0,
        }
    }

    /// Adds the next result, in input order.
    pub fn result(&mut self, result: &ProbeResult) -> io::Result<()> {
        let text = serde_json::to_vec_pretty(result).map_err(io::Error::other)?;
        let mut laid_out = Vec::with_capacity(text.len() + text.len() / 8 + 8);
        if self.count > 0 {
            laid_out.extend_from_slice(b",\n");
        }
        laid_out.extend_from_slice(RESULT_INDENT);
        // a line break inside pretty JSON is always between tokens (strings escape theirs)
        for (i, line) in text.split(|b| *b == b'\n').enumerate() {
            if i > 0 {
                laid_out.push(b'\n');
                laid_out.extend_from_slice(RESULT_INDENT);
            }
            laid_out.extend_from_slice(line);
        }
        self.results.append(&laid_out)?;
        self.count += 1;
        Ok(())
    }

    /// Writes the document of the results added, with `summary`.
    pub fn finish(&mut self, out: &mut impl Write, summary: &Summary) -> io::Result<()> {
        let head = serde_json::to_vec_pretty(&document(&self.info, summary, &[]))
            .map_err(io::Error::other)?;
        // `results` is the last field: the document ends `[]\n}`, where the results go
        let open = head
            .strip_suffix(b"[]\n}")
            .ok_or_else(|| io::Error::other("the JSON document does not end with its results"))?;
        out.write_all(open)?;
        if self.count == 0 {
            out.write_all(b"[]")?;
        } else {
            out.write_all(b"[\n")?;
            self.results.copy_to(out)?;
            out.write_all(b"\n  ]")?;
        }
        writeln!(out, "\n}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::trust::{AnchorSet, Store};
    use crate::endpoint::Endpoint;

    #[test]
    fn the_document_is_the_one_the_whole_would_give() {
        let info = RunInfo {
            version: "0",
            profile: "test".into(),
            started: "now".into(),
            endpoints: 3,
            routes: "direct".into(),
            compare_direct: false,
            os_store: AnchorSet::from_certificates(Store::Os, &[], "test").os_report(),
            skipped: Vec::new(),
            endpoint_list: None,
            warnings: Vec::new(),
            advice: Default::default(),
        };
        let results: Vec<ProbeResult> = ["a.example", "b.example:8443/x?y", "[::1]"]
            .iter()
            .map(|u| {
                let mut r = ProbeResult::internal_error(&Endpoint::parse(u).unwrap(), "died");
                r.detail.push_str("\nwith \"a line\"\tbreak");
                r
            })
            .collect();
        // in a temporary file, in memory where none can be made, and in a file that refuses
        // every write (a full disk): taken back into memory
        let refusing = tempfile::NamedTempFile::new().unwrap();
        let waiting = || {
            [
                Waiting::File {
                    file: tempfile::tempfile().unwrap(),
                    len: 0,
                },
                Waiting::Memory(Vec::new()),
                Waiting::File {
                    file: std::fs::File::open(refusing.path()).unwrap(),
                    len: 0,
                },
            ]
        };
        for (count, waiting) in (0..=results.len()).flat_map(|n| waiting().map(|w| (n, w))) {
            let mut summary = Summary::default();
            let mut json = Json::waiting_in(info.clone(), waiting);
            for r in &results[..count] {
                summary.add(r);
                json.result(r).unwrap();
            }
            let mut got = Vec::new();
            json.finish(&mut got, &summary).unwrap();
            let whole = document(&info, &summary, &results[..count]);
            let mut expected = serde_json::to_vec_pretty(&whole).unwrap();
            expected.push(b'\n');
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(expected).unwrap(),
                "{count} results"
            );
        }
    }
}
