//! WPAD over DNS: finding the PAC file as browsers and the Defender agent do, at
//! `http://wpad.<domain>/wpad.dat` for the machine's search domain and its parents.
//!
//! The walk up the domain stops at the registrable domain (the public suffix list decides
//! where that is): `wpad.com` or `wpad.co.uk` would belong to whoever registered it, and
//! clients that went that far handed their traffic to strangers (the classic WPAD hijack).
//! Each candidate's lookup and fetch is bounded by [`Limits::fetch_time`]. DHCP discovery
//! (option 252) is not done: asking for it needs a privileged DHCP client.

use super::pac::{load, Limits, Pac, PacSource};
use crate::net::resolve::Resolver;

/// Where the machine's search domains are written on Linux and macOS.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// The WPAD URLs for a search domain, most specific first: `http://wpad.<d>/wpad.dat` for the
/// domain and each parent down to and including its registrable domain. Empty for a domain
/// that is itself a public suffix (or not a domain name at all).
pub fn candidates(search_domain: &str) -> Vec<String> {
    let domain = search_domain
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if !valid {
        return Vec::new();
    }
    let Some(registrable) = psl::domain_str(&domain).map(str::to_string) else {
        return Vec::new();
    };
    let mut urls = Vec::new();
    let mut current = domain.as_str();
    loop {
        urls.push(format!("http://wpad.{current}/wpad.dat"));
        if current == registrable {
            break;
        }
        match current.split_once('.') {
            Some((_, parent)) if parent.len() >= registrable.len() => current = parent,
            _ => break,
        }
    }
    urls
}

/// The search domains of a resolv.conf text: the last `search` or `domain` line wins, as the
/// resolver reads them (resolv.conf(5)); lowercase, without the root `.`, without repeats.
pub fn parse_resolv_conf(text: &str) -> Vec<String> {
    let mut domains = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let mut words = line.split_whitespace();
        if matches!(words.next(), Some("search" | "domain")) {
            domains.clear();
            for word in words {
                // a comment may follow on the same line
                if word.starts_with('#') || word.starts_with(';') {
                    break;
                }
                let domain = word.trim_end_matches('.').to_ascii_lowercase();
                if !domain.is_empty() && !domains.contains(&domain) {
                    domains.push(domain);
                }
            }
        }
    }
    domains
}

/// The machine's search domains, from [`RESOLV_CONF`]; empty when it cannot be read.
pub fn search_domains() -> Vec<String> {
    std::fs::read_to_string(RESOLV_CONF)
        .map(|text| parse_resolv_conf(&text))
        .unwrap_or_default()
}

/// What WPAD discovery tried and found.
#[derive(Clone, Debug)]
pub struct WpadOutcome {
    /// the search domains it started from
    pub domains: Vec<String>,
    /// search domains that give no candidate, with why (a public suffix, not a name)
    pub skipped: Vec<(String, String)>,
    /// each candidate URL tried, in order, with what happened
    pub tried: Vec<(String, String)>,
    /// the first candidate that served a usable PAC file
    pub found: Option<(String, Pac)>,
}

impl WpadOutcome {
    /// One line per attempt, for a report: `http://wpad.a.example/wpad.dat: ...`.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.domains.is_empty() {
            lines.push(format!(
                "no search domain (no search or domain line in {RESOLV_CONF})"
            ));
        }
        lines.extend(self.skipped.iter().map(|(d, why)| format!("{d}: {why}")));
        lines.extend(
            self.tried
                .iter()
                .map(|(url, what)| format!("{url}: {what}")),
        );
        lines
    }
}

