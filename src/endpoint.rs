//! Endpoints: what to probe (host, port, path, HTTP method), with the pin set and HTTP answer it
//! should give.
//!
//! Users write endpoints as URLs (`https://host[:port]/path`) or bare `host[:port]`, in profiles
//! and on the command line; both end up here, validated once.

use std::net::IpAddr;

use rustls::pki_types::ServerName;
use serde::Serialize;

/// The HTTP method of an endpoint's request.
///
/// Defender's agent does not GET everything: it sends HEAD to some endpoints (`/packages`) and
/// POST with an empty body to others (SmartScreen), and what they answer differs with the
/// method (an answer to HEAD has no body). A closed set: these three are all a health check
/// needs, and each changes how the request is written or the answer read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`: no body sent, the answer's body read
    #[default]
    Get,
    /// `HEAD`: no body sent, and none read whatever the answer's Content-Length says
    Head,
    /// `POST` with an empty body (`Content-Length: 0`)
    Post,
}

impl Method {
    /// Every method, in the order messages list them.
    pub const ALL: [Method; 3] = [Method::Get, Method::Head, Method::Post];

    /// The method's token as sent in the request line: `GET`, `HEAD`, `POST`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
        }
    }

    /// The method named `text`, in upper case only: method tokens are case-sensitive
    /// (RFC 9110 9.1), so `head` is not `HEAD` and is refused rather than guessed.
    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == text)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the HTTP answer must be for the endpoint to be `ok`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HttpExpectation {
    /// expected status code; `None` accepts any HTTP answer
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// expected body, compared after trimming surrounding white space
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// One endpoint to probe.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// the URL as printed in reports (`https://host[:port]/path`)
    pub url: String,
    /// host name or IP address, without brackets
    pub host: String,
    /// TCP port (443 unless given)
    pub port: u16,
    /// path and query sent in the request line
    pub path: String,
    /// the HTTP method of the request (GET unless the profile says otherwise)
    pub method: Method,
    /// the name sent as SNI and checked against the certificate
    pub server_name: ServerName<'static>,
    /// the pin set the chain must match, if any
    pub pinset: Option<String>,
    /// the expected HTTP answer
    pub expect: HttpExpectation,
    /// the catalog it belongs to (`None`: the profile's default list)
    pub catalog: Option<crate::catalog::Catalog>,
    /// the geography it serves, for a geography's catalog
    pub geo: Option<crate::catalog::Geo>,
    /// what the service is, in the profile's words (`sample storage`)
    pub service: Option<String>,
    /// where the profile's authors read the endpoint
    pub source: Option<String>,
}

impl Endpoint {
    /// Parses `https://host[:port][/path]` or `host[:port]`. The error says what is wrong and
    /// which form is expected.
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty endpoint: expected https://host[:port]/path or host[:port]".into());
        }
        // a URL parser drops tabs and line breaks inside a URL and encodes spaces, so that two
        // URLs on one line (a file with old Mac line ends, a tab or a space between them) became
        // one endpoint and the others were lost without a word
        if let Some(c) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "{text:?} holds {} inside, which a URL never does: two URLs on one line? Give one per line (LF or CRLF line ends), and write a space in a path as %20",
                match c {
                    ' ' => "a space".to_string(),
                    '\t' => "a tab".to_string(),
                    '\r' => "a carriage return".to_string(),
                    '\n' => "a line break".to_string(),
                    c => format!("the character {c:?}"),
                }
            ));
        }
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("https://{text}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| {
            format!("{text:?} is not a valid URL ({e}): expected https://host[:port]/path or host[:port]")
        })?;
        if url.scheme() != "https" {
            return Err(format!(
                "{text:?} uses {}://; pinprobe probes TLS endpoints: use https://",
                url.scheme()
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "{text:?} carries credentials; endpoints take none (proxy credentials go in the proxy URL)"
            ));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(format!("{text:?} has no host name")),
        };
        let port = url.port_or_known_default().unwrap_or(443);
        if port == 0 {
            return Err(format!("{text:?}: port 0 cannot be connected to"));
        }
        let mut path = url.path().to_string();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        let server_name = match host.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(host.clone())
                .map_err(|e| format!("{host:?} is not a valid server name: {e}"))?,
        };
        let shown_host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        let url_text = if port == 443 {
            format!("https://{shown_host}{path}")
        } else {
            format!("https://{shown_host}:{port}{path}")
        };
        Ok(Endpoint {
            url: url_text,
            host,
            port,
            path,
            method: Method::Get,
            server_name,
            pinset: None,
            expect: HttpExpectation::default(),
            catalog: None,
            geo: None,
            service: None,
            source: None,
        })
    }

    /// `host:port` with the port always written, as CONNECT requires.
    pub fn authority_with_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `host:port` as used in the Host header and in messages.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 443 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_bare_hosts() {
        let cases = [
            (
                "https://cdn.x.cp.wd.microsoft.com/ping",
                "cdn.x.cp.wd.microsoft.com",
                443,
                "/ping",
                "https://cdn.x.cp.wd.microsoft.com/ping",
            ),
            (
                "example.org",
                "example.org",
                443,
                "/",
                "https://example.org/",
            ),
            (
                "example.org:8443",
                "example.org",
                8443,
                "/",
                "https://example.org:8443/",
            ),
            (
                "https://127.0.0.1:4433/a?b=c",
                "127.0.0.1",
                4433,
                "/a?b=c",
                "https://127.0.0.1:4433/a?b=c",
            ),
            ("[::1]:4433", "::1", 4433, "/", "https://[::1]:4433/"),
            (
                "HTTPS://Example.ORG/x",
                "example.org",
                443,
                "/x",
                "https://example.org/x",
            ),
        ];
        for (text, host, port, path, url) in cases {
            let e = Endpoint::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                (e.host.as_str(), e.port, e.path.as_str(), e.url.as_str()),
                (host, port, path, url)
            );
        }
    }

    #[test]
    fn methods_are_upper_case_tokens() {
        for method in Method::ALL {
            assert_eq!(Method::parse(method.name()), Some(method));
            assert_eq!(
                serde_json::to_value(method).unwrap(),
                serde_json::json!(method.name())
            );
        }
        for text in ["head", "Post", "PUT", "", " GET"] {
            assert_eq!(Method::parse(text), None, "{text:?}");
        }
        assert_eq!(Method::default(), Method::Get);
        assert_eq!(Endpoint::parse("example.org").unwrap().method, Method::Get);
    }

    #[test]
    fn bad_endpoints_are_explained() {
        for (text, needle) in [
            ("http://example.org/", "use https://"),
            ("", "empty endpoint"),
            ("https://", "not a valid URL"),
            ("https://a b/", "holds a space inside"),
            ("https://a.example/x\ty", "holds a tab inside"),
            (
                "https://a.example/\rhttps://b.example/",
                "holds a carriage return inside",
            ),
            (
                "https://a.example/\u{0}",
                "holds the character '\\0' inside",
            ),
            ("https://user:pw@example.org/", "credentials"),
            ("example.org:99999", "not a valid URL"),
        ] {
            let err = Endpoint::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
