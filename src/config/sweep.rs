//! Which endpoints a run probes: the profile's, or those of the URL arguments and
//! `--targets`, then the `--shard` slice; and where they came from, for the report header.

use std::path::Path;

use super::Options;
use crate::catalog::{self, Catalog, Choice, Selection};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::input;
use crate::onboarding::{self, Tenant};
use crate::pins::PinSet;
use crate::profile::Profile;
use crate::targets::{self, Listed, Shard, Skipped};

/// The endpoints of a run, where they came from, and the lines of `--targets` skipped.
pub(super) struct Sweep {
    /// the profile's and those of the URL arguments
    pub(super) endpoints: Vec<Endpoint>,
    /// those of `--targets`, probed after `endpoints`
    pub(super) targets: Listed,
    pub(super) source: String,
    pub(super) skipped: Vec<Skipped>,
    /// which of the profile's lists was chosen, and why, when the profile has several
    pub(super) selection: Option<Selection>,
}

/// Which of the profile's lists a run probes, the tenant whose package chose it, and the flag
/// that asked for it (for messages).
pub(super) struct Chosen {
    pub(super) selection: Selection,
    tenant: Option<Tenant>,
    flag: &'static str,
}

impl Chosen {
    fn by(selection: Selection, flag: &'static str) -> Chosen {
        Chosen {
            selection,
            tenant: None,
            flag,
        }
    }
}

/// The first of the flags that choose among the profile's lists that was given.
fn choosing_flag(o: &Options) -> Option<&'static str> {
    if o.onboarding.is_some() {
        Some("--onboarding")
    } else if o.catalog.is_some() {
        Some("--catalog")
    } else if o.geo.is_some() {
        Some("--geo")
    } else {
        None
    }
}

/// Which of the profile's lists a run probes: from `--onboarding`, else `--geo` and
/// `--catalog`, else (the bundled profile only) what an installed agent says, else the
/// default list. `None` when the profile has one list only and nothing was asked.
fn selection(o: &Options, profile: &Profile) -> Result<Option<Chosen>, Error> {
    if let Some(path) = &o.onboarding {
        if o.geo.is_some() {
            return Err(Error::usage(
                "--geo",
                "the onboarding package gives the geography: give --onboarding or --geo, not both",
            ));
        }
        let tenant = onboarding::read(path)?;
        return Ok(Some(Chosen {
            selection: Selection::for_tenant(&tenant, o.catalog, "--onboarding"),
            tenant: Some(tenant),
            flag: "--onboarding",
        }));
    }
    if let Some(flag) = choosing_flag(o) {
        let flags = match (o.geo, o.catalog) {
            (Some(_), Some(_)) => "--geo and --catalog",
            (Some(_), None) => "--geo",
            _ => "--catalog",
        };
        return Ok(Some(Chosen::by(
            Selection::from_flags(o.geo, o.catalog, flags),
            flag,
        )));
    }
    // a profile with one list, or with no default list to fall back on, is probed whole
    let in_default = |e: &Endpoint| e.catalog.is_none_or(|c| c == Catalog::Guide);
    let several = profile.endpoints.iter().any(|e| !in_default(e));
    if !several || !profile.endpoints.iter().any(in_default) {
        return Ok(None);
    }
    let installed = if o.profile.is_none() && o.ask_installed_agent {
        installed_agent()
    } else {
        None
    };
    Ok(Some(installed.unwrap_or_else(|| {
        Chosen::by(Selection::default_list(), "--catalog")
    })))
}

/// What an agent installed on this machine says of its tenant (its onboarding file, else the
/// partner geography `mdatp health` reports), read without privileges; `None` when no agent
/// is installed. What could not be read is said in the header, after the choice.
fn installed_agent() -> Option<Chosen> {
    let mdatp = onboarding::mdatp_on_path();
    let files: Vec<&Path> = onboarding::INSTALLED_FILES.iter().map(Path::new).collect();
    if mdatp.is_none() && !files.iter().any(|f| f.exists()) {
        return None;
    }
    let found = onboarding::installed(&files, mdatp.as_deref());
    let mut chosen = match (found.tenant, found.partner_geo) {
        (Some(tenant), _) => Chosen {
            selection: Selection::for_tenant(&tenant, None, "the installed agent's package"),
            tenant: Some(tenant),
            flag: "--onboarding",
        },
        (None, Some(geo)) => Chosen::by(
            Selection::from_flags(
                Some(geo),
                Some(Choice::One(Catalog::Streamlined)),
                &format!("mdatp health --details edr: edr_partner_geo_location GW_{geo}"),
            ),
            "--geo",
        ),
        (None, None) => Chosen::by(Selection::default_list(), "--catalog"),
    };
    for note in found.notes {
        chosen.selection.told.push_str("; ");
        chosen.selection.told.push_str(&note);
    }
    Some(chosen)
}

