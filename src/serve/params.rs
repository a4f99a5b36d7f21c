//! The parameters of `/probe`, turned into the endpoint to probe: `target` (required, an
//! `https://` URL or `host[:port]`), `pinset` (a pin set of the profile or `--pins`) and
//! `profile-endpoint` (an endpoint of the profile, by URL, whose pin set, method and expected
//! answer apply). Every mistake is a one-line message for a 400.

use crate::endpoint::Endpoint;

/// What the parameters are checked against: the profile's endpoints and every pin set's name,
/// and the pin set of `serve --pinset`.
pub(super) struct Known {
    /// the profile's endpoints, in its order
    pub(super) endpoints: Vec<Endpoint>,
    /// the names of the profile's pin sets and those of `--pins`, sorted
    pub(super) pinsets: Vec<String>,
    /// `serve --pinset`: the pin set of a target asked without `pinset` or `profile-endpoint`
    pub(super) default_pinset: Option<String>,
    /// the profile's name, for messages
    pub(super) profile: String,
}

/// The names `/probe` takes. `profile_endpoint` is the spelling Prometheus' relabelling can
/// write (`__param_profile_endpoint`: a label name has no `-`).
const PARAMETERS: [&str; 4] = ["target", "pinset", "profile-endpoint", "profile_endpoint"];

/// The endpoint that `query` (the part after `?`, form-encoded) asks to probe.
pub(super) fn endpoint(query: &str, known: &Known) -> Result<Endpoint, String> {
    let mut target = None;
    let mut pinset = None;
    let mut profile_endpoint = None;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "target" => &mut target,
            "pinset" => &mut pinset,
            "profile-endpoint" | "profile_endpoint" => &mut profile_endpoint,
            other => {
                return Err(format!(
                    "unknown parameter {other:?}: /probe takes {}",
                    PARAMETERS.join(", ")
                ))
            }
        };
        if slot.is_some() {
            return Err(format!("parameter {name} is given twice: give it once"));
        }
        *slot = Some(value.into_owned());
    }
    let target = target
        .filter(|t| !t.trim().is_empty())
        .ok_or("missing target: give /probe?target=https://host[:port]/path (the URL to probe)")?;
    let mut endpoint = Endpoint::parse(&target).map_err(|m| format!("target {target:?}: {m}"))?;
    let from_profile = match &profile_endpoint {
        Some(url) => Some(profile_endpoint_of(url, known)?),
        None => None,
    };
    if let Some(chosen) = from_profile {
        endpoint.method = chosen.method;
        endpoint.expect = chosen.expect.clone();
        endpoint.pinset = chosen.pinset.clone();
    } else {
        endpoint.pinset = known.default_pinset.clone();
    }
    if let Some(name) = pinset {
        if !known.pinsets.contains(&name) {
            return Err(format!(
                "no pin set is named {name:?}: use one of {} (from {} and --pins)",
                known.pinsets.join(", "),
                known.profile
            ));
        }
        endpoint.pinset = Some(name);
    }
    Ok(endpoint)
}

/// The endpoint of the profile whose URL is `url` (compared once both are written the same
/// way: `HTTPS://Host:443/x` is `https://host/x`); the first when the profile lists it twice.
fn profile_endpoint_of<'k>(url: &str, known: &'k Known) -> Result<&'k Endpoint, String> {
    let wanted = Endpoint::parse(url).map_err(|m| format!("profile-endpoint {url:?}: {m}"))?;
    known
        .endpoints
        .iter()
        .find(|e| e.url == wanted.url)
        .ok_or_else(|| {
            format!(
                "profile-endpoint {:?}: {} has no endpoint with this URL (`pinprobe --list` lists a profile's endpoints)",
                wanted.url, known.profile
            )
        })
}
