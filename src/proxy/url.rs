//! A proxy URL: `http://[user:pass@]host[:port]`, with credentials that never reach a message
//! or a report.

use base64::Engine;

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