/// Tries the candidates of each search domain in order (each URL once), and stops at the first
/// that serves a PAC file that loads and defines `FindProxyForURL`. Names are resolved through
/// `resolver`; each candidate's lookup and fetch is bounded by `limits.fetch_time`.
pub async fn discover(domains: &[String], resolver: &Resolver, limits: Limits) -> WpadOutcome {
    let mut outcome = WpadOutcome {
        domains: domains.to_vec(),
        skipped: Vec::new(),
        tried: Vec::new(),
        found: None,
    };
    for domain in domains {
        let urls = candidates(domain);
        if urls.is_empty() {
            let why = if psl::domain_str(domain.trim_end_matches('.')).is_none()
                && psl::suffix_str(domain.trim_end_matches('.')).is_some()
            {
                "a public suffix: wpad there would belong to anyone who registers it, so it is never asked"
            } else {
                "not a domain name"
            };
            outcome.skipped.push((domain.clone(), why.into()));
            continue;
        }
        for url in urls {
            if outcome.tried.iter().any(|(tried, _)| *tried == url) {
                continue;
            }
            match load(&PacSource::Url(url.clone()), resolver, limits).await {
                Ok(pac) => {
                    outcome.tried.push((
                        url.clone(),
                        format!("found a PAC file ({} bytes)", pac.size()),
                    ));
                    outcome.found = Some((url, pac));
                    return outcome;
                }
                Err(e) => outcome.tried.push((url, e.kind.to_string())),
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::lab::{HttpServer, Reply};
    use crate::proxy::pac::PacEntry;

    #[test]
    fn candidates_stop_at_the_registrable_domain() {
        assert_eq!(
            candidates("a.b.corp.example.com"),
            [
                "http://wpad.a.b.corp.example.com/wpad.dat",
                "http://wpad.b.corp.example.com/wpad.dat",
                "http://wpad.corp.example.com/wpad.dat",
                "http://wpad.example.com/wpad.dat",
            ]
        );
        assert_eq!(
            candidates("Corp.Example.co.uk."),
            [
                "http://wpad.corp.example.co.uk/wpad.dat",
                "http://wpad.example.co.uk/wpad.dat",
            ]
        );
        // a name under a suffix that is not on the list: the last label is the suffix
        assert_eq!(
            candidates("lab.corp.example"),
            [
                "http://wpad.lab.corp.example/wpad.dat",
                "http://wpad.corp.example/wpad.dat",
            ]
        );
        // private suffixes count too: wpad.github.io is nobody's to serve
        assert_eq!(
            candidates("team.github.io"),
            ["http://wpad.team.github.io/wpad.dat"]
        );
        for suffix in [
            "com",
            "co.uk",
            "github.io",
            "example",
            "",
            ".",
            "bad name",
            "a..b",
        ] {
            assert!(candidates(suffix).is_empty(), "{suffix}");
        }
        for domain in ["a.b.corp.example.com", "corp.example.co.uk", "x.y.z.ac.jp"] {
            for url in candidates(domain) {
                for never in ["wpad.com/", "wpad.co.uk/", "wpad.ac.jp/", "wpad.jp/"] {
                    assert!(!url.contains(&format!("//{never}")), "{url}");
                }
            }
        }
    }

    #[test]
    fn search_domains_from_resolv_conf() {
        let samples = [
            (
                "# Generated by NetworkManager\nsearch corp.example lab.corp.example\nnameserver 10.0.0.53\n",
                vec!["corp.example", "lab.corp.example"],
            ),
            // systemd-resolved's stub file
            (
                "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n",
                vec![],
            ),
            // the last of search and domain wins
            (
                "domain old.example\nsearch Corp.Example. ; trailing comment\n",
                vec!["corp.example"],
            ),
            (
                "search a.example\ndomain b.example\n",
                vec!["b.example"],
            ),
            // macOS: the file scutil writes
            (
                "#\n# macOS Notice\n#\nsearch corp.example\nnameserver 192.168.1.1\n",
                vec!["corp.example"],
            ),
            ("nameserver 1.1.1.1\n", vec![]),
            ("", vec![]),
        ];
        for (text, want) in samples {
            assert_eq!(parse_resolv_conf(text), want, "{text}");
        }
    }

    fn limits() -> Limits {
        Limits {
            fetch_time: Duration::from_secs(2),
            eval_time: Duration::from_secs(1),
            ..Limits::default()
        }
    }

    #[tokio::test]
    async fn discovery_finds_the_pac_file_of_the_nearest_parent() {
        let server = HttpServer::start([(
            "/wpad.dat",
            Reply::pac(
                "function FindProxyForURL(url, host) { return 'PROXY proxy.corp.example:3128'; }",
            ),
        )])
        .await
        .unwrap();
        let addr = server.addr();
        // only wpad.corp.example exists; wpad.lab.corp.example does not
        let resolver = Resolver::fixed_addrs([(("wpad.corp.example".to_string(), 80), vec![addr])]);
        let domains = vec!["lab.corp.example".to_string(), "corp.example".to_string()];
        let outcome = discover(&domains, &resolver, limits()).await;
        let tried: Vec<&str> = outcome.tried.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(
            tried,
            [
                "http://wpad.lab.corp.example/wpad.dat",
                "http://wpad.corp.example/wpad.dat"
            ]
        );
        assert!(
            outcome.tried[0]
                .1
                .contains("wpad.lab.corp.example: unknown name"),
            "{:?}",
            outcome.tried
        );
        assert!(outcome.tried[1].1.starts_with("found a PAC file ("));
        let (url, pac) = outcome.found.as_ref().unwrap();
        assert_eq!(url, "http://wpad.corp.example/wpad.dat");
        assert_eq!(pac.name(), url);
        assert_eq!(
            pac.find_proxy("https://a.example/", "a.example").unwrap(),
            [PacEntry::Proxy {
                host: "proxy.corp.example".into(),
                port: 3128
            }]
        );
        assert_eq!(outcome.describe().len(), 2);
    }

    #[tokio::test]
    async fn discovery_reports_every_failure_and_finds_nothing() {
        let server = HttpServer::start([(
            "/wpad.dat",
            Reply::Raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()),
        )])
        .await
        .unwrap();
        let addr = server.addr();
        let portal_server = HttpServer::start([(
            "/wpad.dat",
            Reply::pac("<html>Sign in to the guest network</html>"),
        )])
        .await
        .unwrap();
        let portal = portal_server.addr();
        let resolver = Resolver::fixed_addrs([
            (("wpad.lab.corp.example".to_string(), 80), vec![portal]),
            (("wpad.corp.example".to_string(), 80), vec![addr]),
        ]);
        let domains = vec![
            "lab.corp.example".to_string(),
            "co.uk".to_string(),
            "corp.example".to_string(),
        ];
        let outcome = discover(&domains, &resolver, limits()).await;
        assert!(outcome.found.is_none());
        // each URL once, though two search domains lead to wpad.corp.example
        assert_eq!(outcome.tried.len(), 2, "{:?}", outcome.tried);
        assert!(
            outcome.tried[0]
                .1
                .contains("loading the file threw SyntaxError"),
            "{:?}",
            outcome.tried
        );
        assert!(
            outcome.tried[1].1.contains("404 Not Found"),
            "{:?}",
            outcome.tried
        );
        assert_eq!(outcome.skipped.len(), 1);
        assert!(outcome.skipped[0].1.starts_with("a public suffix"));

        let none = discover(&[], &resolver, limits()).await;
        assert_eq!(
            none.describe(),
            ["no search domain (no search or domain line in /etc/resolv.conf)"]
        );
    }
}
