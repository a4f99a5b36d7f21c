//! Routes: whether an endpoint is reached directly or through an HTTP proxy, and why.
//!
//! The proxy comes from `--proxy`, else from the environment as curl reads it for https URLs
//! (`https_proxy`, `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY`), with `--noproxy` or
//! `no_proxy`/`NO_PROXY` listing hosts, domains, addresses and CIDR blocks to reach directly.
//! The route taken, and where it came from, is part of every result.

use std::net::IpAddr;

use base64::Engine;
use serde::Serialize;

/// An HTTP proxy, as given by a flag or a variable.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// host name or address, without brackets
    pub host: String,
    /// port (curl's default for proxies, 1080, when the URL has none)
    pub port: u16,
    user: Option<(String, String)>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // credentials never leave this type, not even in debug output
        f.debug_struct("Proxy")
            .field("url", &self.url())
            .field("credentials", &self.user.is_some())
            .finish()
    }
}

/// curl's default proxy port.
pub const DEFAULT_PROXY_PORT: u16 = 1080;

impl Proxy {
    /// Parses `http://[user:pass@]host[:port][/]` or `host[:port]` (taken as http, as curl
    /// does). Other schemes are refused with what pinprobe supports.
    pub fn parse(text: &str) -> Result<Proxy, String> {
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| {
            format!(
                "\"{}\" is not a proxy URL ({e}): expected http://HOST:PORT",
                redact(text)
            )
        })?;
        match url.scheme() {
            "http" => {}
            "https" => {
                return Err(format!(
                    "\"{}\": HTTPS proxies (TLS to the proxy) are not supported; give the proxy's plain HTTP address, http://HOST:PORT",
                    redact(text)
                ))
            }
            s if s.starts_with("socks") => {
                return Err(format!(
                    "\"{}\": SOCKS proxies are not supported (nor by the Defender agent, which uses HTTP proxies); give http://HOST:PORT",
                    redact(text)
                ))
            }
            other => {
                return Err(format!(
                    "\"{}\": the scheme {other}:// is not a proxy scheme; give http://HOST:PORT",
                    redact(text)
                ))
            }
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => {
                return Err(format!(
                    "\"{}\" has no host: expected http://HOST:PORT",
                    redact(text)
                ))
            }
        };
        if url.path() != "/" && !url.path().is_empty() {
            return Err(format!(
                "\"{}\" has a path; a proxy is only http://HOST:PORT",
                redact(text)
            ));
        }
        let user = if url.username().is_empty() {
            None
        } else {
            let decode = |s: &str| {
                percent_decode(s).ok_or_else(|| {
                    format!(
                        "the credentials in \"{}\" are not valid percent-encoded UTF-8",
                        redact(text)
                    )
                })
            };
            Some((
                decode(url.username())?,
                decode(url.password().unwrap_or(""))?,
            ))
        };
        Ok(Proxy {
            host,
            port: url.port().unwrap_or(DEFAULT_PROXY_PORT),
            user,
        })
    }

    /// `http://host:port`, never with credentials: safe to print.
    pub fn url(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}", self.host, self.port)
        } else {
            format!("http://{}:{}", self.host, self.port)
        }
    }

    /// The `Proxy-Authorization` value for the credentials of the URL, if any.
    pub fn authorization(&self) -> Option<String> {
        self.user.as_ref().map(|(user, pass)| {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            format!("Basic {token}")
        })
    }

    /// True when the URL carried credentials.
    pub fn has_credentials(&self) -> bool {
        self.user.is_some()
    }
}

/// The user name or password of a proxy URL, decoded as curl decodes them: `%XX` escapes
/// become bytes, a `%` without two hex digits stays as it is; None if the bytes are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

/// A proxy URL with any credentials replaced, for messages.
pub fn redact(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &text[..scheme], &text[at + 1..])
        }
        (None, Some(at)) => format!("***@{}", &text[at + 1..]),
        _ => text.to_string(),
    }
}

/// One entry of a no-proxy list.
#[derive(Clone, Debug, PartialEq, Eq)]
enum NoProxyEntry {
    /// `*`: every host
    All,
    /// a host name: itself and its subdomains
    Domain(String),
    /// an address
    Addr(IpAddr),
    /// an address block
    Cidr(IpAddr, u8),
}

