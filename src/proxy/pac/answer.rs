//! The answer of `FindProxyForURL`: a `;`-separated list of `DIRECT`, `PROXY host:port`,
//! `HTTPS host:port`, `SOCKS host:port` and `SOCKS5 host:port`, read as browsers read it
//! (keywords in any case, any white space, empty entries ignored), except that an entry that
//! cannot be read is an error rather than silently dropped: a user should see the broken PAC.

use serde::Serialize;

use crate::proxy::Proxy;

/// One entry of a PAC answer, tried in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum PacEntry {
    /// connect directly
    Direct,
    /// an HTTP proxy (`PROXY`, or `HTTP` as Chrome also reads it); port 80 when none is given
    Proxy {
        /// name or address, IPv6 without brackets
        host: String,
        /// port
        port: u16,
    },
    /// an HTTP proxy reached over TLS (`HTTPS`); port 443 when none is given
    Https {
        /// name or address
        host: String,
        /// port
        port: u16,
    },
    /// a SOCKS proxy: `SOCKS` and `SOCKS4` are version 4, `SOCKS5` version 5; port 1080 when
    /// none is given
    Socks {
        /// 4 or 5
        version: u8,
        /// name or address
        host: String,
        /// port
        port: u16,
    },
}

impl std::fmt::Display for PacEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let address = |host: &str, port: u16| {
            if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            }
        };
        match self {
            PacEntry::Direct => write!(f, "DIRECT"),
            PacEntry::Proxy { host, port } => write!(f, "PROXY {}", address(host, *port)),
            PacEntry::Https { host, port } => write!(f, "HTTPS {}", address(host, *port)),
            PacEntry::Socks {
                version: 4,
                host,
                port,
            } => write!(f, "SOCKS {}", address(host, *port)),
            PacEntry::Socks {
                version,
                host,
                port,
            } => write!(f, "SOCKS{version} {}", address(host, *port)),
        }
    }
}

impl PacEntry {
    /// The route pinprobe can take for this entry: `None` for DIRECT, the HTTP proxy for
    /// PROXY; HTTPS and SOCKS entries are refused with why, for the decision's skip list.
    pub fn proxy(&self) -> Result<Option<Proxy>, String> {
        match self {
            PacEntry::Direct => Ok(None),
            PacEntry::Proxy { host, port } => {
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                Proxy::parse(&format!("http://{host}:{port}")).map(Some)
            }
            PacEntry::Https { .. } => Err(
                "HTTPS proxies (TLS to the proxy) are not supported by pinprobe, nor used by the Defender agent"
                    .into(),
            ),
            PacEntry::Socks { .. } => Err(
                "SOCKS proxies are not supported by the Defender agent (it uses HTTP proxies), so pinprobe does not try them"
                    .into(),
            ),
        }
    }
}

/// Most entries of an answer shown in a route: a PAC file answers a handful, and a list that
/// no one could read in a report line is shown by its start and its size.
const SHOWN_ENTRIES: usize = 8;
/// Most characters of the entries shown, for the entries of a long list or one long name.
const SHOWN_CHARS: usize = 300;

/// The entries of a list, as a PAC file would write them: `PROXY a:3128; DIRECT`. A list of
/// more than 8 entries or 300 characters is cut to its first entries within both, followed by
/// its size: `PROXY a:1; PROXY a:2; ... (10000 entries, 138889 bytes)`, the bytes of the whole
/// list written this way.
pub fn describe_list(entries: &[PacEntry]) -> String {
    let written: Vec<String> = entries.iter().map(PacEntry::to_string).collect();
    let bytes =
        written.iter().map(String::len).sum::<usize>() + 2 * written.len().saturating_sub(1);
    if written.len() <= SHOWN_ENTRIES && bytes <= SHOWN_CHARS {
        return written.join("; ");
    }
    let mut shown = String::new();
    for entry in written.iter().take(SHOWN_ENTRIES) {
        if shown.len() + entry.len() + 2 > SHOWN_CHARS {
            if shown.is_empty() {
                // one entry longer than the whole budget: its start (entries are ASCII)
                shown.push_str(&entry[..SHOWN_CHARS.min(entry.len())]);
                shown.push_str("...; ");
            }
            break;
        }
        shown.push_str(entry);
        shown.push_str("; ");
    }
    format!("{shown}... ({} entries, {bytes} bytes)", written.len())
}

