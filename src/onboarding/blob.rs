//! The blob every package carries and what its body says: the JSON layers
//! (`{"onboardingInfo": "<blob>"}`, the blob `{"body": "<body>", "sig": ...}`, the body) are
//! parsed one by one with `serde_json`, each given as a string of JSON (as the portal writes
//! them) or as the object itself, a key the reader uses given once in each; then the body's
//! fields become a [`Tenant`].

use serde_json::{Map, Value};

use super::org::OrgId;
use super::{json, plist, quoted_hiding, unpadded, Problem, Shape, Tenant};
use crate::catalog::{Catalog, Geo};

/// The body of a blob: `orgId`, `geoLocationUrl`, `vortexGeoLocation`, ...
pub(super) type Body = Map<String, Value>;

/// The longest URL a body may give.
const URL_CHARS: usize = 256;

/// The longest `datacenter` name (`CentralUs3` is 10).
const DATACENTER_CHARS: usize = 64;

/// What a piece of text found in a script holds, `line` being where it starts in the file: the
/// body of a blob and the line of the blob (the text is the outer JSON, the blob, or a property
/// list with an `OnboardingInfo` string), nothing (any other text), or a problem when the text
/// is plainly meant as the package but broken, such as a blob cut short.
pub(super) fn candidate(text: &str, line: usize) -> Result<Option<(Body, usize)>, Problem> {
    let trimmed = unpadded(text);
    let line = line + text[..text.len() - trimmed.len()].matches('\n').count();
    let trimmed = trimmed.trim_end();
    if trimmed.starts_with('{') {
        return match json::parse(trimmed) {
            Ok(value) => match descend(value) {
                Ok(body) => Ok(body.map(|body| (body, line))),
                Err(p) => Err(p.or_at(line)),
            },
            Err(e) if mentions_blob(trimmed) => {
                Err(Problem::at(line, invalid("the onboarding JSON", &e)))
            }
            Err(_) => Ok(None),
        };
    }
    if trimmed.starts_with('<') {
        return match plist::onboarding_info(trimmed, line) {
            Ok(Some((info, at))) => required(&info)
                .map(|body| Some((body, at)))
                .map_err(|p| p.or_at(at)),
            Ok(None) => Ok(None),
            Err(p) if trimmed.contains("OnboardingInfo") => Err(p.or_at(line)),
            Err(_) => Ok(None),
        };
    }
    Ok(None)
}

/// The body of text that must be the blob (or the outer JSON): the `OnboardingInfo` string of a
/// property list, the `/d` value of `REG add`.
pub(super) fn required(text: &str) -> Result<Body, Problem> {
    let value =
        json::parse(text.trim()).map_err(|e| Problem::file(invalid("the onboarding blob", &e)))?;
    descend(value)?.ok_or_else(|| {
        Problem::file(
            "the onboarding blob has no body: expected {\"body\": ..., \"sig\": ...}, as the \
             Defender portal writes it",
        )
    })
}

/// The body below a JSON value: through `onboardingInfo` when the value has it, else from its
/// `body`; none when it has neither. A value with both holds two blobs, and is refused.
pub(super) fn descend(value: Value) -> Result<Option<Body>, Problem> {
    let Value::Object(mut outer) = value else {
        return Ok(None);
    };
    let info = match outer.remove("onboardingInfo") {
        Some(info) => Some(info),
        None => outer.remove("OnboardingInfo"),
    };
    if info.is_some() && outer.contains_key("body") {
        return Err(Problem::file(
            "the JSON has both onboardingInfo and a body: expected one onboarding blob, as the \
             Defender portal writes it",
        ));
    }
    match info {
        Some(info) => body_of(layer(info, "onboardingInfo")?, "onboardingInfo").map(Some),
        None if outer.contains_key("body") => body_of(outer, "the blob").map(Some),
        None => Ok(None),
    }
}

/// The parsed `body` of a blob; `what` names the blob in messages.
fn body_of(mut blob: Body, what: &str) -> Result<Body, Problem> {
    match blob.remove("body") {
        Some(body) => layer(body, "body"),
        None => Err(Problem::file(format!(
            "{what} has no body: expected {{\"body\": ..., \"sig\": ...}}, as the Defender \
             portal writes it"
        ))),
    }
}

