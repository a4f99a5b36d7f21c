//! Which of a profile's endpoints a run probes: a catalog (the Defender guide's list, the
//! standard per-geography URL set, the streamlined `*.endpoint.security.microsoft.com` set) and
//! a geography, from `--catalog`, `--geo` or the tenant's onboarding package.
//!
//! Endpoints carry `catalog` and `geo` in the profile; an endpoint without a catalog belongs to
//! the default one, [`Catalog::Guide`].

use std::fmt;

use crate::endpoint::Endpoint;
use crate::onboarding::Tenant;

/// A geography of Defender for Endpoint's cloud, as the onboarding package and the agent name
/// it (`GW_US`, `vortexGeoLocation = "EU"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Geo {
    /// United States
    Us,
    /// European Union
    Eu,
    /// United Kingdom
    Uk,
    /// Australia
    Au,
    /// Switzerland
    Ch,
    /// India
    In,
}

impl Geo {
    /// Every geography, in the order the documentation lists them.
    pub const ALL: [Geo; 6] = [Geo::Us, Geo::Eu, Geo::Uk, Geo::Au, Geo::Ch, Geo::In];

    /// `US`, `EU`, ...: the code of `--geo`, of profiles and of the onboarding package.
    pub fn code(self) -> &'static str {
        match self {
            Geo::Us => "US",
            Geo::Eu => "EU",
            Geo::Uk => "UK",
            Geo::Au => "AU",
            Geo::Ch => "CH",
            Geo::In => "IN",
        }
    }

    /// The geography of a code, in any case (`eu`, `EU`).
    pub fn from_code(code: &str) -> Option<Geo> {
        Geo::ALL
            .into_iter()
            .find(|g| g.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The codes, for messages: `US, EU, UK, AU, CH, IN`.
    pub fn codes() -> String {
        Geo::ALL.map(Geo::code).join(", ")
    }
}

impl fmt::Display for Geo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

/// A list of endpoints the agent may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Catalog {
    /// the endpoints of the Defender troubleshooting guide (`mdatp connectivity test` of
    /// devices onboarded before the streamlined model); the default
    Guide,
    /// the standard URL set of one geography
    Standard,
    /// the streamlined set of one geography (`*.endpoint.security.microsoft.com`), used by
    /// every device onboarded since the streamlined connectivity model
    Streamlined,
}

impl Catalog {
    /// Every catalog.
    pub const ALL: [Catalog; 3] = [Catalog::Guide, Catalog::Standard, Catalog::Streamlined];

    /// `guide`, `standard` or `streamlined`: the name of `--catalog` and of profiles.
    pub fn name(self) -> &'static str {
        match self {
            Catalog::Guide => "guide",
            Catalog::Standard => "standard",
            Catalog::Streamlined => "streamlined",
        }
    }

    /// The catalog of a name.
    pub fn from_name(name: &str) -> Option<Catalog> {
        Catalog::ALL.into_iter().find(|c| c.name() == name.trim())
    }
}

