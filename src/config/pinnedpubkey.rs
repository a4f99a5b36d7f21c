//! `--pinnedpubkey`: pins given on the command line in curl's syntax, as an ad-hoc pin set for
//! the URL arguments and `--targets`.
//!
//! curl reads the value as `sha256//<base64>` entries separated by `;` when it starts with
//! `sha256//`, and otherwise as the path of a file holding one public key (a PEM `PUBLIC KEY`
//! block or DER SubjectPublicKeyInfo). pinprobe reads it the same way, so that a string copied
//! from a curl command line means the same keys here; it is stricter on what curl would
//! silently never match (a malformed hash, a space around an entry, a certificate where a key
//! belongs): those end the run with the entry named. The set is matched like any other, on
//! every certificate of the verified path, where curl compares the leaf alone.

use std::borrow::Cow;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::Options;
use crate::error::Error;
use crate::input;
use crate::pins::{Pin, PinEntry, PinSet};

/// The name of the ad-hoc pin set, in reports and JSON.
pub const SET: &str = "pinnedpubkey";

/// The flag, for messages.
const FLAG: &str = "--pinnedpubkey";

/// What starts curl's list of hashes; a value without it is a file.
const HASH_PREFIX: &str = "sha256//";

/// The file `--pinnedpubkey` names, when its value is one: the value itself, unless it starts
/// with `sha256//`, as curl decides.
pub fn key_file(value: &str) -> Option<&Path> {
    (!value.starts_with(HASH_PREFIX)).then(|| Path::new(value))
}

/// The options with the pin set of `--pinnedpubkey` added to `pinsets` and named for the URL
/// arguments and `--targets`, as `--pinset` names one; the options as they are without it.
pub(super) fn apply<'a>(
    o: &'a Options,
    pinsets: &mut Vec<PinSet>,
) -> Result<Cow<'a, Options>, Error> {
    let Some(value) = &o.pinnedpubkey else {
        return Ok(Cow::Borrowed(o));
    };
    if o.pinset.is_some() {
        return Err(Error::usage(
            FLAG,
            "gives the pin set of the URL arguments, as --pinset does: give one or the other",
        ));
    }
    if let Some(existing) = pinsets.iter().find(|s| s.name == SET) {
        return Err(Error::usage(
            FLAG,
            format!(
                "{} already has a pin set named {SET:?}, the name of the set {FLAG} makes: rename that set, or give its pins with --pinset {SET}",
                existing.origin
            ),
        ));
    }
    pinsets.push(pin_set(value)?);
    Ok(Cow::Owned(Options {
        pinset: Some(SET.to_string()),
        ..o.clone()
    }))
}

/// The pin set of a `--pinnedpubkey` value.
pub fn pin_set(value: &str) -> Result<PinSet, Error> {
    let pins = match key_file(value) {
        None => hashes(value)?,
        Some(path) => vec![key(path, value)?],
    };
    Ok(PinSet {
        name: SET.to_string(),
        description: Some(format!("{FLAG}, in curl's syntax")),
        pins,
        origin: FLAG.to_string(),
        // curl passes a chain when any of them matches: the others are not stale
        alternatives: true,
        ..PinSet::default()
    })
}

/// `sha256//<base64>` entries separated by `;`: each one exactly so, as curl compares the text.
fn hashes(value: &str) -> Result<Vec<PinEntry>, Error> {
    let entries: Vec<&str> = value.split(';').collect();
    let mut pins = Vec::new();
    for (n, entry) in entries.iter().enumerate() {
        let which = if entries.len() == 1 {
            format!("{entry:?}")
        } else {
            format!("entry {} {entry:?}", n + 1)
        };
        let bad = |why: &str| Error::usage(FLAG, format!("{which} {why}"));
        if entry.is_empty() {
            return Err(bad(
                "is empty: entries are separated by one ';', with none after the last",
            ));
        }
        if entry.trim() != *entry {
            return Err(bad(
                "has spaces around it, which curl keeps and never matches: remove them",
            ));
        }
        let Some(b64) = entry.strip_prefix(HASH_PREFIX) else {
            let hint = if entry.starts_with("sha256/") {
                "has one slash: curl's form is sha256//<base64>"
            } else {
                "is not sha256//<base64>: in a list, every entry is one"
            };
            return Err(bad(hint));
        };
        let pin = BASE64
            .decode(b64)
            .map_err(|e| {
                format!(
                    "is not a pin: bad base64 ({e}): expected 44 base64 characters ending in '='"
                )
            })
            .and_then(|digest| Pin::from_digest(&digest).map_err(|e| format!("is not a pin: {e}")))
            .map_err(|why| bad(&why))?;
        pins.push(PinEntry {
            pin,
            label: None,
            source: Some(FLAG.to_string()),
        });
    }
    Ok(pins)
}

