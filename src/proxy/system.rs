//! macOS proxy settings, as `scutil --proxy` prints them: the HTTPS proxy, the PAC URL, the
//! auto-discovery (WPAD) flag and the exceptions list, readable without privileges.
//!
//! The output is the text form of a SystemConfiguration dictionary:
//!
//! ```text
//! <dictionary> {
//!   ExceptionsList : <array> {
//!     0 : *.local
//!   }
//!   HTTPSEnable : 1
//!   HTTPSPort : 3128
//!   HTTPSProxy : proxy.corp.example
//!   __SCOPED__ : <dictionary> { ... }
//! }
//! ```
//!
//! Only the top level is read: it is the configuration in force, while `__SCOPED__` repeats it
//! per interface. The parser is plain text handling, so it is tested on samples on any system.

use std::collections::HashMap;

use crate::proxy::{NoProxy, Proxy};

/// Port of an HTTPS proxy whose port is not set, as Chrome reads the same settings.
const DEFAULT_PORT: u16 = 80;

/// The proxy settings of the system, as far as pinprobe uses them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemProxy {
    /// the proxy for https URLs, when `HTTPSEnable` is 1: host and port
    pub https: Option<(String, u16)>,
    /// the PAC URL, when `ProxyAutoConfigEnable` is 1
    pub pac_url: Option<String>,
    /// `ProxyAutoDiscoveryEnable`: find the PAC file by WPAD
    pub auto_discovery: bool,
    /// `ExceptionsList`: hosts, domains (`*.local`) and networks (`169.254/16`) reached directly
    pub exceptions: Vec<String>,
    /// `ExcludeSimpleHostnames`: names without a dot are reached directly
    pub exclude_simple_hostnames: bool,
}

impl SystemProxy {
    /// The HTTPS proxy as a route proxy, or why it cannot be one.
    pub fn proxy(&self) -> Option<Result<Proxy, String>> {
        self.https.as_ref().map(|(host, port)| {
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            Proxy::parse(&format!("http://{host}:{port}"))
        })
    }

    /// The exceptions as a no-proxy list, with those it cannot express (and why). macOS writes
    /// networks with short addresses (`169.254/16`); they are completed (`169.254.0.0/16`).
    pub fn no_proxy(&self) -> (NoProxy, Vec<(String, String)>) {
        let mut kept = Vec::new();
        let mut left_out = Vec::new();
        for exception in &self.exceptions {
            let entry = complete_network(exception);
            match NoProxy::parse(&entry) {
                Ok(_) => kept.push(entry),
                Err(why) => left_out.push((exception.clone(), why)),
            }
        }
        // every entry parsed alone, so the list parses
        let list = NoProxy::parse(&kept.join(",")).unwrap_or_default();
        (list, left_out)
    }
}

/// `169.254/16` -> `169.254.0.0/16`; anything else unchanged.
fn complete_network(entry: &str) -> String {
    let Some((addr, bits)) = entry.split_once('/') else {
        return entry.to_string();
    };
    let parts: Vec<&str> = addr.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if numeric && parts.len() < 4 {
        let mut full = parts.clone();
        full.resize(4, "0");
        format!("{}/{bits}", full.join("."))
    } else {
        entry.to_string()
    }
}

/// A value at the top level of the dictionary.
enum Entry {
    Text(String),
    List(Vec<String>),
}

/// The top dictionary of `scutil --proxy`'s output: its keys with their text or list values
/// (nested dictionaries are passed over).
fn dictionary(text: &str) -> Result<HashMap<String, Entry>, String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    match lines.next() {
        Some(first) if first.starts_with("<dictionary>") && first.ends_with('{') => {}
        other => {
            let start: String = other.unwrap_or("").chars().take(40).collect();
            return Err(format!(
                "not the output of scutil --proxy: expected \"<dictionary> {{\", found {start:?}"
            ));
        }
    }
    let mut top: HashMap<String, Entry> = HashMap::new();
    // depth 1 is the top dictionary; an array opened there is collected until it closes
    let mut depth = 1usize;
    let mut array: Option<(String, Vec<String>)> = None;
    for line in lines {
        if line == "}" {
            depth = depth.saturating_sub(1);
            if depth == 1 {
                if let Some((key, items)) = array.take() {
                    top.insert(key, Entry::List(items));
                }
            }
            if depth == 0 {
                break;
            }
            continue;
        }
        let Some((key, value)) = line.split_once(" : ") else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if value.ends_with('{') {
            if depth == 1 && value.starts_with("<array>") {
                array = Some((key.to_string(), Vec::new()));
            }
            depth += 1;
            continue;
        }
        match (depth, array.as_mut()) {
            (1, _) => {
                top.insert(key.to_string(), Entry::Text(value.to_string()));
            }
            (2, Some((_, items))) => items.push(value.to_string()),
            _ => {}
        }
    }
    Ok(top)
}

