//! Writing the files pinprobe makes (`-o` of every command, `pin --update`): one writer for all
//! of them, so that a file is never left half written and never replaced by surprise.
//!
//! The content goes to a fresh temporary file with a random name, created exclusively (a planted
//! symbolic link is not followed) in the target's directory, which is renamed over the target
//! once complete: on any failure the target is untouched. An existing file is replaced only
//! when asked (`--force`, or `pin --update`, which is itself the request), keeps its
//! permissions, and when it is a symbolic link the file it points to is replaced and the link
//! kept. A target that is not a regular file (`/dev/null`, `/dev/stdout`, a named pipe) cannot
//! be replaced: it is written in place.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::Error;

/// Whether an existing file may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// refuse it, naming `--force`
    Refuse,
    /// replace it (`--force`, or the file `pin --update` rewrites)
    Replace,
}

impl Existing {
    /// `Replace` when `force` is given.
    pub fn forced(force: bool) -> Existing {
        if force {
            Existing::Replace
        } else {
            Existing::Refuse
        }
    }
}

/// A file being written; nothing is visible at its path until [`Output::commit`].
#[derive(Debug)]
pub struct Output {
    /// the path as the user named it, for messages
    shown: String,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// a temporary file to rename over `target` (the path with its links resolved)
    Fresh {
        temporary: BufWriter<NamedTempFile>,
        target: PathBuf,
    },
    /// a device or a pipe, written in place
    InPlace(BufWriter<File>),
}

/// What is at the path before anything is written.
enum Found {
    /// nothing: a new file
    Nothing,
    /// a regular file (through its links, if any), to be replaced
    File {
        target: PathBuf,
        permissions: Permissions,
    },
    /// a device, a pipe or a socket
    Special,
}

impl Output {
    /// Starts writing `path`: refuses an existing file unless `existing` allows its
    /// replacement, and creates the temporary file now, so that a directory where nothing can
    /// be written is found before any work.
    pub fn create(path: &Path, existing: Existing) -> Result<Output, Error> {
        let shown = path.display().to_string();
        let write_error = |source| Error::Write {
            target: shown.clone(),
            source,
        };
        let kind = match find(path, existing)? {
            Found::Special => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(write_error)?;
                Kind::InPlace(BufWriter::new(file))
            }
            Found::Nothing => Kind::Fresh {
                temporary: BufWriter::new(temporary(path, None).map_err(write_error)?),
                target: path.to_path_buf(),
            },
            Found::File {
                target,
                permissions,
            } => Kind::Fresh {
                temporary: BufWriter::new(
                    temporary(&target, Some(permissions)).map_err(write_error)?,
                ),
                target,
            },
        };
        Ok(Output { shown, kind })
    }

    /// Completes the file: the temporary file is flushed to disk and renamed over the target.
    /// Dropping an `Output` without committing it removes the temporary file.
    pub fn commit(self) -> Result<(), Error> {
        let write_error = |source| Error::Write {
            target: self.shown.clone(),
            source,
        };
        match self.kind {
            Kind::InPlace(mut file) => file.flush().map_err(write_error),
            Kind::Fresh { temporary, target } => {
                let temporary = temporary
                    .into_inner()
                    .map_err(|e| write_error(e.into_error()))?;
                temporary.as_file().sync_all().map_err(write_error)?;
                temporary
                    .persist(&target)
                    .map(drop)
                    .map_err(|e| write_error(e.error))
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match &mut self.kind {
            Kind::Fresh { temporary, .. } => temporary.write(bytes),
            Kind::InPlace(file) => file.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.kind {
            Kind::Fresh { temporary, .. } => temporary.flush(),
            Kind::InPlace(file) => file.flush(),
        }
    }
}

/// Writes `bytes` to `path` whole, as [`Output`] does.
pub fn write(path: &Path, existing: Existing, bytes: &[u8]) -> Result<(), Error> {
    let mut output = Output::create(path, existing)?;
    output.write_all(bytes).map_err(|source| Error::Write {
        target: path.display().to_string(),
        source,
    })?;
    output.commit()
}

/// Refuses `path` now if [`Output::create`] would refuse it later: for a command that writes
/// only at its end, so that the refusal comes before the work.
pub fn check(path: &Path, existing: Existing) -> Result<(), Error> {
    find(path, existing).map(drop)
}

/// What is at `path`, and whether it may be written.
fn find(path: &Path, existing: Existing) -> Result<Found, Error> {
    let shown = || path.display().to_string();
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(Error::File {
                    file: shown(),
                    message: "is a symbolic link to a file that does not exist: remove the link or give another file".into(),
                });
            }
            return Ok(Found::Nothing);
        }
        Err(source) => {
            return Err(Error::Write {
                target: shown(),
                source,
            })
        }
    };
    if metadata.is_dir() {
        return Err(Error::File {
            file: shown(),
            message: "is a directory: give a file name".into(),
        });
    }
    if !metadata.is_file() {
        return Ok(Found::Special);
    }
    if existing == Existing::Refuse {
        return Err(Error::Exists { file: shown() });
    }
    let target = std::fs::canonicalize(path).map_err(|source| Error::Write {
        target: shown(),
        source,
    })?;
    Ok(Found::File {
        target,
        permissions: metadata.permissions(),
    })
}

/// A new temporary file beside `target`, with a random name, created exclusively; with the
/// permissions of the file it will replace, else those a new file gets.
fn temporary(target: &Path, permissions: Option<Permissions>) -> io::Result<NamedTempFile> {
    let directory = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".pinprobe-new");
    match permissions {
        Some(permissions) => {
            let file = builder
                .permissions(permissions.clone())
                .tempfile_in(directory)?;
            // the creation mode went through the umask: the target's mode is kept exactly
            file.as_file().set_permissions(permissions)?;
            Ok(file)
        }
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                // as File::create: 0666 less the umask, not the 0600 of a temporary file
                builder.permissions(Permissions::from_mode(0o666));
            }
            builder.tempfile_in(directory)
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{symlink, PermissionsExt};

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_new_file_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.toml");
        write(&path, Existing::Refuse, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        // nothing else is left in the directory
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_existing_file_is_replaced_only_when_asked_and_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, b"hand-written").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        let e = write(&path, Existing::Refuse, b"new").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{} exists: give --force to replace it", path.display())
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"hand-written");
        write(&path, Existing::Replace, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_link_is_kept_and_the_file_it_names_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.toml");
        let link = dir.path().join("link.toml");
        std::fs::write(&real, b"old").unwrap();
        symlink(&real, &link).unwrap();
        write(&link, Existing::Replace, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn an_uncommitted_output_leaves_the_original_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, b"old").unwrap();
        let mut output = Output::create(&path, Existing::Replace).unwrap();
        output.write_all(b"half").unwrap();
        drop(output);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_device_is_written_in_place_and_a_directory_refused() {
        write(Path::new("/dev/null"), Existing::Refuse, b"gone").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let e = write(dir.path(), Existing::Replace, b"x").unwrap_err();
        assert!(
            e.to_string().ends_with("is a directory: give a file name"),
            "{e}"
        );
        let dangling = dir.path().join("dangling");
        symlink(dir.path().join("nothing"), &dangling).unwrap();
        let e = write(&dangling, Existing::Replace, b"x").unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
    }
}