/// A no-proxy list as curl reads it: comma- or space-separated host names (each also matching
/// its subdomains; a leading dot is allowed), IP addresses, CIDR blocks, and `*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<NoProxyEntry>,
    text: String,
}

impl NoProxy {
    /// Parses a list; entries that are neither names nor addresses are refused.
    pub fn parse(text: &str) -> Result<NoProxy, String> {
        let mut entries = Vec::new();
        for raw in text
            .split([',', ' '])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let entry = if raw == "*" {
                NoProxyEntry::All
            } else if let Some((addr, bits)) = raw.split_once('/') {
                let addr: IpAddr = addr
                    .trim_matches(['[', ']'])
                    .parse()
                    .map_err(|_| format!("\"{raw}\" is not a CIDR block (e.g. 10.0.0.0/8)"))?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let bits: u8 =
                    bits.parse().ok().filter(|b| *b <= max).ok_or_else(|| {
                        format!("\"{raw}\": the prefix length must be 0 to {max}")
                    })?;
                NoProxyEntry::Cidr(addr, bits)
            } else if let Ok(addr) = raw.trim_matches(['[', ']']).parse::<IpAddr>() {
                NoProxyEntry::Addr(addr)
            } else {
                let name = raw.trim_start_matches("*.").trim_start_matches('.');
                // curl ignores a port after the name
                let name = name.split(':').next().unwrap_or(name);
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
                {
                    return Err(format!(
                        "\"{raw}\" is not a host name, address, CIDR block or *"
                    ));
                }
                NoProxyEntry::Domain(name.to_ascii_lowercase())
            };
            entries.push(entry);
        }
        Ok(NoProxy {
            entries,
            text: text.to_string(),
        })
    }

    /// The entry that sends `host` direct, if any, as written.
    pub fn matches(&self, host: &str) -> Option<String> {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        let addr = host.parse::<IpAddr>().ok();
        self.entries.iter().find_map(|e| {
            let hit = match (e, addr) {
                (NoProxyEntry::All, _) => true,
                (NoProxyEntry::Domain(d), None) => host == *d || host.ends_with(&format!(".{d}")),
                (NoProxyEntry::Addr(a), Some(h)) => *a == h,
                (NoProxyEntry::Cidr(net, bits), Some(h)) => in_block(h, *net, *bits),
                _ => false,
            };
            hit.then(|| match e {
                NoProxyEntry::All => "*".to_string(),
                NoProxyEntry::Domain(d) => d.clone(),
                NoProxyEntry::Addr(a) => a.to_string(),
                NoProxyEntry::Cidr(a, b) => format!("{a}/{b}"),
            })
        })
    }

    /// True when the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// True when `addr` is in the block `net/bits` (both of the same family).
pub(crate) fn in_block(addr: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Where the proxy setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `--proxy`
    Flag,
    /// an environment variable, by name
    Env(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => f.write_str("--proxy"),
            Origin::Env(name) => f.write_str(name),
        }
    }
}

/// The proxy configuration of a run.
#[derive(Clone, Debug, Default)]
pub struct ProxyConfig {
    proxy: Option<(Proxy, Origin)>,
    /// a PAC file that decides per endpoint, and where it came from
    pac: Option<(crate::pac::Pac, String)>,
    /// set when `--proxy ''` turned the environment off
    disabled_by_flag: bool,
    no_proxy: NoProxy,
    no_proxy_origin: Option<&'static str>,
}

/// The variables curl reads for an https URL, in its order.
pub const PROXY_VARIABLES: [&str; 4] = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"];
/// The no-proxy variables, in curl's order.
pub const NO_PROXY_VARIABLES: [&str; 2] = ["no_proxy", "NO_PROXY"];

impl ProxyConfig {
    /// No proxy at all.
    pub fn direct() -> ProxyConfig {
        ProxyConfig::default()
    }

