//! From the flags to the proxy configuration of a run: the flags and the environment checked
//! when the run is configured ([`Setting::from_flags`]), the PAC file found and loaded when it
//! starts ([`Setting::load`]).

use std::io::{self, Write};

use super::pac::{self, Limits, PacSource};
use super::{system, wpad, ProxyConfig};
use crate::error::Error;
use crate::net::resolve::Resolver;
use crate::report::Shown;

/// How the proxy is found when it is not given directly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AutoProxy {
    /// `--pac FILE|URL`
    Pac(PacSource),
    /// `--wpad`: `http://wpad.<domain>/wpad.dat` for the search domains
    Wpad,
    /// `--system-proxy`: the environment, and on macOS `scutil --proxy`
    System,
}

/// The proxy flags, as given on the command line.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags<'a> {
    /// `-x/--proxy URL` (`Some("")` turns the environment's proxy off)
    pub proxy: Option<&'a str>,
    /// `--noproxy LIST`
    pub noproxy: Option<&'a str>,
    /// `--pac FILE|URL`
    pub pac: Option<&'a str>,
    /// `--wpad`
    pub wpad: bool,
    /// `--system-proxy`
    pub system: bool,
}

/// How the proxy of a run is to be found: checked, nothing loaded yet.
#[derive(Clone, Debug, Default)]
pub struct Setting {
    /// the static proxy (flag or environment) and the no-proxy list
    fixed: ProxyConfig,
    /// where a PAC file is to be found, when one decides the routes
    auto: Option<AutoProxy>,
}

impl Setting {
    /// The setting of the flags, with the environment read through `env` (`HTTPS_PROXY` and
    /// the others as curl reads them). Errors name the flag or variable and the fix.
    pub fn from_flags(
        flags: Flags<'_>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Setting, Error> {
        let fixed = ProxyConfig::new(flags.proxy, flags.noproxy, env)
            .map_err(|(flag, message)| Error::usage(flag, message))?;
        let chosen = [
            flags.proxy.is_some(),
            flags.pac.is_some(),
            flags.wpad,
            flags.system,
        ]
        .iter()
        .filter(|c| **c)
        .count();
        if chosen > 1 {
            return Err(Error::usage(
                "--proxy/--pac/--wpad/--system-proxy",
                "give one way to find the proxy",
            ));
        }
        let auto = if let Some(pac) = flags.pac {
            Some(AutoProxy::Pac(PacSource::parse(pac)))
        } else if flags.wpad {
            Some(AutoProxy::Wpad)
        } else if flags.system {
            Some(AutoProxy::System)
        } else {
            None
        };
        Ok(Setting { fixed, auto })
    }

    /// True when a proxy may be on the way: a static one, or one a PAC file may name.
    pub fn may_use_proxy(&self) -> bool {
        self.fixed.proxy().is_some() || self.auto.is_some()
    }

    /// The static configuration, before any PAC file is loaded.
    pub fn static_config(&self) -> &ProxyConfig {
        &self.fixed
    }

    /// The proxy configuration of the run: the static one of the flags and environment, or the
    /// one a PAC file gives (from `--pac`, WPAD or the system settings), loaded now. What WPAD
    /// tried is said on standard error.
    pub async fn load(&self, resolver: &Resolver) -> Result<ProxyConfig, Error> {
        let limits = Limits::default();
        match &self.auto {
            None => Ok(self.fixed.clone()),
            Some(AutoProxy::Pac(source)) => {
                let pac = pac::load(source, resolver, limits).await?;
                Ok(ProxyConfig::with_pac(pac, format!("--pac {source}")))
            }
            Some(AutoProxy::Wpad) => self.by_wpad(resolver, limits).await,
            Some(AutoProxy::System) => self.by_system(resolver, limits).await,
        }
    }

    async fn by_wpad(&self, resolver: &Resolver, limits: Limits) -> Result<ProxyConfig, Error> {
        let mut stderr = io::stderr();
        let domains = wpad::search_domains();
        let wpad_limits = Limits {
            fetch_time: std::time::Duration::from_secs(3),
            ..limits
        };
        let outcome = wpad::discover(&domains, resolver, wpad_limits).await;
        for line in outcome.describe() {
            let _ = writeln!(stderr, "pinprobe: wpad: {}", Shown(&line));
        }
        match outcome.found {
            Some((url, pac)) => Ok(ProxyConfig::with_pac(pac, format!("WPAD {url}"))),
            None => {
                let _ = writeln!(
                    stderr,
                    "pinprobe: wpad: no PAC file found; probing directly"
                );
                Ok(self.fixed.clone())
            }
        }
    }

    async fn by_system(&self, resolver: &Resolver, limits: Limits) -> Result<ProxyConfig, Error> {
        let scutil_error = |message| Error::File {
            file: "scutil --proxy".into(),
            message,
        };
        let Some(settings) = system::query().map_err(scutil_error)? else {
            // not macOS: the system settings are the environment, read as curl does
            return Ok(self.fixed.clone());
        };
        if let Some(url) = &settings.pac_url {
            let source = PacSource::parse(url);
            let pac = pac::load(&source, resolver, limits).await?;
            return Ok(ProxyConfig::with_pac(
                pac,
                format!("system settings (scutil) {source}"),
            ));
        }
        match settings.proxy() {
            None => Ok(self.fixed.clone()),
            Some(Err(message)) => Err(scutil_error(message)),
            Some(Ok(proxy)) => {
                let (no_proxy, left_out) = settings.no_proxy();
                for (exception, why) in left_out {
                    let _ = writeln!(
                        io::stderr(),
                        "pinprobe: system proxy exception {} left out: {}",
                        Shown(&exception),
                        Shown(&why)
                    );
                }
                Ok(ProxyConfig::with_proxy(proxy).with_no_proxy(no_proxy, "scutil exceptions"))
            }
        }
    }
}