/// A JSON layer named `name`: a string of JSON, as the portal writes each layer, or the object.
fn layer(value: Value, name: &str) -> Result<Body, Problem> {
    let expected = "expected a JSON object in a string, as the Defender portal writes it";
    match value {
        Value::Object(map) => Ok(map),
        Value::String(text) => match json::parse(&text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(Problem::file(format!(
                "{name} holds {}: {expected}",
                kind(&other)
            ))),
            Err(e) => Err(Problem::file(invalid(name, &e))),
        },
        other => Err(Problem::file(format!(
            "{name} is {}: {expected}",
            kind(&other)
        ))),
    }
}

/// Text that names a layer of the blob, so that text which does not parse is a broken package
/// rather than some other string of the script.
fn mentions_blob(text: &str) -> bool {
    text.contains("onboardingInfo") || text.contains("\"body\"")
}

/// The message for JSON that does not parse: serde_json's, which quotes nothing of the text,
/// with its place said to be inside `what` rather than in the file; or the key given twice.
fn invalid(what: &str, e: &serde_json::Error) -> String {
    if e.is_data() {
        return twice(what, e);
    }
    if e.is_eof() {
        return format!(
            "{what} ends early: the package is cut short; download it again from the Defender \
             portal"
        );
    }
    format!(
        "{what} is not JSON ({}, line {} column {} of it): expected the package as the \
         Defender portal writes it",
        reason(e),
        e.line(),
        e.column()
    )
}

/// The message for a key [`json::parse`] found twice in `what`.
pub(super) fn twice(what: &str, e: &serde_json::Error) -> String {
    format!(
        "{what} gives {}: expected each key once, as the Defender portal writes it",
        reason(e)
    )
}

/// serde_json's message without its place (`expected value`, `recursion limit exceeded`).
pub(super) fn reason(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let place = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&place).unwrap_or(&full).to_string()
}

/// A JSON value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What the body says about the tenant. No message quotes the `orgId`, whole or in part.
pub(super) fn tenant(body: Body, shape: Shape, source: String) -> Result<Tenant, Problem> {
    let org = match body.get("orgId") {
        Some(Value::String(org)) if !org.trim().is_empty() => OrgId::new(org)?,
        _ => {
            return Err(Problem::file(
                "the body has no orgId: expected the package of a tenant, as downloaded from \
                 the Defender portal",
            ))
        }
    };
    fields(&body, &org, shape, source).map_err(|p| org.redact(p))
}

/// The tenant of a body whose `orgId` is `org`.
fn fields(body: &Body, org: &OrgId, shape: Shape, source: String) -> Result<Tenant, Problem> {
    let (geo, catalog) = geography(body, org)?;
    let datacenter = datacenter(body, org)?;
    let gateway = url(body, "geoLocationUrl", org)?;
    let vortex = url(body, "vortexServerUrl", org)?;
    for (key, kept) in [
        ("datacenter", &datacenter),
        ("geoLocationUrl", &gateway),
        ("vortexServerUrl", &vortex),
    ] {
        // the id is kept out of every field of the tenant, not only out of `org`: the text as
        // given and as the tenant keeps it (a URL normalised) are both searched
        let given = text_field(body, key)?;
        if given
            .into_iter()
            .chain(kept.as_deref())
            .any(|v| org.appears_in(v))
        {
            return Err(Problem::file(format!(
                "{key} holds the tenant's orgId, whole or in part: expected the package as the \
                 Defender portal writes it"
            )));
        }
    }
    Ok(Tenant {
        geo,
        catalog,
        datacenter,
        gateway,
        vortex,
        org: org.masked(),
        shape,
        source,
    })
}

/// A string field of the body; none when absent, null or empty.
fn text_field<'a>(body: &'a Body, key: &str) -> Result<Option<&'a str>, Problem> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim())),
        Some(other) => Err(Problem::file(format!(
            "{key} is {}: expected a string, as the Defender portal writes it",
            kind(other)
        ))),
    }
}

