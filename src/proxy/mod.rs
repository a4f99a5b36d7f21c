//! How an endpoint is reached, in one place: the static proxy (`--proxy`, else the
//! environment as curl reads it for https URLs: `https_proxy`, `HTTPS_PROXY`, `all_proxy`,
//! `ALL_PROXY`), the no-proxy list (`--noproxy`, `no_proxy`/`NO_PROXY`), a PAC file (`--pac`,
//! found by WPAD, or named by the system settings), and the CONNECT exchange with the proxy.
//!
//! - `url`: a proxy URL and its credentials
//! - `no_proxy`: the hosts, domains, addresses and blocks reached directly
//! - `route`: the route of one probe, with why it was chosen
//! - `pac`, `wpad`, `system`: PAC files, WPAD over DNS, the macOS settings
//! - `connect`: the CONNECT exchange that opens a tunnel
//! - `setting`: the flags and the environment checked, the PAC file found and loaded
//!
//! [`ProxyConfig`] is the one place that turns these settings into the route an endpoint may
//! take; the route taken, and where it came from, is part of every result.

pub mod connect;
mod no_proxy;
pub mod pac;
mod route;
mod setting;
pub mod system;
mod url;
pub mod wpad;

pub use no_proxy::{in_block, NoProxy};
pub use route::{Hop, PacDecision, Route, Skipped};
pub use setting::{AutoProxy, Flags, Setting};
pub use url::{redact, Proxy, DEFAULT_PROXY_PORT};

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
    pac: Option<(crate::proxy::pac::Pac, String)>,
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
    pub fn with_pac(pac: crate::proxy::pac::Pac, source: String) -> ProxyConfig {
        ProxyConfig {
            pac: Some((pac, source)),
            ..ProxyConfig::default()
        }
    }

    /// How many routes [`ProxyConfig::routes_for`] gives each endpoint: the same for every
    /// host, so that a run knows its probes before it routes them.
    pub fn routes_per_endpoint(compare_direct: bool) -> usize {
        1 + usize::from(compare_direct)
    }

    /// The routes an endpoint on `host` is probed on, in order: the one this configuration
    /// gives, preceded by the direct route when `compare_direct` (`--compare-direct`).
    pub fn routes_for(&self, host: &str, compare_direct: bool) -> Vec<Route> {
        let mut routes = Vec::with_capacity(Self::routes_per_endpoint(compare_direct));
        if compare_direct {
            routes.push(Route::direct(Some("--compare-direct".into())));
        }
        routes.push(self.route_for(host));
        routes
    }

    /// How endpoints are reached, for report headers (`each directly and ...` when
    /// `compare_direct`).
    pub fn describe_routes(&self, compare_direct: bool) -> String {
        if compare_direct {
            format!("each directly and {}", self.describe())
        } else {
            self.describe()
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
    pub fn pac(&self) -> Option<&crate::proxy::pac::Pac> {
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

    /// Asks the PAC file, when one decides the routes, which entries to try for the endpoint
    /// at `url`, and fills them into its `route` (from [`ProxyConfig::route_for`]). The
    /// evaluation is synchronous JavaScript with its own time limit, so it runs off the async
    /// threads. Err carries the route with the PAC error, for the `pac-failed` verdict.
    pub async fn decide(&self, url: &str, mut route: Route) -> Result<Route, Route> {
        let (Some(pac), Some(decision)) = (self.pac(), route.pac.as_mut()) else {
            return Ok(route);
        };
        if !route.hops.is_empty() {
            return Ok(route);
        }
        let outcome = match pac::arguments(url) {
            Err(e) => Err(e),
            Ok((url, host)) => {
                let pac = pac.clone();
                match tokio::task::spawn_blocking(move || pac.find_proxy(&url, &host)).await {
                    Ok(Ok(entries)) => Ok(entries),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(format!("the PAC evaluation stopped: {e}")),
                }
            }
        };
        match outcome {
            Ok(entries) => {
                decision.returned = pac::describe_list(&entries);
                route.hops = pac::hops(&entries);
                route.via = "pac".into();
                Ok(route)
            }
            Err(e) => {
                decision.error = Some(e);
                Err(route)
            }
        }
    }

    /// The route for `host`. With a PAC file the route is decided per endpoint when it is
    /// probed (`PacDecision` without hops yet: see [`ProxyConfig::decide`]).
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

#[cfg(test)]
mod tests;
