//! Endpoint lists at scale: `--targets FILE` (one URL or `host[:port]` per line) and
//! `--shard K/N`, a deterministic slice of the list for one of N machines.
//!
//! A malformed line is reported with its line number and skipped; the others still run. The
//! list is read as a stream, one line at a time, so a line is bounded ([`TARGETS_LINE`]) but
//! the list is not: a longer line, or one that is not UTF-8, is a malformed line.
//!
//! A list may hold hundreds of thousands of endpoints: [`Listed`] keeps each as the text of
//! its line (tens of bytes, where an [`Endpoint`] takes several hundred) and makes the
//! endpoint again when it is probed, so that the list costs a few MiB whatever the run does.

use std::io::{BufRead, Read};

use crate::endpoint::Endpoint;
use crate::input::{size_text, TARGETS_LINE};

/// How far past [`TARGETS_LINE`] a line is read looking for its end before the input is taken
/// for something other than a list of endpoints (`/dev/zero`, a binary file).
pub const RUNAWAY_LINE: u64 = 1024 * 1024;

/// How much of a line that is too long is shown.
const SHOWN_START: usize = 40;

/// Why a targets list could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// the OS failed to read
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// a line ran on past [`RUNAWAY_LINE`] with no line break
    #[error("line {0} runs on past {size} without a line break: not a list of endpoints", size = size_text(RUNAWAY_LINE))]
    Runaway(usize),
}

/// A line of a targets file that is not an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number
    pub line: usize,
    /// what is wrong and which form is expected
    pub message: String,
}

/// A line of a `--targets` file that was not probed: the file, the line and why. Shown (and
/// serialised in JSON) as `FILE:LINE: why (line skipped)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// the file, as the user named it (`standard input` for `-`)
    pub file: String,
    /// 1-based line number
    pub line: usize,
    /// what is wrong and which form is expected
    pub why: String,
}

impl Skipped {
    /// `FILE:LINE`, where the line is.
    pub fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} (line skipped)", self.place(), self.why)
    }
}

impl serde::Serialize for Skipped {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads a targets list: one URL or `host[:port]` per line, `#` starts a comment, blank lines
/// are skipped. Returns the endpoints and the lines that are not endpoints (among them a line
/// longer than [`TARGETS_LINE`] bytes and one that is not UTF-8).
pub fn read(reader: impl BufRead) -> Result<(Vec<Endpoint>, Vec<BadLine>), ReadError> {
    let mut endpoints = Vec::new();
    let bad = read_each(reader, |_, endpoint| endpoints.push(endpoint))?;
    Ok((endpoints, bad))
}

/// As [`read`], handing each endpoint to `each` with the text it was parsed from, as it is
/// read, so that the caller keeps only what it needs of it; returns the lines that are not
/// endpoints.
pub fn read_each(
    mut reader: impl BufRead,
    mut each: impl FnMut(&str, Endpoint),
) -> Result<Vec<BadLine>, ReadError> {
    let mut bad = Vec::new();
    let mut bytes = Vec::new();
    for number in 1.. {
        bytes.clear();
        // a full line and its CR LF: one byte more tells a full line from a longer one
        let read = (&mut reader)
            .take(TARGETS_LINE as u64 + 2)
            .read_until(b'\n', &mut bytes)?;
        if read == 0 {
            break;
        }
        let ended = bytes.last() == Some(&b'\n');
        let content = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.len() > TARGETS_LINE {
            if !ended && !skip_line(&mut reader)? {
                return Err(ReadError::Runaway(number));
            }
            bad.push(BadLine {
                line: number,
                message: format!(
                    "longer than the {} a line may be (it starts {:?}...)",
                    size_text(TARGETS_LINE as u64),
                    start(&bytes)
                ),
            });
            continue;
        }
        // a byte order mark, as editors on Windows save UTF-8, is not part of the first line
        let content = match content.strip_prefix(b"\xef\xbb\xbf") {
            Some(rest) if number == 1 => rest,
            _ => content,
        };
        let Ok(line) = std::str::from_utf8(content) else {
            bad.push(BadLine {
                line: number,
                message: format!(
                    "not UTF-8 text ({:?}): save the list as UTF-8",
                    start(content)
                ),
            });
            continue;
        };
        let text = match line.find('#') {
            Some(hash) => &line[..hash],
            None => line,
        }
        .trim();
        if text.is_empty() {
            continue;
        }
        match Endpoint::parse(text) {
            Ok(endpoint) => each(text, endpoint),
            Err(message) => bad.push(BadLine {
                line: number,
                message,
            }),
        }
    }
    Ok(bad)
}

/// The endpoints of a targets list, in order, each kept as the text it was parsed from (one
/// string for the whole list) and parsed again when it is taken: [`Endpoint::parse`] is a
/// pure function of the text, so the endpoint taken is the one that was read. All of them
/// carry the same pin set (`--pinset`).
#[derive(Clone, Debug, Default)]
pub struct Listed {
    /// the texts, one after another
    text: String,
    /// where each text ends in `text`
    ends: Vec<usize>,
    /// the pin set every endpoint of the list is given
    pinset: Option<String>,
}

impl Listed {
    /// Adds the endpoint parsed from `text`.
    pub fn push(&mut self, text: &str) {
        self.text.push_str(text);
        self.ends.push(self.text.len());
    }