    /// From `--proxy` and `--noproxy` (when given) and the environment (read through `env`).
    /// Errors name the flag or variable and the fix.
    pub fn new(
        flag: Option<&str>,
        noproxy_flag: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ProxyConfig, (String, String)> {
        let mut config = ProxyConfig::default();
        match flag {
            Some(text) if text.trim().is_empty() => config.disabled_by_flag = true,
            Some(text) => {
                let proxy = Proxy::parse(text).map_err(|m| ("--proxy".to_string(), m))?;
                config.proxy = Some((proxy, Origin::Flag));
            }
            None => {
                for name in PROXY_VARIABLES {
                    if let Some(value) = env(name).filter(|v| !v.trim().is_empty()) {
                        let proxy = Proxy::parse(&value).map_err(|m| {
                            (
                                format!("environment variable {name}"),
                                format!("{m}; fix or unset it, or override it with --proxy"),
                            )
                        })?;
                        config.proxy = Some((proxy, Origin::Env(name)));
                        break;
                    }
                }
            }
        }
        match noproxy_flag {
            Some(text) => {
                config.no_proxy = NoProxy::parse(text).map_err(|m| ("--noproxy".to_string(), m))?;
                config.no_proxy_origin = Some("--noproxy");
            }
            None => {
                for name in NO_PROXY_VARIABLES {
                    if let Some(value) = env(name).filter(|v| !v.trim().is_empty()) {
                        config.no_proxy = NoProxy::parse(&value).map_err(|m| {
                            (
                                format!("environment variable {name}"),
                                format!("{m}; fix it, or override it with --noproxy"),
                            )
                        })?;
                        config.no_proxy_origin = Some(name);
                        break;
                    }
                }
            }
        }
        Ok(config)
    }

    /// A configuration with this proxy, as if given with `--proxy`.
    pub fn with_proxy(proxy: Proxy) -> ProxyConfig {
        ProxyConfig {
            proxy: Some((proxy, Origin::Flag)),
            ..ProxyConfig::default()
        }
    }

    /// A configuration where `pac` decides for every endpoint; `source` says where the file
    /// came from (`--pac FILE`, WPAD, the system settings).
    pub fn with_pac(pac: crate::pac::Pac, source: String) -> ProxyConfig {
        ProxyConfig {
            pac: Some((pac, source)),
            ..ProxyConfig::default()
        }
    }

    /// How endpoints are reached, for report headers.
    pub fn describe(&self) -> String {
        if let Some((_, source)) = &self.pac {
            return format!("routes from the PAC file of {source}");
        }
        match &self.proxy {
            Some((p, _)) => self.route_for_proxy(p).describe(),
            None => "direct".into(),
        }
    }

    /// The PAC file, if one decides the routes.
    pub fn pac(&self) -> Option<&crate::pac::Pac> {
        self.pac.as_ref().map(|(p, _)| p)
    }

    /// The same configuration with another no-proxy list (macOS exceptions).
    pub fn with_no_proxy(mut self, no_proxy: NoProxy, origin: &'static str) -> ProxyConfig {
        self.no_proxy = no_proxy;
        self.no_proxy_origin = Some(origin);
        self
    }

    /// The proxy configured, if any, whatever the no-proxy list says.
    pub fn proxy(&self) -> Option<&Proxy> {
        self.proxy.as_ref().map(|(p, _)| p)
    }

    /// The route through `proxy` with its origin, whatever the no-proxy list says (for
    /// headers).
    pub fn route_for_proxy(&self, proxy: &Proxy) -> Route {
        let origin = self.proxy.as_ref().map(|(_, o)| o.to_string());
        Route::through(proxy.clone(), origin)
    }

    /// The route for `host`. With a PAC file the route is decided per endpoint when it is
    /// probed (`PacDecision` without hops yet).
    pub fn route_for(&self, host: &str) -> Route {
        if let Some((_, source)) = &self.pac {
            return Route::from_pac(
                Vec::new(),
                PacDecision {
                    source: source.clone(),
                    ..PacDecision::default()
                },
            );
        }
        let Some((proxy, origin)) = &self.proxy else {
            let source = self
                .disabled_by_flag
                .then(|| "--proxy '' (environment ignored)".to_string());
            return Route::direct(source);
        };
        if let Some(entry) = self.no_proxy.matches(host) {
            let origin = self.no_proxy_origin.unwrap_or("no_proxy");
            return Route::direct(Some(format!("{origin} entry {entry}")));
        }
        Route::through(proxy.clone(), Some(origin.to_string()))
    }
}

/// One way to reach an endpoint, as a PAC file lists them.
#[derive(Clone, Debug)]
pub enum Hop {
    /// straight to the endpoint
    Direct,
    /// through an HTTP proxy
    Proxy(Proxy),
    /// an entry pinprobe cannot follow (HTTPS or SOCKS proxies), with why
    Unsupported {
        /// the entry as the PAC file wrote it
        entry: String,
        /// why it is skipped
        why: String,
    },
}

impl Hop {
    /// The entry as a PAC file would write it.
    pub fn describe(&self) -> String {
        match self {
            Hop::Direct => "DIRECT".into(),
            Hop::Proxy(p) => format!("PROXY {}", p.url().trim_start_matches("http://")),
            Hop::Unsupported { entry, .. } => entry.clone(),
        }
    }
}

/// An entry of a PAC answer that was not used, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// the entry
    pub entry: String,
    /// why it was passed over
    pub why: String,
}