/// The pin of the public key in the file at `path`.
fn key(path: &Path, value: &str) -> Result<PinEntry, Error> {
    if !input::is_stdin(path) && !path.exists() {
        // curl reads ` sha256//...` as a file too: the hint looks past the space
        let text = value.trim();
        let looks_like_a_pin = text.starts_with("sha256/")
            || text.starts_with("pin-sha256")
            || text.contains(';')
            || (text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()));
        let why = if looks_like_a_pin {
            format!("{value:?} is neither curl's list of pins nor a file: curl's pins are sha256//<base64> (two slashes), separated by ';'")
        } else {
            format!("{value:?} is no file: give a file holding a public key (PEM or DER), or sha256//<base64> pins separated by ';'")
        };
        return Err(Error::usage(FLAG, why));
    }
    let name = input::name(path);
    let bytes = input::read_bounded(path, input::PINNED_PUBKEY)?;
    let spki = spki_der(&bytes, &name).map_err(|why| Error::File {
        file: format!("{FLAG} {name}"),
        message: why,
    })?;
    Ok(PinEntry {
        pin: Pin::of_spki(&spki),
        label: Some(format!("the public key in {name}")),
        source: Some(FLAG.to_string()),
    })
}

/// The DER SubjectPublicKeyInfo a key file holds: its one PEM `PUBLIC KEY` block, or the whole
/// file as DER. The message says what the file holds instead, and how to get the key from it.
fn spki_der(bytes: &[u8], name: &str) -> Result<Vec<u8>, String> {
    let der = if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let blocks = pem::parse_many(bytes).map_err(|e| format!("not PEM: {e}"))?;
        let keys: Vec<&pem::Pem> = blocks.iter().filter(|b| b.tag() == "PUBLIC KEY").collect();
        match (keys.as_slice(), blocks.first()) {
            ([key], _) => key.contents().to_vec(),
            ([], Some(other)) => return Err(not_a_key(other.tag(), name)),
            ([], None) => return Err("no PEM block: expected -----BEGIN PUBLIC KEY-----".into()),
            (many, _) => {
                return Err(format!(
                    "{} public keys: curl reads only the first; give one key per file, or their sha256// pins separated by ';'",
                    many.len()
                ))
            }
        }
    } else {
        bytes.to_vec()
    };
    match SubjectPublicKeyInfo::from_der(&der) {
        Ok(([], _)) => Ok(der),
        Ok((rest, _)) => Err(match rest.len() {
            1 => "1 byte follows the public key: give the key alone".to_string(),
            n => format!("{n} bytes follow the public key: give the key alone"),
        }),
        Err(_) if x509_parser::parse_x509_certificate(&der).is_ok() => {
            Err(not_a_key("CERTIFICATE", name))
        }
        Err(_) => Err(
            "neither a PEM public key (-----BEGIN PUBLIC KEY-----) nor a DER SubjectPublicKeyInfo"
                .into(),
        ),
    }
}

