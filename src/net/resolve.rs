//! Name resolution: curl's `--resolve HOST:PORT:ADDR` overrides first, then the system resolver.
//!
//! The resolver is a value handed to the probe, so tests can use one that never asks the
//! system (a name it does not know fails as an unknown name would), keeping test traffic on
//! loopback.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// One `--resolve HOST:PORT:ADDR[,ADDR...]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// host name, lowercased
    pub host: String,
    /// port the override applies to
    pub port: u16,
    /// addresses, in the order given
    pub addrs: Vec<IpAddr>,
}

impl Override {
    /// Parses curl's syntax: `HOST:PORT:ADDR[,ADDR...]`, IPv6 addresses with or without
    /// brackets (`example.com:443:[::1]`).
    pub fn parse(text: &str) -> Result<Override, String> {
        let expected = "expected HOST:PORT:ADDR, e.g. cdn.x.cp.wd.microsoft.com:443:127.0.0.1";
        let mut parts = text.splitn(3, ':');
        let (Some(host), Some(port), Some(addrs)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("\"{text}\" is not a resolve entry: {expected}"));
        };
        if host.is_empty() {
            return Err(format!("\"{text}\" has no host name: {expected}"));
        }
        let port: u16 = port
            .parse()
            .map_err(|_| format!("\"{port}\" in \"{text}\" is not a port number: {expected}"))?;
        let addrs = addrs
            .split(',')
            .map(|a| {
                let bare = a.trim().trim_start_matches('[').trim_end_matches(']');
                bare.parse::<IpAddr>()
                    .map_err(|_| format!("\"{a}\" in \"{text}\" is not an IP address: {expected}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Override {
            host: host.to_ascii_lowercase(),
            port,
            addrs,
        })
    }
}

/// Where the addresses of a probe came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// the host is an IP address
    Literal,
    /// a `--resolve` entry
    Override,
    /// the system resolver (getaddrinfo)
    System,
    /// a fixed map of the lab (`pinprobe demo`)
    Lab,
}

impl Source {
    /// How a report names it.
    pub fn describe(self) -> &'static str {
        match self {
            Source::Literal => "literal address",
            Source::Override => "--resolve",
            Source::System => "system resolver",
            Source::Lab => "lab address",
        }
    }
}

/// Turns host names into socket addresses.
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    overrides: HashMap<(String, u16), Vec<SocketAddr>>,
    /// when false, names without an override fail instead of asking the system
    system: bool,
    /// the overrides are the lab's map, not `--resolve` entries
    lab: bool,
}

impl Resolver {
    /// The overrides, then the system resolver.
    pub fn system(overrides: Vec<Override>) -> Resolver {
        Resolver {
            overrides: Self::table(overrides),
            system: true,
            lab: false,
        }
    }

    /// The overrides only; any other name fails as an unknown name. For tests and the demo,
    /// which must not send queries off the machine.
    pub fn fixed(overrides: Vec<Override>) -> Resolver {
        Resolver {
            overrides: Self::table(overrides),
            system: false,
            lab: false,
        }
    }

    /// Only the given mappings, which may send `host:port` to another port (as curl's
    /// `--connect-to`); any other name fails as an unknown name. The demo uses it so that its
    /// endpoints keep their real URLs while the lab listens on ephemeral loopback ports.
    pub fn fixed_addrs(
        map: impl IntoIterator<Item = ((String, u16), Vec<SocketAddr>)>,
    ) -> Resolver {
        Resolver {
            overrides: map
                .into_iter()
                .map(|((host, port), addrs)| ((host.to_ascii_lowercase(), port), addrs))
                .collect(),
            system: false,
            lab: true,
        }
    }

    fn table(overrides: Vec<Override>) -> HashMap<(String, u16), Vec<SocketAddr>> {
        let mut table = HashMap::new();
        for o in overrides {
            let addrs = o
                .addrs
                .iter()
                .map(|ip| SocketAddr::new(*ip, o.port))
                .collect();
            // as curl, a later entry for the same host and port wins
            table.insert((o.host, o.port), addrs);
        }
        table
    }

    /// The addresses for `host:port`, or why there are none.
    pub async fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> Result<(Vec<SocketAddr>, Source), String> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok((vec![SocketAddr::new(ip, port)], Source::Literal));
        }
        let key = (host.to_ascii_lowercase(), port);
        if let Some(addrs) = self.overrides.get(&key) {
            let source = if self.lab {
                Source::Lab
            } else {
                Source::Override
            };
            return Ok((addrs.clone(), source));
        }
        if !self.system {
            return Err(format!("{host}: unknown name (no --resolve entry for it)"));
        }
        match tokio::net::lookup_host((host, port)).await {
            Ok(addrs) => {
                let addrs: Vec<SocketAddr> = addrs.collect();
                if addrs.is_empty() {
                    Err(format!("{host}: the name has no address"))
                } else {
                    Ok((addrs, Source::System))
                }
            }
            Err(e) => Err(format!("{host}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_curl_syntax() {
        let o = Override::parse("Example.com:8443:127.0.0.1,[::1]").unwrap();
        assert_eq!(o.host, "example.com");
        assert_eq!(o.port, 8443);
        assert_eq!(
            o.addrs,
            vec![
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse::<IpAddr>().unwrap()
            ]
        );
        assert_eq!(Override::parse("h:443:::1").unwrap().addrs.len(), 1);
    }

    #[test]
    fn rejects_malformed_entries_with_the_reason() {
        for (text, needle) in [
            ("example.com", "not a resolve entry"),
            ("example.com:443", "not a resolve entry"),
            (":443:127.0.0.1", "no host name"),
            ("example.com:https:127.0.0.1", "not a port number"),
            ("example.com:70000:127.0.0.1", "not a port number"),
            ("example.com:443:localhost", "not an IP address"),
        ] {
            let e = Override::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[tokio::test]
    async fn overrides_then_literals_and_no_system_when_fixed() {
        let r = Resolver::fixed(vec![Override::parse("a.test:443:127.0.0.2").unwrap()]);
        let (addrs, source) = r.resolve("A.test", 443).await.unwrap();
        assert_eq!(addrs, vec!["127.0.0.2:443".parse().unwrap()]);
        assert_eq!(source, Source::Override);
        assert!(r.resolve("a.test", 444).await.is_err());
        assert!(r
            .resolve("b.test", 443)
            .await
            .unwrap_err()
            .contains("unknown name"));
        let r2 = Resolver::fixed_addrs([(
            ("A.test".to_string(), 443),
            vec!["127.0.0.1:4433".parse().unwrap()],
        )]);
        assert_eq!(
            r2.resolve("a.test", 443).await.unwrap().0,
            vec!["127.0.0.1:4433".parse().unwrap()]
        );
        let (addrs, source) = r.resolve("::1", 8443).await.unwrap();
        assert_eq!(addrs, vec!["[::1]:8443".parse().unwrap()]);
        assert_eq!(source, Source::Literal);
    }
}