/// `text` (an answer, or a message quoting it) with the credentials of any `user:pass@host`
/// replaced by `***`, as [`crate::proxy::redact`] does for `--proxy`: a PAC answer is shown
/// in reports and CI logs, and a password must not reach them.
pub fn mask_credentials(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut rest = text;
    // a word is what lies between white space, quotes and the separators of a list
    while let Some(at) = rest.find('@') {
        // the word starts after its separator, which may be more than a byte long (U+3000)
        let start = rest[..at]
            .char_indices()
            .rev()
            .find(|&(_, c)| c.is_whitespace() || matches!(c, '"' | '\'' | ';' | ','))
            .map_or(0, |(i, c)| i + c.len_utf8());
        masked.push_str(&rest[..start]);
        masked.push_str("***@");
        rest = &rest[at + 1..];
    }
    masked.push_str(rest);
    masked
}

/// Reads a PAC answer; the error says which entry could not be read and why.
pub fn parse_answer(answer: &str) -> Result<Vec<PacEntry>, String> {
    let mut entries = Vec::new();
    for raw in answer.split(';') {
        let mut words = raw.split_whitespace();
        let Some(keyword) = words.next() else {
            continue;
        };
        let address = words.next();
        if let Some(extra) = words.next() {
            return Err(format!(
                "\"{}\" has more than a keyword and an address (\"{extra}\"); entries are separated by ';'",
                raw.trim()
            ));
        }
        let (kind, default_port) = match keyword.to_ascii_uppercase().as_str() {
            "DIRECT" => {
                if let Some(address) = address {
                    return Err(format!(
                        "\"{}\": DIRECT takes no address (\"{address}\")",
                        raw.trim()
                    ));
                }
                entries.push(PacEntry::Direct);
                continue;
            }
            "PROXY" | "HTTP" => ("PROXY", 80),
            "HTTPS" => ("HTTPS", 443),
            "SOCKS" | "SOCKS4" => ("SOCKS", 1080),
            "SOCKS5" => ("SOCKS5", 1080),
            _ => {
                return Err(format!(
                    "\"{keyword}\" is not DIRECT, PROXY, HTTPS, SOCKS or SOCKS5"
                ))
            }
        };
        let Some(address) = address else {
            return Err(format!(
                "\"{}\" has no proxy address: expected {kind} host:port",
                raw.trim()
            ));
        };
        if address.contains('@') {
            return Err(format!(
                "\"{}\" carries credentials: pinprobe does not send credentials from a PAC answer (give the proxy and its credentials with --proxy instead)",
                mask_credentials(raw.trim())
            ));
        }
        let (host, port) =
            host_port(address, default_port).map_err(|why| format!("\"{}\": {why}", raw.trim()))?;
        entries.push(match kind {
            "PROXY" => PacEntry::Proxy { host, port },
            "HTTPS" => PacEntry::Https { host, port },
            "SOCKS" => PacEntry::Socks {
                version: 4,
                host,
                port,
            },
            _ => PacEntry::Socks {
                version: 5,
                host,
                port,
            },
        });
    }
    if entries.is_empty() {
        return Err("no entry (browsers would go DIRECT; say so with \"DIRECT\")".into());
    }
    Ok(entries)
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`.
fn host_port(text: &str, default_port: u16) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("\"{text}\" opens a bracket it does not close"))?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("\"{v6}\" is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("\"{text}\": expected :port after the address"))?,
            ),
        };
        (v6.to_string(), port)
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host.to_string(), Some(port)),
            None => (text.to_string(), None),
        }
    };
    let valid_name = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'));
    if !valid_name {
        return Err(format!("\"{host}\" is not a host name or address"));
    }
    let port = match port {
        None => default_port,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("\"{p}\" is not a port number (1 to 65535)"))?,
    };
    Ok((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(host: &str, port: u16) -> PacEntry {
        PacEntry::Proxy {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn reads_lists_as_browsers_do() {
        let cases: Vec<(&str, Vec<PacEntry>)> = vec![
            ("DIRECT", vec![PacEntry::Direct]),
            (
                "  proxy Proxy.Corp.example:3128 ;;  direct ; ",
                vec![proxy("proxy.corp.example", 3128), PacEntry::Direct],
            ),
            ("HTTP a:8080", vec![proxy("a", 8080)]),
            ("PROXY a", vec![proxy("a", 80)]),
            ("PROXY [::1]:3128", vec![proxy("::1", 3128)]),
            (
                "HTTPS secure.example; SOCKS s:1081; SOCKS4 t; SOCKS5 [fd00::1]:9050",
                vec![
                    PacEntry::Https {
                        host: "secure.example".into(),
                        port: 443,
                    },
                    PacEntry::Socks {
                        version: 4,
                        host: "s".into(),
                        port: 1081,
                    },
                    PacEntry::Socks {
                        version: 4,
                        host: "t".into(),
                        port: 1080,
                    },
                    PacEntry::Socks {
                        version: 5,
                        host: "fd00::1".into(),
                        port: 9050,
                    },
                ],
            ),
        ];
        for (answer, want) in cases {
            assert_eq!(parse_answer(answer).unwrap(), want, "{answer}");
        }
    }

    #[test]
    fn garbage_names_the_entry() {
        for (answer, words) in [
            ("", "no entry"),
            (" ; ;", "no entry"),
            ("PROXY", "has no proxy address"),
            ("PROXY ;DIRECT", "has no proxy address"),
            ("FOO bar", "\"FOO\" is not DIRECT, PROXY"),
            ("PROXY a:b", "\"b\" is not a port number"),
            ("PROXY a:0", "\"0\" is not a port number"),
            ("PROXY a:70000", "\"70000\" is not a port number"),
            ("PROXY a:1 b:2", "more than a keyword"),
            ("DIRECT x", "DIRECT takes no address"),
            ("PROXY [::1:80", "does not close"),
            ("PROXY [zz]:80", "not an IPv6 address"),
            ("PROXY a/b:80", "not a host name"),
            ("PROXY a:", "\"\" is not a port number"),
        ] {
            let why = parse_answer(answer).unwrap_err();
            assert!(why.contains(words), "{answer:?}: {why}");
        }
    }

    #[test]
    fn a_long_answer_is_shown_by_its_first_entries_and_its_size() {
        let answer: Vec<String> = (0..10_000)
            .map(|i| format!("PROXY p{i}.test:3128"))
            .collect();
        let list = parse_answer(&answer.join("; ")).unwrap();
        let shown = describe_list(&list);
        let bytes = answer.join("; ").len();
        assert_eq!(
            shown,
            format!(
                "PROXY p0.test:3128; PROXY p1.test:3128; PROXY p2.test:3128; PROXY p3.test:3128; \
                 PROXY p4.test:3128; PROXY p5.test:3128; PROXY p6.test:3128; PROXY p7.test:3128; \
                 ... (10000 entries, {bytes} bytes)"
            )
        );
        let long = format!("PROXY {}.test:1; DIRECT", "a".repeat(5000));
        let shown = describe_list(&parse_answer(&long).unwrap());
        assert!(shown.len() < 400, "{shown}");
        assert!(
            shown.ends_with("...; ... (2 entries, 5021 bytes)"),
            "{shown}"
        );
        // an answer of a few short entries is shown whole
        let few = parse_answer("PROXY a:1; DIRECT").unwrap();
        assert_eq!(describe_list(&few), "PROXY a:1; DIRECT");
    }

    #[test]
    fn credentials_in_an_answer_are_refused_and_masked() {
        let why = parse_answer("PROXY user:secret@proxy.test:3128; DIRECT").unwrap_err();
        assert!(!why.contains("secret"), "{why}");
        assert!(why.contains("\"PROXY ***@proxy.test:3128\""), "{why}");
        assert_eq!(
            mask_credentials("\"PROXY u:p@a:1; PROXY b:2; HTTPS x@c\""),
            "\"PROXY ***@a:1; PROXY b:2; HTTPS ***@c\""
        );
        assert_eq!(mask_credentials("PROXY a:1"), "PROXY a:1");
        // a separator of several bytes (the ideographic space, U+3000) before the credentials
        assert_eq!(
            mask_credentials("PROXY\u{3000}u:p@a:1"),
            "PROXY\u{3000}***@a:1"
        );
        let why = parse_answer("PROXY\u{3000}\u{3000}\u{1a}@:0717\u{c8}").unwrap_err();
        assert!(why.contains("***@"), "{why}");
    }

    #[test]
    fn entries_print_as_pac_files_write_them_and_map_to_routes() {
        let list = parse_answer("proxy a:1; https b; socks5 [::1]:2; socks c:3; direct").unwrap();
        assert_eq!(
            describe_list(&list),
            "PROXY a:1; HTTPS b:443; SOCKS5 [::1]:2; SOCKS c:3; DIRECT"
        );
        assert_eq!(list[0].proxy().unwrap().unwrap().url(), "http://a:1");
        assert!(list[1].proxy().unwrap_err().contains("HTTPS proxies"));
        assert!(list[2].proxy().unwrap_err().contains("Defender agent"));
        assert!(list[4].proxy().unwrap().is_none());
        assert_eq!(
            proxy("::1", 8080).proxy().unwrap().unwrap().url(),
            "http://[::1]:8080"
        );
        assert_eq!(
            serde_json::to_value(&list[0]).unwrap(),
            serde_json::json!({"type": "proxy", "host": "a", "port": 1})
        );
    }
}