/// Why a PEM block of another kind is not the key, and the command that gives the key from
/// the file `name`.
fn not_a_key(tag: &str, name: &str) -> String {
    let fix = match tag {
        "CERTIFICATE" | "TRUSTED CERTIFICATE" => {
            "a certificate, not a public key: take its key with `openssl x509 -in FILE -pubkey -noout`"
        }
        "RSA PUBLIC KEY" => {
            "an RSA key in PKCS #1 form, not a SubjectPublicKeyInfo: convert it with `openssl rsa -RSAPublicKey_in -in FILE -pubout`"
        }
        t if t.contains("PRIVATE KEY") => {
            "a private key: give the public key alone, `openssl pkey -in FILE -pubout`"
        }
        _ => return format!("holds a {tag} block and no public key: expected -----BEGIN PUBLIC KEY-----"),
    };
    format!("holds {}", fix.replace("FILE", name))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::lab::Pki;

    fn spki_of(pki: &Pki) -> Vec<u8> {
        let (_, cert) = x509_parser::parse_x509_certificate(pki.leaf.cert.as_ref()).unwrap();
        cert.tbs_certificate.subject_pki.raw.to_vec()
    }

    fn message(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn hashes_are_read_as_curl_writes_them() {
        let a = Pin::of_spki(b"a");
        let b = Pin::of_spki(b"b");
        let one = pin_set(&format!("sha256//{}", a.to_base64())).unwrap();
        assert_eq!(one.name, SET);
        assert_eq!(one.pins.iter().map(|p| p.pin).collect::<Vec<_>>(), [a]);
        let two = pin_set(&format!(
            "sha256//{};sha256//{}",
            a.to_base64(),
            b.to_base64()
        ))
        .unwrap();
        assert_eq!(two.pins.iter().map(|p| p.pin).collect::<Vec<_>>(), [a, b]);
    }

    #[test]
    fn a_bad_entry_is_named_with_what_is_wrong() {
        let good = format!("sha256//{}", Pin::of_spki(b"a").to_base64());
        let short = format!("sha256//{}", &Pin::of_spki(b"a").to_base64()[..40]);
        let cases = [
            (format!("{good};"), "entry 2 \"\" is empty"),
            (format!("{good}; {good}"), "entry 2 \" sha256//"),
            (
                format!("{good};sha256/{}", Pin::of_spki(b"b").to_base64()),
                "entry 2 \"sha256/",
            ),
            (format!("{good};{short}"), "entry 2 \"sha256//"),
            (
                "sha256//AAAA".to_string(),
                "\"sha256//AAAA\" is not a pin: the digest is 3 bytes",
            ),
            (
                format!("{good};pin-sha256=\"x\""),
                "is not sha256//<base64>",
            ),
        ];
        for (value, want) in cases {
            let e = message(pin_set(&value).unwrap_err());
            assert!(e.starts_with("--pinnedpubkey: "), "{e}");
            assert!(e.contains(want), "{value}: {e}");
        }
    }

    #[test]
    fn a_value_that_is_no_file_says_which_syntax_was_meant() {
        let okhttp = format!("sha256/{}", Pin::of_spki(b"a").to_base64());
        let e = message(pin_set(&okhttp).unwrap_err());
        assert!(e.contains("two slashes"), "{e}");
        let spaced = format!(" sha256//{}", Pin::of_spki(b"a").to_base64());
        let e = message(pin_set(&spaced).unwrap_err());
        assert!(e.contains("two slashes"), "{e}");
        let e = message(pin_set("/nonexistent/key.pem").unwrap_err());
        assert!(
            e.contains("is no file: give a file holding a public key"),
            "{e}"
        );
    }

    #[test]
    fn key_files_in_pem_and_der_give_the_pin_of_the_key() {
        let pki = Pki::genuine(&["a.test"]).unwrap();
        let spki = spki_of(&pki);
        let want = Pin::of_spki(&spki);
        let dir = tempfile::tempdir().unwrap();
        let pem_file = dir.path().join("key.pem");
        let text = pem::encode(&pem::Pem::new("PUBLIC KEY", spki.clone()));
        std::fs::write(&pem_file, format!("the leaf's key\n{text}")).unwrap();
        let der_file = dir.path().join("key.der");
        std::fs::write(&der_file, &spki).unwrap();
        for file in [&pem_file, &der_file] {
            let set = pin_set(file.to_str().unwrap()).unwrap();
            assert_eq!(set.pins.len(), 1);
            assert_eq!(set.pins[0].pin, want, "{}", file.display());
        }
    }

    #[test]
    fn files_that_hold_no_key_say_what_they_hold() {
        let pki = Pki::genuine(&["a.test"]).unwrap();
        let spki = spki_of(&pki);
        let key = pem::encode(&pem::Pem::new("PUBLIC KEY", spki.clone()));
        let mut trailing = spki.clone();
        trailing.push(0);
        let cases: [(Vec<u8>, &str); 6] = [
            (
                pki.leaf.pem().into_bytes(),
                "holds a certificate, not a public key",
            ),
            (
                pki.leaf.cert.to_vec(),
                "holds a certificate, not a public key",
            ),
            (pki.leaf.key_pem().into_bytes(), "holds a private key"),
            (format!("{key}{key}").into_bytes(), "2 public keys"),
            (trailing, "1 byte follows the public key"),
            (b"hello".to_vec(), "neither a PEM public key"),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (n, (bytes, want)) in cases.into_iter().enumerate() {
            let file = dir.path().join(format!("f{n}"));
            std::fs::write(&file, bytes).unwrap();
            let e = message(pin_set(file.to_str().unwrap()).unwrap_err());
            assert!(e.starts_with("--pinnedpubkey "), "{e}");
            assert!(e.contains(want), "case {n}: {e}");
        }
    }

    #[test]
    fn it_takes_the_place_of_pinset_and_no_other_set() {
        let value = format!("sha256//{}", Pin::of_spki(b"a").to_base64());
        let o = Options {
            pinnedpubkey: Some(value.clone()),
            urls: vec!["https://a.test/".into()],
            ..Options::default()
        };
        let mut sets = Vec::new();
        let applied = apply(&o, &mut sets).unwrap();
        assert_eq!(applied.pinset.as_deref(), Some(SET));
        assert_eq!(sets.len(), 1);

        let both = Options {
            pinset: Some("x".into()),
            ..o.clone()
        };
        let e = message(apply(&both, &mut Vec::new()).unwrap_err());
        assert!(e.contains("one or the other"), "{e}");

        let mut taken = vec![PinSet {
            name: SET.into(),
            origin: "p.toml".into(),
            ..PinSet::default()
        }];
        let e = message(apply(&o, &mut taken).unwrap_err());
        assert!(e.contains("p.toml already has a pin set named"), "{e}");
    }
}
