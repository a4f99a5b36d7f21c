//! Reading the files pinprobe is given, and standard input for `-`: one reader for all of them,
//! each within a size fitted to what the file holds.
//!
//! A file is read whole only up to its limit and one byte more (`Read::take`), so that
//! `--profile /dev/zero` or a log given by mistake ends at once with a message naming the file
//! and the limit, instead of taking the machine's memory. `--targets` is the exception: it is
//! read line by line (`crate::targets`), each line within [`TARGETS_LINE`].

use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// How standard input is named in messages.
pub const STDIN_NAME: &str = "standard input";

/// The largest file of one kind: its size and what the file holds, for the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// the flag or command that reads the file, for the message (`--profile`), or what the
    /// file is when no flag names it (`the installed onboarding file`)
    pub flag: &'static str,
    /// the most bytes accepted
    pub bytes: u64,
    /// what the file holds, with its article (`a profile`)
    pub what: &'static str,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// `--profile FILE`: the bundled profile is 15 KiB; 4 MiB is tens of thousands of endpoints.
pub const PROFILE: Limit = Limit {
    flag: "--profile",
    bytes: 4 * MIB,
    what: "a profile",
};

/// `--pins FILE`: a profile whose pin sets are taken.
pub const PINS: Limit = Limit {
    flag: "--pins",
    bytes: 4 * MIB,
    what: "a profile",
};

/// `pin --update FILE`: the profile to rewrite.
pub const UPDATE: Limit = Limit {
    flag: "pin --update",
    bytes: 4 * MIB,
    what: "a profile",
};

/// A file of a profile's `include`: more endpoints, as large as a profile may be.
pub const INCLUDE: Limit = Limit {
    flag: "include",
    bytes: 4 * MIB,
    what: "a profile",
};

/// A file of a pin set's `anchors`: a few CA certificates, as large as a CA bundle may be.
pub const ANCHORS: Limit = Limit {
    flag: "anchors",
    bytes: 4 * MIB,
    what: "an anchor file",
};

/// `inspect --file FILE`: a chain is a few certificates of a few KiB each.
pub const CHAIN: Limit = Limit {
    flag: "inspect --file",
    bytes: MIB,
    what: "a certificate chain",
};

/// `--cacert FILE`: a system's whole bundle in PEM (Debian's ca-certificates.crt) is about 215 KiB.
pub const CACERT: Limit = Limit {
    flag: "--cacert",
    bytes: 4 * MIB,
    what: "a CA bundle",
};

/// `pins convert FILE`: a pin file of another tool, as large as a profile may be.
pub const PIN_FILE: Limit = Limit {
    flag: "pins convert",
    bytes: 4 * MIB,
    what: "a pin file",
};

/// `--pinnedpubkey FILE`: one public key, within curl's own limit for that file.
pub const PINNED_PUBKEY: Limit = Limit {
    flag: "--pinnedpubkey",
    bytes: MIB,
    what: "a public key file",
};

/// `--pac FILE`: the limit the PAC file has always had (`proxy::pac::Limits`), on disk as on
/// the network.
pub const PAC: Limit = Limit {
    flag: "--pac",
    bytes: MIB,
    what: "a PAC file",
};

/// `--onboarding FILE`: a Defender onboarding package is a few KiB (the blob, its signature and
/// a certificate chain); a script or profile that carries it is not much larger.
pub const ONBOARDING: Limit = Limit {
    flag: "--onboarding",
    bytes: MIB,
    what: "an onboarding package",
};

/// The onboarding package an onboarded agent left (`/etc/opt/microsoft/mdatp/mdatp_onboard.json`),
/// read without a flag naming it: as large as `--onboarding`'s.
pub const INSTALLED_ONBOARDING: Limit = Limit {
    flag: "the installed onboarding file",
    bytes: ONBOARDING.bytes,
    what: ONBOARDING.what,
};

/// One line of `--targets`: a URL is at most a few hundred bytes; a longer line is skipped.
pub const TARGETS_LINE: usize = 8 * 1024;

/// True when `path` means standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How `path` is named in messages: `standard input` for `-`, else the path as given.
pub fn name(path: &Path) -> String {
    if is_stdin(path) {
        STDIN_NAME.to_string()
    } else {
        path.display().to_string()
    }
}

/// A size in the units people think in: `1 MiB`, `8 KiB`, `100 bytes`.
pub fn size_text(bytes: u64) -> String {
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads the file at `path` (standard input for `-`) whole, refusing one larger than `limit`.
pub fn read_bounded(path: &Path, limit: Limit) -> Result<Vec<u8>, Error> {
    if is_stdin(path) {
        return read_from(std::io::stdin().lock(), STDIN_NAME, limit);
    }
    let file = open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let kind = file
        .metadata()
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?
        .file_type();
    if let Some(what) = not_a_file(kind) {
        return Err(Error::File {
            file: name(path),
            message: format!("{what}, not a file: give a regular file, or - for standard input"),
        });
    }
    read_from(file, &name(path), limit)
}

/// Opens `path` for reading without waiting: a named pipe with no writer would block `open`
/// itself, before its kind could be seen.
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// What a file of this kind is, when it is not something pinprobe reads whole: a directory, a
/// named pipe or a socket (whose end may never come). Devices are read within the limit.
fn not_a_file(kind: std::fs::FileType) -> Option<&'static str> {
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a named pipe");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    None
}