/// The endpoints of the chosen list (with those the tenant's package names that the list
/// lacks), or an error that says which lists the profile has.
fn selected(
    profile: &Profile,
    profile_name: &str,
    chosen: &Chosen,
) -> Result<Vec<Endpoint>, Error> {
    let selection = &chosen.selection;
    let mut endpoints = selection.apply(&profile.endpoints);
    // the endpoints a package names complete the tenant's list; they never stand in for it
    if let Some(tenant) = chosen
        .tenant
        .as_ref()
        .filter(|t| !endpoints.is_empty() && selection.catalogs.contains(&t.catalog))
    {
        let extra = catalog::tenant_endpoints(tenant, &profile.endpoints, &endpoints);
        endpoints.extend(extra);
    }
    if endpoints.is_empty() {
        let mut lists: Vec<String> = profile
            .endpoints
            .iter()
            .map(|e| match (e.catalog.unwrap_or(Catalog::Guide), e.geo) {
                (Catalog::Guide, _) | (_, None) => e.catalog.unwrap_or(Catalog::Guide).to_string(),
                (catalog, Some(geo)) => format!("{catalog} {geo}"),
            })
            .collect();
        lists.dedup();
        return Err(Error::usage(
            chosen.flag,
            format!(
                "{profile_name} has no endpoint for {}: it has {}",
                selection.told,
                lists.join(", ")
            ),
        ));
    }
    Ok(endpoints)
}

/// The endpoints to probe: the profile's, or those of the URL arguments and `--targets` (with
/// the profile's too when `--profile` is given with `--targets`), then the `--shard` slice.
pub(super) fn endpoints(
    o: &Options,
    profile: &Profile,
    profile_name: String,
    pinsets: &[PinSet],
) -> Result<Sweep, Error> {
    // the slice is taken as --targets is read, so that only its endpoints are kept; a bad
    // --shard is still reported after the problems of the endpoints, as before
    let shard = o
        .shard
        .as_deref()
        .map(|text| Shard::parse(text).map_err(|m| Error::usage("--shard", m)));
    let (adhoc, listed, skipped) =
        adhoc_endpoints(o, shard.as_ref().and_then(|s| s.as_ref().ok()))?;
    // the profile's endpoints are probed without URL arguments, and with --targets only when
    // the profile is the user's own
    let uses_profile = o.urls.is_empty() && (o.targets.is_none() || o.profile.is_some());
    if let Some(flag) = choosing_flag(o).filter(|_| !uses_profile) {
        return Err(Error::usage(
            flag,
            "chooses among the profile's endpoints; it does not apply to URL arguments or --targets: give one or the other",
        ));
    }
    let selection = if uses_profile {
        selection(o, profile)?
    } else {
        None
    };
    let pinset_text = match &o.pinset {
        Some(set) => {
            // the file that defines it: the profile, or a file of --pins
            let origin = pinsets
                .iter()
                .find(|s| &s.name == set)
                .map_or(profile_name.as_str(), |s| s.origin.as_str());
            format!("pin set {set} from {origin}")
        }
        None => "no pin set: verdict on trust alone".to_string(),
    };
    let (mut endpoints, source) = if o.urls.is_empty() && o.targets.is_none() {
        if let Some(name) = &o.pinset {
            if o.pinnedpubkey.is_some() {
                return Err(Error::usage(
                    "--pinnedpubkey",
                    "pins the URL arguments and --targets; give the endpoints to probe (a profile's endpoints name their own pin set)",
                ));
            }
            return Err(Error::usage(
                "--pinset",
                format!("--pinset {name} applies to URL arguments and --targets; give the endpoints to probe, or set `pinset` on the endpoints of the profile"),
            ));
        }
        if profile.endpoints.is_empty() {
            return Err(Error::File {
                file: profile_name,
                message:
                    "the profile has no [[endpoints]]: add some, or give URLs on the command line"
                        .into(),
            });
        }
        let endpoints = match &selection {
            Some(chosen) => selected(profile, &profile_name, chosen)?,
            None => profile.endpoints.clone(),
        };
        (endpoints, profile_name)
    } else if o.urls.is_empty() && o.profile.is_some() {
        // --targets with an explicit profile: the sweep includes the profile's endpoints
        let mut all = match &selection {
            Some(chosen) => selected(profile, &profile_name, chosen)?,
            None => profile.endpoints.clone(),
        };
        all.extend(adhoc);
        (all, format!("{profile_name} and --targets ({pinset_text})"))
    } else if o.urls.is_empty() {
        (adhoc, format!("--targets ({pinset_text})"))
    } else {
        (adhoc, format!("the command line ({pinset_text})"))
    };
    if let (Some(text), Some(shard)) = (&o.shard, shard) {
        let shard = shard?;
        endpoints.retain(|e| shard.holds(e));
        if endpoints.is_empty() && listed.is_empty() && skipped.is_empty() {
            return Err(Error::usage(
                "--shard",
                format!("{text} holds none of the endpoints of {source}: a run that probes nothing proves nothing; give fewer shards"),
            ));
        }
    }
    // a CI job whose list came out empty must not pass having probed nothing (skipped lines
    // fail the run already)
    if endpoints.is_empty() && listed.is_empty() && skipped.is_empty() {
        return Err(match &o.targets {
            Some(path) => Error::usage(
                "--targets",
                format!(
                    "{} holds no endpoint (only blank lines and comments): a run that probes nothing proves nothing",
                    input::name(path)
                ),
            ),
            None => Error::File {
                file: source,
                message: "gives no endpoint to probe: a run that probes nothing proves nothing"
                    .into(),
            },
        });
    }
    Ok(Sweep {
        endpoints,
        targets: listed,
        source,
        skipped,
        selection: selection.map(|chosen| chosen.selection),
    })
}