impl fmt::Display for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The endpoints a tenant's package names that its catalog may lack: its EDR gateway
/// (`geoLocationUrl` + `commands/test`) and its event collector (`vortexServerUrl`'s host +
/// `/ping`), each probed as the profile probes that path elsewhere in the tenant's catalog (its
/// pin set, method and expected answer), and only when `selected` does not hold it already.
pub fn tenant_endpoints(
    tenant: &Tenant,
    profile: &[Endpoint],
    selected: &[Endpoint],
) -> Vec<Endpoint> {
    let gateway = tenant.gateway.as_ref().map(|g| {
        let base = if g.ends_with('/') {
            g.clone()
        } else {
            format!("{g}/")
        };
        (
            format!("{base}commands/test"),
            "EDR gateway (geoLocationUrl of the onboarding package)",
        )
    });
    let vortex = tenant.vortex.as_ref().and_then(|v| {
        let host = url::Url::parse(v).ok()?.host_str()?.to_string();
        Some((
            format!("https://{host}/ping"),
            "cyber data (vortexServerUrl of the onboarding package)",
        ))
    });
    let mut extra: Vec<Endpoint> = Vec::new();
    for (url, service) in gateway.into_iter().chain(vortex) {
        let Ok(mut endpoint) = Endpoint::parse(&url) else {
            continue;
        };
        if selected.iter().chain(&extra).any(|e| e.url == endpoint.url) {
            continue;
        }
        // the same path elsewhere in the tenant's catalog says how the agent treats it
        if let Some(like) = profile
            .iter()
            .find(|e| e.catalog == Some(tenant.catalog) && e.path == endpoint.path)
        {
            endpoint.pinset = like.pinset.clone();
            endpoint.method = like.method;
            endpoint.expect = like.expect.clone();
        }
        endpoint.catalog = Some(tenant.catalog);
        endpoint.geo = Some(tenant.geo);
        endpoint.service = Some(service.to_string());
        extra.push(endpoint);
    }
    extra
}

/// `--catalog`: one catalog, or every one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// one catalog
    One(Catalog),
    /// the guide's list and both catalogs of the geography
    All,
}

/// Which endpoints of a profile a run probes, and the words that say why in the report's
/// header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// the catalogs probed
    pub catalogs: Vec<Catalog>,
    /// the geography (`None`: every geography of a geography's catalog)
    pub geo: Option<Geo>,
    /// what was chosen and from what, for the header
    pub told: String,
}

/// How to choose the tenant's endpoints, for the header of a run that knew nothing of it.
pub const HOW_TO_CHOOSE: &str = "choose the tenant's set with --onboarding FILE (its onboarding package) or --geo US|EU|UK|AU|CH|IN [--catalog standard|streamlined]";

impl Selection {
    /// The profile's default list: nothing is known of the tenant.
    pub fn default_list() -> Selection {
        Selection {
            catalogs: vec![Catalog::Guide],
            geo: None,
            told: format!("the troubleshooting guide's endpoints; {HOW_TO_CHOOSE}"),
        }
    }

    /// The selection of `--geo` and `--catalog`: a geography alone means its streamlined set
    /// (every device onboarded since the streamlined model uses it); a catalog of geographies
    /// alone means every geography.
    pub fn from_flags(geo: Option<Geo>, choice: Option<Choice>, why: &str) -> Selection {
        let choice = choice.unwrap_or(match geo {
            Some(_) => Choice::One(Catalog::Streamlined),
            None => Choice::One(Catalog::Guide),
        });
        let catalogs = match choice {
            Choice::One(catalog) => vec![catalog],
            Choice::All => Catalog::ALL.to_vec(),
        };
        let names: Vec<&str> = catalogs.iter().map(|c| c.name()).collect();
        let per_geography = catalogs.iter().any(|c| *c != Catalog::Guide);
        let where_ = match geo {
            Some(geo) if per_geography => format!(" for {geo}"),
            // the guide's list is the same in every geography
            Some(_) => " (the same in every geography)".to_string(),
            None if per_geography => " for every geography".to_string(),
            None => String::new(),
        };
        Selection {
            told: format!("{} endpoints{where_} ({why})", names.join(" + ")),
            catalogs,
            geo,
        }
    }

    /// The selection of a tenant's onboarding package (`from` says where it was read): its
    /// geography and catalog, unless `--catalog` chose another list.
    pub fn for_tenant(tenant: &Tenant, choice: Option<Choice>, from: &str) -> Selection {
        let choice = choice.unwrap_or(Choice::One(tenant.catalog));
        let mut details = vec![
            format!("{} {}", tenant.shape, tenant.source),
            format!("{} package", tenant.catalog),
            format!("org {}", tenant.org),
        ];
        details.extend(tenant.datacenter.iter().map(|d| format!("datacenter {d}")));
        details.extend(tenant.gateway.iter().map(|g| format!("gateway {g}")));
        Selection::from_flags(
            Some(tenant.geo),
            Some(choice),
            &format!("{from}: {}", details.join(", ")),
        )
    }

