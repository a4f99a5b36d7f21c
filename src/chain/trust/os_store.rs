//! Where the OS store is read from, and what a run says about it.
//!
//! rustls-native-certs reads `SSL_CERT_FILE` and `SSL_CERT_DIR` *instead of* the platform's store
//! as soon as either is set (on macOS the keychain, on Windows the system store, elsewhere the
//! distribution's bundle). A user who sets them for another tool would then be told nothing of a
//! root installed in the keychain, the one an inspecting proxy's CA is deployed to. So the run
//! names its source ([`OsStoreSource`]), counts what it read, warns when a keychain or a Windows
//! store was passed over ([`system_store_skipped`]), and `--os-store` ([`OsStoreChoice`]) can read
//! the platform's store with or without the variables.
//!
//! The platform's store is read without the variables by a copy of pinprobe started with them
//! removed from its environment ([`PLATFORM_STORE_ARG`]): rustls-native-certs has no other way
//! to skip them, and a multithreaded program must not change its own environment.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use rustls::pki_types::CertificateDer;
use serde::Serialize;

/// The variable naming a PEM file of anchors.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
/// The variable naming directories of PEM files (separated as `PATH` is).
pub const SSL_CERT_DIR: &str = "SSL_CERT_DIR";

/// The argument that makes `pinprobe` write the platform's store to standard output for its
/// parent (see [`write_platform_store`]); not a subcommand a user types.
pub const PLATFORM_STORE_ARG: &str = "__platform-store";

/// `--os-store`: which stores make up the OS anchor set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OsStoreChoice {
    /// as rustls-native-certs does: the variables when either is set, else the platform's store
    #[default]
    Auto,
    /// the platform's store, the variables ignored
    Platform,
    /// the platform's store (the variables ignored) and the variables' file and directories
    Both,
}

/// What `SSL_CERT_FILE` and `SSL_CERT_DIR` say, read as rustls-native-certs reads them: the file
/// when the variable is set (even empty), the directories split like `PATH`, empty entries
/// dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertVars {
    /// `SSL_CERT_FILE`
    pub file: Option<PathBuf>,
    /// `SSL_CERT_DIR`, split
    pub dirs: Vec<PathBuf>,
}

impl CertVars {
    /// The variables of this process's environment (read, never changed).
    pub fn from_env() -> CertVars {
        CertVars {
            file: std::env::var_os(SSL_CERT_FILE).map(PathBuf::from),
            dirs: std::env::var_os(SSL_CERT_DIR)
                .map(|dirs| {
                    std::env::split_paths(&dirs)
                        .filter(|p| !p.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Neither variable says anything: rustls-native-certs reads the platform's store.
    pub fn is_empty(&self) -> bool {
        self.file.is_none() && self.dirs.is_empty()
    }
}

impl std::fmt::Display for CertVars {
    /// `SSL_CERT_FILE /f`, `SSL_CERT_DIR /a:/b`, or both joined with `and`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{SSL_CERT_FILE} {}", file.display())?;
            if !self.dirs.is_empty() {
                f.write_str(" and ")?;
            }
        }
        if !self.dirs.is_empty() {
            let dirs = std::env::join_paths(&self.dirs)
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_else(|_| {
                    let shown: Vec<_> = self.dirs.iter().map(|d| d.display().to_string()).collect();
                    shown.join(", ")
                });
            write!(f, "{SSL_CERT_DIR} {dirs}")?;
        }
        Ok(())
    }
}

/// Where the anchors of the OS store were read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OsStoreSource {
    /// the platform's store: the keychain on macOS, the system store on Windows, the
    /// distribution's bundle and directory elsewhere
    Platform,
    /// `SSL_CERT_FILE` and/or `SSL_CERT_DIR`, in place of the platform's store
    Variables(CertVars),
    /// the platform's store and the variables' file and directories (`--os-store both`)
    PlatformAndVariables(CertVars),
    /// anchors a caller gave (the demo's lab, tests), with what they are
    Given(String),
}

impl OsStoreSource {
    /// What a run with `choice` reads, given the variables.
    pub fn decide(choice: OsStoreChoice, vars: CertVars) -> OsStoreSource {
        match choice {
            _ if vars.is_empty() => OsStoreSource::Platform,
            OsStoreChoice::Auto => OsStoreSource::Variables(vars),
            OsStoreChoice::Platform => OsStoreSource::Platform,
            OsStoreChoice::Both => OsStoreSource::PlatformAndVariables(vars),
        }
    }

    /// The variables read, if any.
    pub fn vars(&self) -> Option<&CertVars> {
        match self {
            OsStoreSource::Variables(vars) | OsStoreSource::PlatformAndVariables(vars) => {
                Some(vars)
            }
            OsStoreSource::Platform | OsStoreSource::Given(_) => None,
        }
    }

    /// `platform`, `variables`, `both` or `given`: the JSON's `source`.
    pub fn code(&self) -> &'static str {
        match self {
            OsStoreSource::Platform => "platform",
            OsStoreSource::Variables(_) => "variables",
            OsStoreSource::PlatformAndVariables(_) => "both",
            OsStoreSource::Given(_) => "given",
        }
    }
}

impl std::fmt::Display for OsStoreSource {
    /// The header's words: `the platform's store`, `SSL_CERT_FILE /f (the platform's store not
    /// read)`, `the platform's store plus SSL_CERT_DIR /d`, or what a caller gave.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OsStoreSource::Platform => f.write_str("the platform's store"),
            OsStoreSource::Variables(vars) => {
                write!(f, "{vars} (the platform's store not read)")
            }
            OsStoreSource::PlatformAndVariables(vars) => {
                write!(f, "the platform's store plus {vars}")
            }
            OsStoreSource::Given(what) => f.write_str(what),
        }
    }
}