    /// Gives every endpoint of the list the pin set `pinset`.
    pub fn set_pinset(&mut self, pinset: Option<String>) {
        self.pinset = pinset;
    }

    /// The pin set every endpoint of the list carries.
    pub fn pinset(&self) -> Option<&str> {
        self.pinset.as_deref()
    }

    /// How many endpoints the list holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the list holds no endpoint.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The endpoints, in order, each made when it is taken.
    pub fn iter(&self) -> impl Iterator<Item = Endpoint> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).filter_map(|(start, end)| {
            // parsed once already when the list was read: the same text parses the same way
            let mut endpoint = Endpoint::parse(self.text.get(start..*end)?).ok()?;
            endpoint.pinset.clone_from(&self.pinset);
            Some(endpoint)
        })
    }

    /// Frees what the list reserved beyond its endpoints.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// Reads on to the end of the current line, at most [`RUNAWAY_LINE`] bytes; false when no line
/// break came within them.
fn skip_line(reader: &mut impl BufRead) -> std::io::Result<bool> {
    let mut skipped = 0u64;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(true);
        }
        let (used, found) = match buffer.iter().position(|b| *b == b'\n') {
            Some(end) => (end + 1, true),
            None => (buffer.len(), false),
        };
        reader.consume(used);
        if found {
            return Ok(true);
        }
        skipped += used as u64;
        if skipped > RUNAWAY_LINE {
            return Ok(false);
        }
    }
}

/// The first characters of a line, for a message: bytes that are not UTF-8 are replaced.
fn start(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN_START)]).into_owned()
}

/// One slice of N: `K/N` with 1 <= K <= N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// which slice, from 1
    pub index: u32,
    /// how many slices
    pub count: u32,
}