    /// Whether `endpoint` is one of the selection's.
    pub fn holds(&self, endpoint: &Endpoint) -> bool {
        let catalog = endpoint.catalog.unwrap_or(Catalog::Guide);
        self.catalogs.contains(&catalog)
            && (catalog == Catalog::Guide || self.geo.is_none() || endpoint.geo == self.geo)
    }

    /// The endpoints of the selection, in profile order, each URL and method once (several
    /// geographies share an endpoint).
    pub fn apply(&self, endpoints: &[Endpoint]) -> Vec<Endpoint> {
        let mut seen = std::collections::HashSet::new();
        endpoints
            .iter()
            .filter(|e| self.holds(e))
            .filter(|e| seen.insert((e.url.clone(), e.method)))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    #[test]
    fn each_catalog_expands_for_each_geography() {
        let profile = Profile::bundled().unwrap();
        // rows of pins/sources/mde-endpoints.csv per catalog and geography
        let expected = [
            (Catalog::Standard, [13, 13, 9, 9, 0, 0]),
            (Catalog::Streamlined, [18, 18, 14, 14, 9, 9]),
        ];
        for (catalog, counts) in expected {
            for (geo, count) in Geo::ALL.into_iter().zip(counts) {
                let selection = Selection::from_flags(Some(geo), Some(Choice::One(catalog)), "t");
                let endpoints = selection.apply(&profile.endpoints);
                // the standard sets repeat one definitions URL per geography: once here
                assert_eq!(endpoints.len(), count, "{catalog} {geo}");
                assert!(endpoints
                    .iter()
                    .all(|e| e.catalog == Some(catalog) && e.geo == Some(geo)));
            }
        }
        // a streamlined geography talks to its own hosts (India's code is `ina`)
        let india = Selection::from_flags(Some(Geo::In), None, "--geo").apply(&profile.endpoints);
        assert!(india
            .iter()
            .any(|e| e.host == "mdav.ina.endpoint.security.microsoft.com"));
    }

    #[test]
    fn a_geography_alone_is_its_streamlined_set_and_all_adds_the_guide() {
        let profile = Profile::bundled().unwrap();
        let eu = Selection::from_flags(Some(Geo::Eu), None, "--geo");
        assert_eq!(eu.catalogs, [Catalog::Streamlined]);
        assert_eq!(eu.told, "streamlined endpoints for EU (--geo)");
        let all = Selection::from_flags(Some(Geo::Eu), Some(Choice::All), "--geo and --catalog");
        let endpoints = all.apply(&profile.endpoints);
        assert_eq!(endpoints.len(), 14 + 13 + 18);
        // nothing is probed twice, whatever the lists share
        let mut keys: Vec<_> = endpoints
            .iter()
            .map(|e| (&e.url, e.method.name()))
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), endpoints.len());
        // with no geography, every geography's set, each endpoint once
        let every = Selection::from_flags(None, Some(Choice::One(Catalog::Standard)), "--catalog");
        assert_eq!(
            every.told,
            "standard endpoints for every geography (--catalog)"
        );
        assert_eq!(every.apply(&profile.endpoints).len(), 44 - 3);
        // the default list is the guide's
        let default = Selection::default_list();
        assert_eq!(default.apply(&profile.endpoints).len(), 14);
        assert!(default.told.contains("--onboarding FILE"));
    }

    #[test]
    fn codes_and_names_read_back() {
        for geo in Geo::ALL {
            assert_eq!(Geo::from_code(geo.code()), Some(geo));
            assert_eq!(Geo::from_code(&geo.code().to_lowercase()), Some(geo));
        }
        for catalog in Catalog::ALL {
            assert_eq!(Catalog::from_name(catalog.name()), Some(catalog));
        }
        assert_eq!(Geo::from_code("GW_US"), None);
    }
}