/// What a PAC file decided for one endpoint.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PacDecision {
    /// where the PAC file came from (file, URL, WPAD candidate)
    pub source: String,
    /// what `FindProxyForURL` returned
    pub returned: String,
    /// the entry used, when one could be reached
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used: Option<String>,
    /// the entries passed over before it, with why
    pub skipped: Vec<Skipped>,
    /// set when the PAC file itself failed for this endpoint (threw, looped, answered garbage)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a probe reaches its endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct Route {
    /// `direct`, or the proxy URL (never with credentials)
    pub via: String,
    /// why: the flag or variable that chose the proxy, or the no-proxy entry that bypassed it
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// the proxy itself
    #[serde(skip)]
    pub proxy: Option<Proxy>,
    /// the ways to try in order (a PAC answer); empty means the one of `proxy`
    #[serde(skip)]
    pub hops: Vec<Hop>,
    /// the PAC decision, when a PAC file chose the route
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pac: Option<PacDecision>,
}

impl Route {
    /// The direct route.
    pub fn direct(source: Option<String>) -> Route {
        Route {
            via: "direct".into(),
            source,
            proxy: None,
            hops: Vec::new(),
            pac: None,
        }
    }

    /// A route through `proxy`, chosen by `source`.
    pub fn through(proxy: Proxy, source: Option<String>) -> Route {
        Route {
            via: proxy.url(),
            source,
            proxy: Some(proxy),
            hops: Vec::new(),
            pac: None,
        }
    }

    /// A route a PAC file chose: its entries, tried in order.
    pub fn from_pac(hops: Vec<Hop>, decision: PacDecision) -> Route {
        Route {
            via: "pac".into(),
            source: Some(format!("PAC {}", decision.source)),
            proxy: None,
            hops,
            pac: Some(decision),
        }
    }

    /// The ways to try, in order.
    pub fn hops(&self) -> Vec<Hop> {
        if !self.hops.is_empty() {
            return self.hops.clone();
        }
        match &self.proxy {
            Some(p) => vec![Hop::Proxy(p.clone())],
            None => vec![Hop::Direct],
        }
    }

    /// The route as taken, once a hop of a PAC answer was reached: `via` and `proxy` name it.
    pub fn taken(&mut self, hop: &Hop) {
        match hop {
            Hop::Direct => {
                self.via = "direct".into();
                self.proxy = None;
            }
            Hop::Proxy(p) => {
                self.via = p.url();
                self.proxy = Some(p.clone());
            }
            Hop::Unsupported { .. } => {}
        }
        if let Some(pac) = self.pac.as_mut() {
            pac.used = Some(hop.describe());
        }
    }