impl Shard {
    /// Parses `K/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let expected = "expected K/N with 1 <= K <= N, e.g. --shard 2/8";
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("\"{text}\" is not a shard: {expected}"))?;
        let number = |text: &str| -> Result<u32, String> {
            text.trim()
                .parse()
                .map_err(|e: std::num::ParseIntError| match e.kind() {
                    std::num::IntErrorKind::PosOverflow => {
                        format!("\"{text}\" is larger than {}: {expected}", u32::MAX)
                    }
                    _ => format!("\"{text}\" is not a number: {expected}"),
                })
        };
        let index = number(k)?;
        let count = number(n)?;
        if index == 0 || count == 0 || index > count {
            return Err(format!("\"{text}\" is out of range: {expected}"));
        }
        Ok(Shard { index, count })
    }

    /// True when the endpoint belongs to this slice. The slice depends only on the endpoint's
    /// URL (FNV-1a, stable across machines and versions), so every machine agrees on it
    /// whatever the order or the other entries of its list.
    pub fn holds(&self, endpoint: &Endpoint) -> bool {
        fnv1a(endpoint.url.as_bytes()) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_urls_hosts_comments_and_reports_bad_lines() {
        let text = "# estate\nhttps://a.example/ping\n\nb.example:8443  # internal\nftp://c.example\nhttps://\nd.example\n";
        let (endpoints, bad) = read(text.as_bytes()).unwrap();
        let urls: Vec<&str> = endpoints.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://a.example/ping",
                "https://b.example:8443/",
                "https://d.example/"
            ]
        );
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [5, 6]);
        assert!(bad[0].message.contains("ftp"), "{}", bad[0].message);
    }

    #[test]
    fn urls_run_together_on_one_line_are_refused_not_merged_into_one() {
        // old Mac line ends (CR alone), a tab or a space between two URLs: each URL parser
        // would take the line as one endpoint and the other would be lost without a word
        let text = "\u{feff}https://a.example/\nhttps://b.example/\rhttps://c.example/\r\nhttps://d.example/\thttps://e.example/\nhttps://f.example/ https://g.example/\nh.example\n";
        let (endpoints, bad) = read(text.as_bytes()).unwrap();
        let urls: Vec<&str> = endpoints.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(urls, ["https://a.example/", "https://h.example/"]);
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [2, 3, 4]);
        for (b, what) in bad.iter().zip(["a carriage return", "a tab", "a space"]) {
            assert!(b.message.contains(what), "{}", b.message);
            assert!(b.message.contains("one per line"), "{}", b.message);
        }
    }

    #[test]
    fn a_long_line_or_one_not_utf8_is_skipped_and_the_next_read() {
        let mut text = b"a.example\n".to_vec();
        text.extend(vec![b'x'; 100_000]);
        text.extend(b"\nb.example\nc.exa\xffmple\n");
        text.extend(vec![b'y'; TARGETS_LINE]);
        text.extend(b"\r\n");
        text.extend(vec![b'z'; TARGETS_LINE + 1]);
        text.extend(b"\n");
        let (endpoints, bad) = read(&text[..]).unwrap();
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [2, 4, 5, 6]);
        assert_eq!(
            bad[0].message,
            format!(
                "longer than the 8 KiB a line may be (it starts {:?}...)",
                "x".repeat(40)
            )
        );
        assert!(
            bad[1]
                .message
                .starts_with("not UTF-8 text (\"c.exa\u{fffd}mple\")"),
            "{}",
            bad[1].message
        );
        // a line of exactly the limit is read (and is no endpoint here)
        assert!(!bad[2].message.starts_with("longer"), "{}", bad[2].message);
        assert!(bad[3].message.starts_with("longer"), "{}", bad[3].message);
        let urls: Vec<&str> = endpoints.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(urls, ["https://a.example/", "https://b.example/"]);
    }

    #[test]
    fn a_listed_endpoint_is_the_one_read() {
        let text = "https://a.example/ping?n=1\n# c\nb.example:8443\n[::1]:4433 # six\nftp://x\nHTTPS://C.example/x\n";
        let (endpoints, _) = read(text.as_bytes()).unwrap();
        let mut listed = Listed::default();
        read_each(text.as_bytes(), |line, _| listed.push(line)).unwrap();
        listed.set_pinset(Some("set".into()));
        assert_eq!(listed.len(), 4);
        let taken: Vec<Endpoint> = listed.iter().collect();
        assert_eq!(taken.len(), endpoints.len());
        for (taken, read) in taken.iter().zip(&endpoints) {
            assert_eq!(
                (&taken.url, &taken.host, taken.port, &taken.path),
                (&read.url, &read.host, read.port, &read.path)
            );
            assert_eq!(taken.server_name, read.server_name);
            assert_eq!(taken.pinset.as_deref(), Some("set"));
        }
    }

    #[test]
    fn a_line_without_end_stops_the_read() {
        let e = read(std::io::BufReader::new(std::io::repeat(0))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1 runs on past 1 MiB without a line break: not a list of endpoints"
        );
    }

    #[test]
    fn shards_are_disjoint_and_complete() {
        let text: String = (0..1000).map(|i| format!("host{i}.example\n")).collect();
        let (endpoints, _) = read(text.as_bytes()).unwrap();
        let shards: Vec<Shard> = (1..=7)
            .map(|k| Shard::parse(&format!("{k}/7")).unwrap())
            .collect();
        let mut sizes = Vec::new();
        for e in &endpoints {
            let owners = shards.iter().filter(|s| s.holds(e)).count();
            assert_eq!(owners, 1, "{}", e.url);
        }
        for s in &shards {
            sizes.push(endpoints.iter().filter(|e| s.holds(e)).count());
        }
        // roughly even: no slice under half or over twice its share
        assert!(
            sizes.iter().all(|n| *n > 1000 / 14 && *n < 2000 / 7),
            "{sizes:?}"
        );
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(Shard::parse("2/8").unwrap(), Shard { index: 2, count: 8 });
        for bad in ["0/8", "9/8", "2", "a/b", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let too_large = Shard::parse("1/99999999999").unwrap_err();
        assert!(too_large.contains("is larger than"), "{too_large}");
    }
}