/// The kind of store the platform keeps, for the warning of [`system_store_skipped`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformStore {
    /// macOS: the keychain
    Keychain,
    /// Windows: the system certificate store
    Windows,
    /// files (a bundle and a directory), which the variables usually point at anyway
    Files,
}

impl PlatformStore {
    /// The platform this binary was built for.
    pub fn current() -> PlatformStore {
        if cfg!(target_os = "macos") {
            PlatformStore::Keychain
        } else if cfg!(windows) {
            PlatformStore::Windows
        } else {
            PlatformStore::Files
        }
    }
}

/// The warning of a run whose variables replaced a keychain or a Windows store, which is where
/// an inspecting proxy's root is installed; `None` when the platform's store was read, or is
/// made of files.
pub fn system_store_skipped(platform: PlatformStore, source: &OsStoreSource) -> Option<String> {
    let OsStoreSource::Variables(vars) = source else {
        return None;
    };
    let store = match platform {
        PlatformStore::Keychain => "the keychain",
        PlatformStore::Windows => "the Windows certificate store",
        PlatformStore::Files => return None,
    };
    let set = match (&vars.file, vars.dirs.is_empty()) {
        (Some(_), false) => "SSL_CERT_FILE and SSL_CERT_DIR are",
        (Some(_), true) => "SSL_CERT_FILE is",
        (None, _) => "SSL_CERT_DIR is",
    };
    Some(format!(
        "{set} set, so the OS store was read from {vars} and not from {store}: a root installed \
         there (an inspecting proxy's) is not seen; --os-store both reads both"
    ))
}

/// What reading a store gave: the certificates and the problems met.
#[derive(Debug, Default)]
pub struct Loaded {
    /// the certificates read
    pub certs: Vec<CertificateDer<'static>>,
    /// problems met (unreadable files, a store that would not open)
    pub errors: Vec<String>,
}

impl Loaded {
    fn from_native(result: rustls_native_certs::CertificateResult) -> Loaded {
        Loaded {
            certs: result.certs,
            errors: result.errors.iter().map(ToString::to_string).collect(),
        }
    }

    fn extend(&mut self, other: Loaded) {
        for cert in other.certs {
            if !self.certs.contains(&cert) {
                self.certs.push(cert);
            }
        }
        self.errors.extend(other.errors);
    }
}

/// Reads the certificates `source` (decided from this process's variables) names, never
/// changing the environment.
pub fn load(source: &OsStoreSource) -> Loaded {
    match source {
        OsStoreSource::Platform if CertVars::from_env().is_empty() => {
            Loaded::from_native(rustls_native_certs::load_native_certs())
        }
        OsStoreSource::Platform => platform_in_child(),
        // exactly what rustls-native-certs reads, the variables being these
        OsStoreSource::Variables(_) => {
            Loaded::from_native(rustls_native_certs::load_native_certs())
        }
        OsStoreSource::PlatformAndVariables(vars) => {
            let mut loaded = platform_in_child();
            loaded.extend(load_vars(vars));
            loaded
        }
        OsStoreSource::Given(_) => Loaded::default(),
    }
}

