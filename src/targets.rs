//! Endpoint lists at scale: `--targets FILE` (one URL or `host[:port]` per line) and
//! `--shard K/N`, a deterministic slice of the list for one of N machines.
//!
//! A malformed line is reported with its line number and skipped; the others still run.

use std::io::BufRead;

use crate::endpoint::Endpoint;

/// A line of a targets file that is not an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number
    pub line: usize,
    /// what is wrong and which form is expected
    pub message: String,
}

/// Reads a targets list: one URL or `host[:port]` per line, `#` starts a comment, blank lines
/// are skipped. Returns the endpoints and the lines that are not endpoints.
pub fn read(reader: impl BufRead) -> std::io::Result<(Vec<Endpoint>, Vec<BadLine>)> {
    let mut endpoints = Vec::new();
    let mut bad = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        let text = match line.find('#') {
            Some(hash) => &line[..hash],
            None => &line,
        }
        .trim();
        if text.is_empty() {
            continue;
        }
        match Endpoint::parse(text) {
            Ok(endpoint) => endpoints.push(endpoint),
            Err(message) => bad.push(BadLine {
                line: index + 1,
                message,
            }),
        }
    }
    Ok((endpoints, bad))
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
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("\"{k}\" is not a number: {expected}"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("\"{n}\" is not a number: {expected}"))?;
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
    }
}
