//! The tenant a Defender for Endpoint onboarding package belongs to: its geography, which
//! endpoint catalog its devices use, its gateway and event URLs, read from any of the files the
//! Defender portal hands out, or from what an onboarded agent left on the machine.
//!
//! Every platform's package carries the same signed blob, `{"body": "<JSON>", "sig": ...}`,
//! wrapped differently: as the JSON file itself (Linux), a string literal of a Python script
//! (Linux), a shell script's heredoc or quoted string (macOS), an XML property list's
//! `OnboardingInfo` string (macOS MDM) or a `REG add ... /d "..."` argument (Windows). The file
//! is recognised by what it holds; its name only decides which reading is tried first. The blob
//! is then parsed with `serde_json` level by level (the blob, its `body`), never searched with
//! patterns, so an escape the wrapping added is undone by the rules of that wrapping only.
//!
//! Each key the reader takes a value from is to be given once: a package that gives one twice
//! (two `orgId`s, two `OnboardingInfo` strings, two `REG add ... /v OnboardingInfo` lines) is
//! refused, as the readings of each format would otherwise each pick a different one.
//!
//! The tenant's id (`orgId`) identifies a customer: it is kept only masked (`1a2b…9f0e`), and
//! no message pinprobe writes about a package quotes it, whole or in a recognisable part
//! (`org.rs`).

mod blob;
mod installed;
mod json;
mod org;
mod plist;
mod python;
mod shapes;
mod shell;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use crate::catalog::{Catalog, Geo};
use crate::error::Error;
use crate::input;

pub use installed::{installed, mdatp_on_path, Installed, INSTALLED_FILES};

use org::{OrgId, Piece};

/// What a message says is expected when no blob is found.
const EXPECTED_PACKAGE: &str = "expected the onboarding package downloaded from the Defender \
     portal (MicrosoftDefenderATPOnboardingLinuxServer.py, mdatp_onboard.json, \
     MicrosoftDefenderATPOnboardingMacOs.sh, the MDM .xml/.plist or \
     WindowsDefenderATPOnboardingScript.cmd)";

/// The most characters of a file's text a message quotes.
const QUOTED_CHARS: usize = 60;

/// What an onboarding package says about its tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// from `partnerGeoLocation` (`GW_EU`) when the package has it, else `vortexGeoLocation`
    /// (`EU`); both are read in any case (`gw_eu`), as `mdatp` compares them
    pub geo: Geo,
    /// [`Catalog::Streamlined`] when the package names a `partnerGeoLocation`, else
    /// [`Catalog::Standard`]
    pub catalog: Catalog,
    /// `datacenter` (`WestEurope`), when given
    pub datacenter: Option<String>,
    /// `geoLocationUrl`, the EDR gateway: an https URL of a host under `.microsoft.com`, on the
    /// default port, without a query or fragment
    pub gateway: Option<String>,
    /// `vortexServerUrl`, the event collector of streamlined packages, checked as `gateway` is
    pub vortex: Option<String>,
    /// the tenant's `orgId`, masked: its first and last four characters (`1a2b…9f0e`), or `…`
    /// alone for an id too short to show any of it; no other field holds any of it
    pub org: String,
    /// which kind of file the package was read from
    pub shape: Shape,
    /// the file, as named in messages
    pub source: String,
}

/// The kinds of file that carry an onboarding package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// `mdatp_onboard.json`: `{"onboardingInfo": "<blob>"}`, as the Linux script writes it to
    /// `/etc/opt/microsoft/mdatp/`
    LinuxJson,
    /// `MicrosoftDefenderATPOnboardingLinuxServer.py`: the JSON as a Python string literal
    LinuxScript,
    /// `MicrosoftDefenderATPOnboardingMacOs.sh`: the blob in a heredoc or a quoted string
    MacScript,
    /// an XML property list whose `OnboardingInfo` string is the blob: the Jamf `.plist`, the
    /// Intune `.xml`, or `/Library/Managed Preferences/com.microsoft.wdav.atp.plist`
    MdmPlist,
    /// `WindowsDefenderATPOnboardingScript.cmd`: `REG add ... /v OnboardingInfo ... /d "<blob>"`
    WindowsScript,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Shape::LinuxJson => "Linux onboarding JSON",
            Shape::LinuxScript => "Linux onboarding script (.py)",
            Shape::MacScript => "macOS onboarding script (.sh)",
            Shape::MdmPlist => "macOS MDM property list (.xml/.plist)",
            Shape::WindowsScript => "Windows onboarding script (.cmd)",
        })
    }
}

/// Reads the onboarding package at `path` (standard input for `-`), at most
/// [`input::ONBOARDING`] bytes, and what it says about the tenant.
pub fn read(path: &Path) -> Result<Tenant, Error> {
    let bytes = input::read_bounded(path, input::ONBOARDING)?;
    parse(&bytes, &input::name(path))
}

/// What the onboarding package `bytes` says about the tenant; `file` names it in messages and
/// in [`Tenant::source`], and its extension decides which kind of file is tried first.
pub fn parse(bytes: &[u8], file: &str) -> Result<Tenant, Error> {
    let text = text_of(bytes).map_err(|p| p.into_error(file))?;
    let found = shapes::find(&text, file).map_err(|p| p.into_error(file))?;
    blob::tenant(found.body, found.shape, file.to_string()).map_err(|mut p| {
        // a problem of the body is where the blob is
        p.line = p.line.or(found.line);
        p.into_error(file)
    })
}

