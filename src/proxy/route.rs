//! The route of one probe: direct, through a proxy, or the entries of a PAC answer, with why it
//! was chosen and what was passed over; part of every result.

use serde::Serialize;

use super::Proxy;

/// Most skipped entries of a PAC answer named in [`Route::describe`]; the rest are counted
/// (all of them stay in the JSON). The answer itself is cut by [`super::pac::describe_list`].
const SHOWN_SKIPPED: usize = 4;

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
            for s in pac.skipped.iter().take(SHOWN_SKIPPED) {
                text.push_str(&format!(", skipped {} ({})", s.entry, s.why));
            }
            if let Some(more) = pac
                .skipped
                .len()
                .checked_sub(SHOWN_SKIPPED)
                .filter(|&n| n > 0)
            {
                text.push_str(&format!(", and {more} more skipped"));
            }
            if let Some(used) = &pac.used {
                text.push_str(&format!(", used {used}"));
            }
        }
        text
    }
}