/// The ad-hoc endpoints: those of the URL arguments, then those of `--targets` (of the
/// `shard` slice when given, kept as their text), each with the pin set of `--pinset`; and
/// the lines of `--targets` that are not endpoints.
fn adhoc_endpoints(
    o: &Options,
    shard: Option<&Shard>,
) -> Result<(Vec<Endpoint>, Listed, Vec<Skipped>), Error> {
    let mut adhoc = Vec::new();
    for url in &o.urls {
        let mut endpoint = Endpoint::parse(url).map_err(|m| Error::usage(url.clone(), m))?;
        endpoint.pinset.clone_from(&o.pinset);
        adhoc.push(endpoint);
    }
    let mut listed = Listed::default();
    let mut skipped = Vec::new();
    if let Some(path) = &o.targets {
        skipped = read_targets(path, |text, endpoint| {
            if shard.is_none_or(|s| s.holds(&endpoint)) {
                listed.push(text);
            }
        })?;
        listed.shrink_to_fit();
    }
    listed.set_pinset(o.pinset.clone());
    Ok((adhoc, listed, skipped))
}

/// Reads a `--targets` file (`-` for standard input), handing each endpoint to `each` with the
/// text it was parsed from; gives its lines that are not endpoints, with the file and line.
fn read_targets(path: &Path, each: impl FnMut(&str, Endpoint)) -> Result<Vec<Skipped>, Error> {
    let name = input::name(path);
    let read = if input::is_stdin(path) {
        targets::read_each(std::io::stdin().lock(), each)
    } else {
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        // read as a stream, so a pipe (`--targets <(command)`) is welcome; a directory is not
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(Error::File {
                file: format!("--targets {name}"),
                message: "a directory, not a file: give a list of endpoints, one per line, or - for standard input".into(),
            });
        }
        targets::read_each(std::io::BufReader::new(file), each)
    };
    let bad = read.map_err(|e| match e {
        targets::ReadError::Io(source) => Error::Read {
            path: name.clone().into(),
            source,
        },
        runaway @ targets::ReadError::Runaway(_) => Error::File {
            file: format!("--targets {name}"),
            message: runaway.to_string(),
        },
    })?;
    Ok(bad
        .into_iter()
        .map(|b| Skipped {
            file: name.clone(),
            line: b.line,
            why: b.message,
        })
        .collect())
}