/// The package as text: UTF-8 without its byte order mark, or UTF-16 with one (as Windows
/// tools may save a `.cmd` or `.xml`). A binary property list, as `defaults` may leave a
/// managed preference, and a signed configuration profile are named as such.
fn text_of(bytes: &[u8]) -> Result<Cow<'_, str>, Problem> {
    if bytes.starts_with(b"bplist") {
        return Err(Problem::file(
            "a binary property list: expected an XML property list; convert a copy with \
             `plutil -convert xml1 -o copy.plist FILE` and give the copy",
        ));
    }
    if signed_profile(bytes) {
        return Err(Problem::file(
            "a signed configuration profile: export the unsigned one or use the .xml/.plist \
             of the Defender portal's package",
        ));
    }
    if let Some(units) = bytes.strip_prefix(b"\xff\xfe") {
        return utf16(units, u16::from_le_bytes).map(Cow::Owned);
    }
    if let Some(units) = bytes.strip_prefix(b"\xfe\xff") {
        return utf16(units, u16::from_be_bytes).map(Cow::Owned);
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        Problem::at(line, format!("not UTF-8 text: {EXPECTED_PACKAGE}"))
    })
}

/// True for a configuration profile signed as CMS (`.mobileconfig` exported signed): DER or BER
/// `SEQUENCE` bytes that carry the XML inside.
fn signed_profile(bytes: &[u8]) -> bool {
    (bytes.starts_with(&[0x30, 0x80]) || bytes.starts_with(&[0x30, 0x82]))
        && bytes.windows(5).any(|w| w == b"<?xml")
}

/// UTF-16 text whose byte order mark is gone, each unit read from two bytes by `unit`.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, Problem> {
    let pairs = bytes.chunks_exact(2);
    let odd = !pairs.remainder().is_empty();
    let units = pairs.map(|pair| unit([pair[0], pair[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut line = 1;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => {
                line += usize::from(c == '\n');
                text.push(c);
            }
            Err(_) => {
                return Err(Problem::at(
                    line,
                    format!("not UTF-16 text, though it starts as such: {EXPECTED_PACKAGE}"),
                ))
            }
        }
    }
    if odd {
        return Err(Problem::at(
            line,
            "the UTF-16 text ends in half a character: the package is cut short; download it \
             again from the Defender portal",
        ));
    }
    Ok(text)
}

/// `text` without the white space (and stray byte order marks) before its first character.
fn unpadded(text: &str) -> &str {
    text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// What is wrong with a package, before the file's name is known to the code that found it.
#[derive(Debug)]
struct Problem {
    /// the 1-based line, when known
    line: Option<usize>,
    /// what is wrong and what is expected
    message: String,
}

impl Problem {
    /// A problem of the file as a whole.
    fn file(message: impl Into<String>) -> Problem {
        Problem {
            line: None,
            message: message.into(),
        }
    }

    /// A problem at a line.
    fn at(line: usize, message: impl Into<String>) -> Problem {
        Problem {
            line: Some(line),
            message: message.into(),
        }
    }

    /// The problem at `line` if it has no line of its own: a blob found at a line of the file.
    fn or_at(mut self, line: usize) -> Problem {
        self.line = self.line.or(Some(line));
        self
    }

    /// The error naming `file`.
    fn into_error(self, file: &str) -> Error {
        match self.line {
            Some(line) => Error::At {
                file: file.to_string(),
                line,
                message: self.message,
            },
            None => Error::File {
                file: file.to_string(),
                message: self.message,
            },
        }
    }
}

/// The package has no blob in any of the forms it is looked for in.
fn not_found() -> Problem {
    Problem::file(format!("no onboarding blob found: {EXPECTED_PACKAGE}"))
}

/// Text of the file for a message: in quotes, escaped, at most [`QUOTED_CHARS`] characters.
fn quoted(text: &str) -> String {
    quote(text, None)
}

/// [`quoted`], with each run of the tenant id `org` in `text` hidden. Runs are found in the
/// text before it is cut, and in as many characters past the cut as the id has, so that the
/// cut leaves no start of one behind.
fn quoted_hiding(text: &str, org: &OrgId) -> String {
    quote(text, Some(org))
}

/// [`quoted`] and [`quoted_hiding`]: pieces are shown while fewer than [`QUOTED_CHARS`]
/// characters of the text are, so a hidden run that starts before the cut is hidden whole.
fn quote(text: &str, org: Option<&OrgId>) -> String {
    let mut chars = text.chars();
    let window: Vec<char> = chars
        .by_ref()
        .take(QUOTED_CHARS + org.map_or(0, OrgId::len))
        .collect();
    let mut cut = chars.next().is_some();
    let pieces = match org {
        Some(org) => org.pieces(&window),
        None => window.into_iter().map(Piece::Char).collect(),
    };
    let (mut shown, mut used) = (String::new(), 0);
    for piece in &pieces {
        if used >= QUOTED_CHARS {
            cut = true;
            break;
        }
        match (piece, org) {
            (Piece::Char(c), _) => shown.extend(c.escape_debug()),
            (hidden, Some(org)) => shown.push_str(&org.token(hidden)),
            (_, None) => shown.push('…'),
        }
        used += piece.chars();
    }
    if cut {
        shown.push('…');
    }
    format!("\"{shown}\"")
}

/// Text for a message as it is, but for control and other invisible characters, which are
/// escaped (`\u{1b}`): quotes and backslashes stay plain.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\'' | '"' | '\\') {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    out
}