/// The geography and catalog: a `partnerGeoLocation` (`GW_EU`) makes the package streamlined;
/// without one, `vortexGeoLocation` (`EU`) names the geography of the standard URL set. Both
/// are read in any case, as [`partner_geo`] and [`Geo::from_code`] read them.
fn geography(body: &Body, org: &OrgId) -> Result<(Geo, Catalog), Problem> {
    if let Some(partner) = text_field(body, "partnerGeoLocation")? {
        let geo = partner_geo(partner).ok_or_else(|| {
            Problem::file(format!(
                "partnerGeoLocation {} is not a known geography: expected GW_ followed by one of {}",
                quoted_hiding(partner, org),
                Geo::codes()
            ))
        })?;
        return Ok((geo, Catalog::Streamlined));
    }
    match text_field(body, "vortexGeoLocation")? {
        Some(code) => Geo::from_code(code)
            .map(|geo| (geo, Catalog::Standard))
            .ok_or_else(|| {
                Problem::file(format!(
                    "vortexGeoLocation {} is not a known geography: expected one of {}",
                    quoted_hiding(code, org),
                    Geo::codes()
                ))
            }),
        None => Err(Problem::file(format!(
            "the body names no geography: expected partnerGeoLocation (GW_ followed by one of \
             {codes}) or vortexGeoLocation (one of {codes})",
            codes = Geo::codes()
        ))),
    }
}

/// The geography of a partner geography as the package and `mdatp health` write it: `GW_EU`.
/// The prefix and the code are both read in any case (`gw_eu`, `GW_us`): the agent compares
/// them so, and a package edited by hand keeps its meaning. Nothing else may surround the code.
pub(super) fn partner_geo(value: &str) -> Option<Geo> {
    let value = value.trim();
    let prefix = value.get(..3)?;
    let code = value.get(3..)?;
    if !prefix.eq_ignore_ascii_case("GW_") || code.trim() != code {
        return None;
    }
    Geo::from_code(code)
}

/// A `datacenter` name: letters, digits, `-` and `_`.
fn datacenter(body: &Body, org: &OrgId) -> Result<Option<String>, Problem> {
    let Some(name) = text_field(body, "datacenter")? else {
        return Ok(None);
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.len() <= DATACENTER_CHARS && name.chars().all(plain) {
        return Ok(Some(name.to_string()));
    }
    Err(Problem::file(format!(
        "datacenter {} is not a datacenter name: expected letters and digits, such as WestEurope",
        quoted_hiding(name, org)
    )))
}

/// The URL of `key`, when given: https, a host under `.microsoft.com` on the default port, no
/// user name, query or fragment, at most [`URL_CHARS`] characters. Anything else is not what
/// the portal writes, and pinprobe would otherwise probe a host the package only pretends the
/// agent uses, or a path other than the one it appends (`commands/test`).
fn url(body: &Body, key: &str, org: &OrgId) -> Result<Option<String>, Problem> {
    let Some(text) = text_field(body, key)? else {
        return Ok(None);
    };
    let expected = "expected an https URL of a host under .microsoft.com, on port 443 and without \
                    a query or fragment, as the Defender portal writes it";
    let fail = |what: &str| {
        Problem::file(format!(
            "{key} {} {what}: {expected}",
            quoted_hiding(text, org)
        ))
    };
    if text.chars().count() > URL_CHARS {
        return Err(fail(&format!("is longer than {URL_CHARS} characters")));
    }
    let parsed = url::Url::parse(text).map_err(|_| fail("is not a URL"))?;
    if parsed.scheme() != "https" {
        return Err(fail("is not https"));
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(host)) => host,
        _ => return Err(fail("has no host name")),
    };
    if !host.ends_with(".microsoft.com") {
        return Err(fail("is not a Microsoft host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(fail("carries a user name"));
    }
    // the default port is no port to `url`: `:443` is accepted and dropped
    if let Some(port) = parsed.port() {
        return Err(fail(&format!("names the port {port}")));
    }
    if parsed.query().is_some() {
        return Err(fail("has a query (?)"));
    }
    if parsed.fragment().is_some() {
        return Err(fail("has a fragment (#)"));
    }
    if parsed.as_str().chars().count() > URL_CHARS {
        return Err(fail(&format!("is longer than {URL_CHARS} characters")));
    }
    Ok(Some(parsed.to_string()))
}