/// The variables' file and directories, read as rustls-native-certs reads them.
fn load_vars(vars: &CertVars) -> Loaded {
    let mut loaded = Loaded::from_native(rustls_native_certs::load_certs_from_paths(
        vars.file.as_deref(),
        None,
    ));
    for dir in &vars.dirs {
        loaded.extend(Loaded::from_native(
            rustls_native_certs::load_certs_from_paths(None, Some(dir)),
        ));
    }
    loaded
}

/// The platform's store as a copy of pinprobe without the variables reads it.
fn platform_in_child() -> Loaded {
    let failed = |why: String| {
        Loaded {
        certs: Vec::new(),
        errors: vec![format!(
            "the platform's store could not be read without {SSL_CERT_FILE} and {SSL_CERT_DIR}: {why}"
        )],
    }
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return failed(format!("pinprobe's own path is unknown ({e})")),
    };
    let output = Command::new(&exe)
        .arg(PLATFORM_STORE_ARG)
        .env_remove(SSL_CERT_FILE)
        .env_remove(SSL_CERT_DIR)
        .stdin(std::process::Stdio::null())
        .output();
    match output {
        Ok(out) if out.status.success() => read_platform_store(&out.stdout),
        Ok(out) => failed(format!(
            "{} ended with {}: {}",
            exe.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => failed(format!("{} did not start ({e})", exe.display())),
    }
}

/// Writes the platform's store, as rustls-native-certs reads it in this process, for the parent
/// that started this one with [`PLATFORM_STORE_ARG`]: a line `cert BASE64-DER` per certificate
/// and `error MESSAGE` per problem.
pub fn write_platform_store(out: &mut impl Write) -> io::Result<()> {
    let loaded = Loaded::from_native(rustls_native_certs::load_native_certs());
    let engine = base64::engine::general_purpose::STANDARD;
    for cert in &loaded.certs {
        writeln!(out, "cert {}", engine.encode(cert.as_ref()))?;
    }
    for error in &loaded.errors {
        writeln!(out, "error {}", error.replace(['\n', '\r'], " "))?;
    }
    out.flush()
}

/// Reads what [`write_platform_store`] wrote.
fn read_platform_store(bytes: &[u8]) -> Loaded {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut loaded = Loaded::default();
    for line in String::from_utf8_lossy(bytes).lines() {
        match line.split_once(' ') {
            Some(("cert", b64)) => match engine.decode(b64) {
                Ok(der) => loaded.certs.push(CertificateDer::from(der)),
                Err(e) => loaded.errors.push(format!(
                    "the platform's store: a certificate not in base64 ({e})"
                )),
            },
            Some(("error", message)) => loaded.errors.push(message.to_string()),
            _ => loaded
                .errors
                .push(format!("the platform's store: an unexpected line {line:?}")),
        }
    }
    loaded
}

/// The OS store of a run as the reports give it: where it came from, how many anchors it held,
/// the problems met reading it, and the warning of [`system_store_skipped`].
#[derive(Clone, Debug, Serialize)]
pub struct OsStoreReport {
    /// `platform`, `variables`, `both` or `given`
    pub source: &'static str,
    /// `SSL_CERT_FILE`, when it was read (shown lossily: a path that is not UTF-8 must not stop
    /// the JSON report)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_cert_file: Option<String>,
    /// the directories of `SSL_CERT_DIR`, when they were read
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssl_cert_dir: Vec<String>,
    /// the header's words for the source
    pub description: String,
    /// anchors in the set
    pub anchors: usize,
    /// problems met while reading it
    pub load_errors: Vec<String>,
    /// the platform's keychain or system store was not read because of the variables
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl OsStoreReport {
    /// The report of a store read from `source`, on `platform`.
    pub fn new(
        source: &OsStoreSource,
        platform: PlatformStore,
        anchors: usize,
        load_errors: Vec<String>,
    ) -> OsStoreReport {
        let vars = source.vars();
        OsStoreReport {
            source: source.code(),
            ssl_cert_file: vars.and_then(|v| v.file.as_ref().map(|f| f.display().to_string())),
            ssl_cert_dir: vars
                .map(|v| v.dirs.iter().map(|d| d.display().to_string()).collect())
                .unwrap_or_default(),
            description: source.to_string(),
            anchors,
            load_errors,
            warning: system_store_skipped(platform, source),
        }
    }
}

impl std::fmt::Display for OsStoreReport {
    /// `N anchors from SOURCE`, and the problems met.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.anchors == 1 { "" } else { "s" };
        write!(f, "{} anchor{s} from {}", self.anchors, self.description)?;
        if !self.load_errors.is_empty() {
            let n = self.load_errors.len();
            let s = if n == 1 { "" } else { "s" };
            write!(
                f,
                "; {n} problem{s} reading it: {}",
                self.load_errors.join("; ")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> CertVars {
        CertVars {
            file: Some(path.into()),
            dirs: Vec::new(),
        }
    }

    fn dir(path: &str) -> CertVars {
        CertVars {
            file: None,
            dirs: vec![path.into()],
        }
    }

    #[test]
    fn the_choice_and_the_variables_decide_the_source() {
        use OsStoreChoice::*;
        let none = CertVars::default();
        let cases = [
            (Auto, none.clone(), OsStoreSource::Platform),
            (Platform, none.clone(), OsStoreSource::Platform),
            (Both, none, OsStoreSource::Platform),
            (Auto, file("/f"), OsStoreSource::Variables(file("/f"))),
            (Platform, file("/f"), OsStoreSource::Platform),
            (
                Both,
                dir("/d"),
                OsStoreSource::PlatformAndVariables(dir("/d")),
            ),
        ];
        for (choice, vars, want) in cases {
            assert_eq!(
                OsStoreSource::decide(choice, vars.clone()),
                want,
                "{choice:?} {vars:?}"
            );
        }
    }

    /// The keychain (and the Windows store) is skipped only when the variables replace it;
    /// a platform of files is not warned about, nor is a run that read the platform's store.
    #[test]
    fn the_warning_is_given_when_the_variables_replace_a_keychain() {
        use PlatformStore::*;
        let replaced = OsStoreSource::Variables(file("/etc/corp.pem"));
        let cases = [
            (Keychain, replaced.clone(), true),
            (Windows, replaced.clone(), true),
            (Files, replaced, false),
            (Keychain, OsStoreSource::Platform, false),
            (
                Keychain,
                OsStoreSource::PlatformAndVariables(file("/etc/corp.pem")),
                false,
            ),
            (Keychain, OsStoreSource::Given("lab".into()), false),
            (Keychain, OsStoreSource::Variables(dir("/etc/certs")), true),
        ];
        for (platform, source, warns) in cases {
            let warning = system_store_skipped(platform, &source);
            assert_eq!(warning.is_some(), warns, "{platform:?} {source:?}");
        }
        let warning = system_store_skipped(Keychain, &OsStoreSource::Variables(file("/c.pem")))
            .unwrap_or_default();
        assert!(
            warning.starts_with("SSL_CERT_FILE is set, so the OS store was read from SSL_CERT_FILE /c.pem and not from the keychain"),
            "{warning}"
        );
        assert!(warning.ends_with("--os-store both reads both"), "{warning}");
    }

    #[test]
    fn the_header_names_the_source() {
        let both = CertVars {
            file: Some("/f.pem".into()),
            dirs: vec!["/a".into(), "/b".into()],
        };
        assert_eq!(
            OsStoreSource::Variables(both.clone()).to_string(),
            "SSL_CERT_FILE /f.pem and SSL_CERT_DIR /a:/b (the platform's store not read)"
        );
        assert_eq!(
            OsStoreSource::PlatformAndVariables(dir("/d")).to_string(),
            "the platform's store plus SSL_CERT_DIR /d"
        );
        let report = OsStoreReport::new(
            &OsStoreSource::Variables(file("/f.pem")),
            PlatformStore::Files,
            1,
            vec!["opening directory: gone at '/d'".into()],
        );
        assert_eq!(
            report.to_string(),
            "1 anchor from SSL_CERT_FILE /f.pem (the platform's store not read); 1 problem reading it: opening directory: gone at '/d'"
        );
    }

    #[test]
    fn the_platform_store_crosses_from_the_child_intact() {
        let der = rcgen::KeyPair::generate()
            .and_then(|key| rcgen::CertificateParams::new(Vec::new())?.self_signed(&key))
            .map(|c| c.der().clone())
            .expect("a test certificate");
        let mut written = Vec::new();
        let engine = base64::engine::general_purpose::STANDARD;
        writeln!(written, "cert {}", engine.encode(der.as_ref())).unwrap();
        writeln!(written, "error failed to load system trust settings").unwrap();
        let loaded = read_platform_store(&written);
        assert_eq!(loaded.certs, vec![der]);
        assert_eq!(loaded.errors, ["failed to load system trust settings"]);
    }
}