/// As [`read_bounded`], as UTF-8 text (see [`text`]).
pub fn read_text(path: &Path, limit: Limit) -> Result<String, Error> {
    text(read_bounded(path, limit)?, &name(path))
}

/// The bytes of the file `file` as UTF-8 text, a byte order mark dropped; bytes that are not
/// UTF-8 are refused with the line of the first bad one.
pub fn text(bytes: Vec<u8>, file: &str) -> Result<String, Error> {
    let bytes = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..valid]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        Error::At {
            file: file.to_string(),
            line,
            message: "not UTF-8 text: save the file as UTF-8".into(),
        }
    })
}

/// Reads `reader` whole, at most `limit` bytes and one more to tell a file of exactly the
/// limit from a larger one; `name` names it in messages.
pub fn read_from(reader: impl Read, name: &str, limit: Limit) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    reader
        .take(limit.bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Read {
            path: name.into(),
            source,
        })?;
    if bytes.len() as u64 > limit.bytes {
        return Err(Error::TooLarge {
            file: format!("{} {name}", limit.flag),
            limit,
        });
    }
    Ok(bytes)
}

/// Refuses standard input given to more than one flag: it can be read only once. `uses` are
/// the flags and their paths.
pub fn stdin_once<'a>(uses: impl IntoIterator<Item = (&'a str, &'a Path)>) -> Result<(), Error> {
    let flags: Vec<&str> = uses
        .into_iter()
        .filter(|(_, path)| is_stdin(path))
        .map(|(flag, _)| flag)
        .collect();
    if flags.len() > 1 {
        return Err(Error::usage(
            flags.join(" and "),
            "each reads `-` from standard input, which can be read only once: give files to all but one",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN: Limit = Limit {
        flag: "--test",
        bytes: 10,
        what: "a test file",
    };

    #[test]
    fn reads_up_to_the_limit_and_refuses_one_byte_more() {
        assert_eq!(
            read_from(&b"123456789"[..], "f", TEN).unwrap(),
            b"123456789"
        );
        assert_eq!(
            read_from(&b"1234567890"[..], "f", TEN).unwrap(),
            b"1234567890"
        );
        let e = read_from(&b"12345678901"[..], "f", TEN).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--test f: larger than the 10 bytes a test file may be"
        );
    }

    #[test]
    fn an_endless_source_stops_at_the_limit() {
        let e = read_from(std::io::repeat(0), "zeros", PROFILE).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--profile zeros: larger than the 4 MiB a profile may be"
        );
    }

    #[test]
    fn a_file_on_disk_is_read_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.pem");
        std::fs::write(&path, vec![b'a'; 11]).unwrap();
        let e = read_bounded(&path, TEN).unwrap_err().to_string();
        assert!(
            e.starts_with("--test ") && e.contains("big.pem: larger than"),
            "{e}"
        );
        let missing = read_bounded(&dir.path().join("missing"), TEN).unwrap_err();
        assert!(missing.to_string().contains("missing"), "{missing}");
    }

    #[test]
    fn standard_input_is_named_as_such() {
        assert_eq!(name(Path::new("-")), "standard input");
        assert_eq!(name(Path::new("./-")), "./-");
        let e = read_from(&[0u8; 11][..], &name(Path::new("-")), TEN).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--test standard input: larger than the 10 bytes a test file may be"
        );
    }

    #[test]
    fn text_that_is_not_utf8_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, b"\xef\xbb\xbfa = 1\nb = \"\xff\"\n").unwrap();
        let e = read_text(&path, PROFILE).unwrap_err().to_string();
        assert!(
            e.ends_with("p.toml:2: not UTF-8 text: save the file as UTF-8"),
            "{e}"
        );
        std::fs::write(&path, b"\xef\xbb\xbfa = 1\n").unwrap();
        assert_eq!(read_text(&path, PROFILE).unwrap(), "a = 1\n");
    }

    #[test]
    fn sizes_are_written_in_their_unit() {
        assert_eq!(size_text(MIB), "1 MiB");
        assert_eq!(size_text(4 * MIB), "4 MiB");
        assert_eq!(size_text(8 * KIB), "8 KiB");
        assert_eq!(size_text(10), "10 bytes");
    }

    #[test]
    fn standard_input_is_given_to_one_flag_at_most() {
        let dash = Path::new("-");
        let file = Path::new("p.toml");
        assert!(stdin_once([("--profile", dash), ("--targets", file)]).is_ok());
        let e = stdin_once([("--profile", dash), ("--targets", dash)]).unwrap_err();
        assert!(
            e.to_string().starts_with("--profile and --targets: "),
            "{e}"
        );
    }
}
