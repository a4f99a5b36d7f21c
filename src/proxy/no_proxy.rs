//! The no-proxy list, as curl reads `--noproxy` and `no_proxy`/`NO_PROXY`: hosts (and their
//! subdomains), addresses, CIDR blocks, and `*`.

use std::net::IpAddr;

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
pub fn in_block(addr: IpAddr, net: IpAddr, bits: u8) -> bool {
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