/// Reads the output of `scutil --proxy`; an error when the text is not such output.
pub fn parse(text: &str) -> Result<SystemProxy, String> {
    let top = dictionary(text)?;
    let text = |key: &str| match top.get(key) {
        Some(Entry::Text(t)) if !t.is_empty() => Some(t.clone()),
        _ => None,
    };
    let enabled = |key: &str| text(key).as_deref() == Some("1");
    let https = if enabled("HTTPSEnable") {
        match text("HTTPSProxy") {
            Some(host) => {
                let port = match text("HTTPSPort") {
                    None => DEFAULT_PORT,
                    Some(p) => p
                        .parse::<u16>()
                        .map_err(|_| format!("HTTPSPort \"{p}\" is not a port number"))?,
                };
                Some((host, port))
            }
            None => None,
        }
    } else {
        None
    };
    let exceptions = match top.get("ExceptionsList") {
        Some(Entry::List(items)) => items.clone(),
        _ => Vec::new(),
    };
    Ok(SystemProxy {
        https,
        pac_url: enabled("ProxyAutoConfigEnable")
            .then(|| text("ProxyAutoConfigURLString"))
            .flatten(),
        auto_discovery: enabled("ProxyAutoDiscoveryEnable"),
        exceptions,
        exclude_simple_hostnames: enabled("ExcludeSimpleHostnames"),
    })
}

/// The system's settings: on macOS from `scutil --proxy`; `Ok(None)` on other systems, where
/// the environment (`HTTPS_PROXY`, `NO_PROXY`) is the system setting pinprobe reads.
pub fn query() -> Result<Option<SystemProxy>, String> {
    if cfg!(target_os = "macos") {
        let output = std::process::Command::new("scutil")
            .arg("--proxy")
            .output()
            .map_err(|e| format!("cannot run scutil --proxy: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "scutil --proxy failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        parse(&String::from_utf8_lossy(&output.stdout)).map(Some)
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/scutil")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn no_proxy_configured() {
        let settings = parse(&sample("none.txt")).unwrap();
        assert_eq!(
            settings,
            SystemProxy {
                exceptions: vec!["*.local".into(), "169.254/16".into()],
                ..SystemProxy::default()
            }
        );
        assert!(settings.proxy().is_none());
    }

    #[test]
    fn https_proxy_pac_url_and_exceptions() {
        let settings = parse(&sample("https-and-pac.txt")).unwrap();
        assert_eq!(
            settings.https,
            Some(("proxy.corp.example".to_string(), 3128))
        );
        assert_eq!(
            settings.pac_url.as_deref(),
            Some("http://pac.corp.example:8080/proxy.pac?site=paris")
        );
        assert!(!settings.auto_discovery);
        assert!(settings.exclude_simple_hostnames);
        // the top level only, not the per-interface copy
        assert_eq!(
            settings.exceptions,
            [
                "*.local",
                "169.254/16",
                "10.0.0.0/8",
                "intranet.corp.example",
                "*.corp.example"
            ]
        );
        assert_eq!(
            settings.proxy().unwrap().unwrap().url(),
            "http://proxy.corp.example:3128"
        );
        let (list, left_out) = settings.no_proxy();
        assert!(left_out.is_empty(), "{left_out:?}");
        for (host, entry) in [
            ("printer.local", Some("local")),
            ("169.254.1.2", Some("169.254.0.0/16")),
            ("10.20.30.40", Some("10.0.0.0/8")),
            ("build.corp.example", Some("corp.example")),
            ("cdn.x.cp.wd.microsoft.com", None),
        ] {
            assert_eq!(list.matches(host).as_deref(), entry, "{host}");
        }
    }

    #[test]
    fn auto_discovery() {
        let settings = parse(&sample("auto-discovery.txt")).unwrap();
        assert!(settings.auto_discovery);
        assert_eq!((settings.https, settings.pac_url), (None, None));
    }

    #[test]
    fn disabled_pac_and_a_missing_port() {
        let settings = parse(&sample("vpn-pac-disabled-https-port-missing.txt")).unwrap();
        // the URL is there but not enabled; the HTTPS port defaults as in Chrome
        assert_eq!(settings.pac_url, None);
        assert_eq!(settings.https, Some(("192.0.2.15".to_string(), 80)));
        assert!(settings.exceptions.is_empty());
    }

    #[test]
    fn text_that_is_not_scutil_output_is_refused() {
        for text in ["", "No proxy\n", "scutil: command not found"] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with("not the output of scutil --proxy"), "{e}");
        }
        let e =
            parse("<dictionary> {\n  HTTPSEnable : 1\n  HTTPSProxy : p\n  HTTPSPort : http\n}\n")
                .unwrap_err();
        assert_eq!(e, "HTTPSPort \"http\" is not a port number");
        // cut short: what was read is kept
        let settings = parse("<dictionary> {\n  ProxyAutoDiscoveryEnable : 1\n  ExceptionsList : <array> {\n    0 : a.example\n").unwrap();
        assert!(settings.auto_discovery);
    }

    #[test]
    fn exceptions_that_a_no_proxy_list_cannot_express_are_named() {
        let settings = SystemProxy {
            exceptions: vec!["*.corp.*".into(), "192.168/16".into(), "10/8".into()],
            ..SystemProxy::default()
        };
        let (list, left_out) = settings.no_proxy();
        assert_eq!(
            list.matches("192.168.4.5").as_deref(),
            Some("192.168.0.0/16")
        );
        assert_eq!(list.matches("10.1.1.1").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(left_out.len(), 1);
        assert_eq!(left_out[0].0, "*.corp.*");
    }

    #[test]
    fn query_reads_nothing_off_macos() {
        if !cfg!(target_os = "macos") {
            assert_eq!(query(), Ok(None));
        }
    }
}
