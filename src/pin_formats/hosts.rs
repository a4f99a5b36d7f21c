//! The hosts a pin set is for, which Android, OkHttp and Chromium need to pin anything, and
//! why a set cannot be written in a format.

use std::collections::HashMap;
use std::fmt;

use super::{ForeignSet, PinFormat};

/// A host a pin set is for: Android's `<domain>`, an OkHttp pattern, a Chromium entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    /// the host name; `*.example.com` for OkHttp's one-level wildcard, which only OkHttp has
    pub name: String,
    /// the host and every name below it (Android's `includeSubdomains="true"`, OkHttp's `**.`)
    pub include_subdomains: bool,
}

impl Domain {
    /// Reads a host as `--host` and OkHttp's `add` take it: `api.example.com`,
    /// `**.example.com` (the host and every name below it) or `*.example.com` (one level below,
    /// which only OkHttp can say). Lowercased; the error says what is expected.
    pub fn parse(text: &str) -> Result<Domain, String> {
        let lower = text.trim().to_ascii_lowercase();
        let (rest, include_subdomains, one_level) = if let Some(rest) = lower.strip_prefix("**.") {
            (rest, true, false)
        } else if let Some(rest) = lower.strip_prefix("*.") {
            (rest, false, true)
        } else {
            (lower.as_str(), false, false)
        };
        let host_chars = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
        if rest.is_empty()
            || !rest.chars().all(host_chars)
            || rest.starts_with('.')
            || rest.ends_with('.')
            || rest.contains("..")
        {
            return Err(format!(
                "{text:?} is not a host: expected a host name such as api.example.com, **.example.com for it and every name below it, or *.example.com for one level below it (OkHttp only)"
            ));
        }
        // a colon is an IPv6 address, or a port, which no format's host takes
        if rest.contains(':') && rest.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!(
                "{text:?} has a port or is not an address: give the host alone (pins apply to every port of it)"
            ));
        }
        Ok(Domain {
            name: if one_level {
                format!("*.{rest}")
            } else {
                rest.to_string()
            },
            include_subdomains,
        })
    }

    /// True for OkHttp's `*.example.com`, which Android, Chromium and a profile cannot say.
    pub fn is_one_level_wildcard(&self) -> bool {
        self.name.starts_with("*.")
    }

    /// The domain as OkHttp's `CertificatePinner` pattern (`**.` for subdomains).
    pub fn okhttp_pattern(&self) -> String {
        if self.include_subdomains {
            format!("**.{}", self.name)
        } else {
            self.name.clone()
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.okhttp_pattern())
    }
}

/// Why pin sets cannot be written in a format.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// several sets for a format that holds one
    #[error("{format} holds one pin set and the input has {count} ({names}): convert to toml, chromium, android, okhttp or hex, which hold several, or keep one set in the input")]
    SeveralSets {
        /// the output format
        format: PinFormat,
        /// how many sets the input has
        count: usize,
        /// their names, comma-separated
        names: String,
    },
    /// deny pins for a format that cannot express them
    #[error("pin set {set:?} has {count} deny pin(s), which {format} cannot express: convert to toml or chromium (bad_static_spki_hashes), or remove the deny pins")]
    Deny {
        /// the output format
        format: PinFormat,
        /// the set
        set: String,
        /// how many deny pins it has
        count: usize,
    },
    /// a set with no host, for a format whose pins apply only to the hosts it names
    #[error("pin set {set:?} names no host, and {} give the host with --host HOST (--host {set}=HOST when the input has several sets), or convert a profile whose endpoints use the set", needs_host(*format))]
    NoHost {
        /// the output format
        format: PinFormat,
        /// the set
        set: String,
    },
    /// a host that is not a host name or address (a Chromium entry's `name` is taken as it is)
    #[error("pin set {set:?} is for {host:?}, which is not a host {format} can name: give the hosts with --host HOST (--host {set}=HOST when the input has several sets)")]
    NotAHost {
        /// the output format
        format: PinFormat,
        /// the set
        set: String,
        /// the name as read
        host: String,
    },
    /// OkHttp's one-level wildcard, which the format cannot say
    #[error("pin set {set:?} is for {pattern}, one level below {}, which only OkHttp can say: {format} has no such wildcard; give the hosts with --host (**.{} pins it and every name below it)", &pattern[2..], &pattern[2..])]
    Wildcard {
        /// the output format
        format: PinFormat,
        /// the set
        set: String,
        /// the `*.` pattern
        pattern: String,
    },
    /// an HPKP header with one pin, which no browser keeps
    #[error("pin set {set:?} has one pin, and a browser keeps a Public-Key-Pins header only when it also holds a backup pin, the pin-sha256 of a key not in the served chain (RFC 7469 2.5): add the pin of a spare key to the input")]
    NoBackup {
        /// the set
        set: String,
    },
    /// the same host in two sets, which the format refuses
    #[error("{host} is in pin sets {first:?} and {second:?}: {format} takes one set per host; merge the sets or give each its own --host")]
    HostTwice {
        /// the output format
        format: PinFormat,
        /// the host
        host: String,
        /// the first set that has it
        first: String,
        /// the second
        second: String,
    },
}

/// Why a format needs the hosts of a set, for [`WriteError::NoHost`].
fn needs_host(format: PinFormat) -> &'static str {
    match format {
        PinFormat::Android => "an Android network security config applies a <pin-set> only to the <domain>s of its <domain-config>:",
        PinFormat::Okhttp => "OkHttp's CertificatePinner checks pins only for the host patterns given to add():",
        PinFormat::Chromium => "Chromium applies a pinset only to the hosts of its \"entries\":",
        _ => "the format pins by host:",
    }
}

/// Every set names a host the format can say, and no host is in two sets where the format
/// takes one set per host.
pub(super) fn check_hosts(format: PinFormat, sets: &[ForeignSet]) -> Result<(), WriteError> {
    // host -> the set that named it first; a map, since a file may hold a set per host
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for set in sets {
        if set.details.domains.is_empty() {
            return Err(WriteError::NoHost {
                format,
                set: set.name.clone(),
            });
        }
        // written as it is, such a name makes a file that its own tool refuses
        if let Some(d) = set
            .details
            .domains
            .iter()
            .find(|d| Domain::parse(&d.name).is_err())
        {
            return Err(WriteError::NotAHost {
                format,
                set: set.name.clone(),
                host: d.name.clone(),
            });
        }
        if format == PinFormat::Okhttp {
            continue;
        }
        for d in &set.details.domains {
            if d.is_one_level_wildcard() {
                return Err(WriteError::Wildcard {
                    format,
                    set: set.name.clone(),
                    pattern: d.name.clone(),
                });
            }
            if let Some(first) = seen.get(d.name.as_str()) {
                return Err(WriteError::HostTwice {
                    format,
                    host: d.name.clone(),
                    first: first.to_string(),
                    second: set.name.clone(),
                });
            }
            seen.insert(&d.name, &set.name);
        }
    }
    Ok(())
}
