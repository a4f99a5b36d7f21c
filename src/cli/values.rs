//! The closed sets of flag values (`--format`, `--pin-format`, `--fail-on`, `--from`/`--to`,
//! `--os-store`) and the library's value for each; `--fail-on`'s names are the library's.

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::ValueEnum;
use pinprobe::catalog::{Catalog, Choice, Geo};
use pinprobe::chain::trust::OsStoreChoice;
use pinprobe::pin_formats::PinFormat;
use pinprobe::report::Format;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PinFormatArg {
    /// OkHttp: sha256/<base64>, one per line
    Okhttp,
    /// curl --pinnedpubkey: sha256//<b64>;sha256//<b64>
    Curl,
    /// an HPKP header: pin-sha256="<b64>"; ...
    Hpkp,
    /// 64 hex digits, one per line
    Hex,
    /// a pinprobe profile (TOML)
    Toml,
    /// Chromium's static pinsets JSON
    Chromium,
    /// Android's network security config XML
    Android,
}

impl PinFormatArg {
    pub fn format(self) -> PinFormat {
        match self {
            PinFormatArg::Okhttp => PinFormat::Okhttp,
            PinFormatArg::Curl => PinFormat::Curl,
            PinFormatArg::Hpkp => PinFormat::Hpkp,
            PinFormatArg::Hex => PinFormat::Hex,
            PinFormatArg::Toml => PinFormat::Toml,
            PinFormatArg::Chromium => PinFormat::Chromium,
            PinFormatArg::Android => PinFormat::Android,
        }
    }
}

/// The formats of `test`'s report.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// one line per endpoint in the shape of `mdatp connectivity test`, advice at the end
    Text,
    /// one JSON document with every result
    Json,
    /// one JSON result per line, written as each probe finishes
    Ndjson,
    /// JUnit XML: one testsuite per profile, one testcase per endpoint and route
    Junit,
    /// Prometheus text format, for node_exporter's textfile collector: a series per endpoint
    /// and route
    Prometheus,
    /// one line for fleet inventories: the worst verdict first, then the counts
    Summary,
}

impl FormatArg {
    pub fn format(self) -> Format {
        match self {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Ndjson => Format::Ndjson,
            FormatArg::Junit => Format::Junit,
            FormatArg::Prometheus => Format::Prometheus,
            FormatArg::Summary => Format::Summary,
        }
    }
}

/// The formats of a one-document report (`inspect`, `demo`).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DocumentFormatArg {
    /// for terminals
    Text,
    /// one JSON document
    Json,
}

impl DocumentFormatArg {
    pub fn format(self) -> Format {
        match self {
            DocumentFormatArg::Text => Format::Text,
            DocumentFormatArg::Json => Format::Json,
        }
    }
}

/// The names `--fail-on` takes, from the library's list (verdict codes are accepted but not
/// listed: they fail the run already).
pub fn fail_on_names() -> PossibleValuesParser {
    PossibleValuesParser::new(
        pinprobe::policy::names()
            .into_iter()
            .map(|n| PossibleValue::new(n.name).help(n.help).hide(n.hidden)),
    )
}

/// Which stores make up the OS anchor set.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum OsStoreArg {
    /// SSL_CERT_FILE and SSL_CERT_DIR when either is set, else the platform's store (as
    /// rustls-native-certs reads it)
    #[default]
    Auto,
    /// the platform's store (the keychain on macOS), SSL_CERT_FILE and SSL_CERT_DIR ignored
    Platform,
    /// the platform's store and the files of SSL_CERT_FILE and SSL_CERT_DIR
    Both,
}

impl OsStoreArg {
    pub fn choice(self) -> OsStoreChoice {
        match self {
            OsStoreArg::Auto => OsStoreChoice::Auto,
            OsStoreArg::Platform => OsStoreChoice::Platform,
            OsStoreArg::Both => OsStoreChoice::Both,
        }
    }
}

/// A geography of Defender's cloud.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GeoArg {
    /// United States
    #[value(name = "US")]
    Us,
    /// European Union
    #[value(name = "EU")]
    Eu,
    /// United Kingdom
    #[value(name = "UK")]
    Uk,
    /// Australia
    #[value(name = "AU")]
    Au,
    /// Switzerland
    #[value(name = "CH")]
    Ch,
    /// India
    #[value(name = "IN")]
    In,
}

impl GeoArg {
    pub fn geo(self) -> Geo {
        match self {
            GeoArg::Us => Geo::Us,
            GeoArg::Eu => Geo::Eu,
            GeoArg::Uk => Geo::Uk,
            GeoArg::Au => Geo::Au,
            GeoArg::Ch => Geo::Ch,
            GeoArg::In => Geo::In,
        }
    }
}

/// A list of Defender's endpoints.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CatalogArg {
    /// the troubleshooting guide's endpoints
    Guide,
    /// the standard URL set of the geography
    Standard,
    /// the streamlined set of the geography (*.endpoint.security.microsoft.com)
    Streamlined,
    /// the guide's and both sets of the geography
    All,
}

impl CatalogArg {
    pub fn choice(self) -> Choice {
        match self {
            CatalogArg::Guide => Choice::One(Catalog::Guide),
            CatalogArg::Standard => Choice::One(Catalog::Standard),
            CatalogArg::Streamlined => Choice::One(Catalog::Streamlined),
            CatalogArg::All => Choice::All,
        }
    }
}