    /// A short text: `direct` or `via http://proxy:3128 (HTTPS_PROXY)`.
    pub fn describe(&self) -> String {
        let mut text = match (&self.proxy, &self.source) {
            (None, None) => "direct".into(),
            (None, Some(why)) => format!("{} ({why})", self.via),
            (Some(_), Some(source)) => format!("via {} ({source})", self.via),
            (Some(_), None) => format!("via {}", self.via),
        };
        if let Some(pac) = &self.pac {
            text.push_str(&format!("; PAC returned \"{}\"", pac.returned));
            for s in &pac.skipped {
                text.push_str(&format!(", skipped {} ({})", s.entry, s.why));
            }
            if let Some(used) = &pac.used {
                text.push_str(&format!(", used {used}"));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn proxy_urls() {
        let p = Proxy::parse("http://user:p%40ss@proxy.corp:3128").unwrap();
        assert_eq!(p.url(), "http://proxy.corp:3128");
        assert_eq!(
            p.authorization().unwrap(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("user:p@ss")
            )
        );
        assert!(!format!("{p:?}").contains("ss"));
        let literal = Proxy::parse("http://user:100%25%zz@proxy.corp").unwrap();
        assert_eq!(
            literal.authorization().unwrap(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("user:100%%zz")
            )
        );
        assert_eq!(
            Proxy::parse("10.0.0.1").unwrap().url(),
            "http://10.0.0.1:1080"
        );
        assert_eq!(
            Proxy::parse("[::1]:8080").unwrap().url(),
            "http://[::1]:8080"
        );
        for (bad, words) in [
            ("https://proxy:443", "HTTPS proxies"),
            ("socks5://proxy:1080", "SOCKS"),
            ("ftp://proxy", "not a proxy scheme"),
            ("http://proxy:3128/path", "has a path"),
            ("http://user:secret@", "not a proxy URL"),
            (
                "http://user:s%FFsecret@proxy:3128",
                "not valid percent-encoded UTF-8",
            ),
        ] {
            let e = Proxy::parse(bad).unwrap_err();
            assert!(e.contains(words), "{bad}: {e}");
            assert!(!e.contains("secret"), "{e}");
        }
    }

    #[test]
    fn no_proxy_lists() {
        let list = NoProxy::parse("localhost, .corp.example,10.0.0.0/8 ::1,fd00::/8").unwrap();
        assert_eq!(list.matches("localhost").as_deref(), Some("localhost"));
        assert_eq!(
            list.matches("a.b.corp.example").as_deref(),
            Some("corp.example")
        );
        assert_eq!(
            list.matches("corp.example").as_deref(),
            Some("corp.example")
        );
        assert_eq!(list.matches("notcorp.example"), None);
        assert_eq!(list.matches("10.1.2.3").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(list.matches("11.1.2.3"), None);
        assert_eq!(list.matches("[::1]").as_deref(), Some("::1"));
        assert_eq!(list.matches("fd12::1").as_deref(), Some("fd00::/8"));
        assert_eq!(
            NoProxy::parse("*").unwrap().matches("any.host").as_deref(),
            Some("*")
        );
        assert!(NoProxy::parse("10.0.0.0/33").is_err());
        assert!(NoProxy::parse("bad/name!").is_err());
    }

    #[test]
    fn environment_as_curl_reads_it() {
        let c = ProxyConfig::new(
            None,
            None,
            env(&[
                ("HTTPS_PROXY", "http://upper:1"),
                ("https_proxy", "http://lower:2"),
                ("ALL_PROXY", "http://all:3"),
                ("NO_PROXY", "direct.example"),
            ]),
        )
        .unwrap();
        let r = c.route_for("cdn.example");
        assert_eq!(r.via, "http://lower:2");
        assert_eq!(r.source.as_deref(), Some("https_proxy"));
        let r = c.route_for("x.direct.example");
        assert_eq!(r.via, "direct");
        assert_eq!(r.source.as_deref(), Some("NO_PROXY entry direct.example"));

        let c = ProxyConfig::new(None, None, env(&[("ALL_PROXY", "all:3")])).unwrap();
        assert_eq!(c.route_for("h").describe(), "via http://all:3 (ALL_PROXY)");

        // the flag wins, --proxy '' turns the environment off, --noproxy replaces NO_PROXY
        let vars = [("https_proxy", "http://env:1"), ("no_proxy", "h")];
        let c = ProxyConfig::new(Some("http://flag:9"), Some("other"), env(&vars)).unwrap();
        assert_eq!(c.route_for("h").via, "http://flag:9");
        assert_eq!(c.route_for("other").via, "direct");
        let c = ProxyConfig::new(Some(""), None, env(&vars)).unwrap();
        assert_eq!(
            c.route_for("x").describe(),
            "direct (--proxy '' (environment ignored))"
        );
    }

    #[test]
    fn bad_settings_name_their_origin() {
        let (what, msg) =
            ProxyConfig::new(None, None, env(&[("HTTPS_PROXY", "socks5://p:1")])).unwrap_err();
        assert_eq!(what, "environment variable HTTPS_PROXY");
        assert!(msg.contains("--proxy"), "{msg}");
        let (what, _) = ProxyConfig::new(Some("https://p"), None, env(&[])).unwrap_err();
        assert_eq!(what, "--proxy");
        let (what, _) = ProxyConfig::new(None, Some("10.0.0.0/99"), env(&[])).unwrap_err();
        assert_eq!(what, "--noproxy");
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("http://u:secret@p:1"), "http://***@p:1");
        assert_eq!(redact("u:secret@p:1"), "***@p:1");
        assert_eq!(redact("http://p:1"), "http://p:1");
    }
}
