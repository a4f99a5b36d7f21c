//! Where the files a profile names (`include`, `anchors`) come from: the profile's own
//! directory, or the files compiled in beside the bundled profile.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::input;

/// The files the bundled profile names (`include`, `anchors`), compiled in beside it.
const BUNDLED_FILES: [(&str, &[u8]); 5] = [
    (
        "mde-standard.toml",
        include_bytes!("../../pins/mde-standard.toml"),
    ),
    (
        "mde-streamlined.toml",
        include_bytes!("../../pins/mde-streamlined.toml"),
    ),
    (
        "agent/microsoft-root-2011.pem",
        include_bytes!("../../pins/agent/microsoft-root-2011.pem"),
    ),
    (
        "agent/microsoft-secure-server-ca-2011.pem",
        include_bytes!("../../pins/agent/microsoft-secure-server-ca-2011.pem"),
    ),
    (
        "agent/digicert-global-root-g2.pem",
        include_bytes!("../../pins/agent/digicert-global-root-g2.pem"),
    ),
];

/// Where the files a profile names (`include`, `anchors`) are read from.
#[derive(Clone, Debug)]
pub enum Files {
    /// the files compiled in beside the bundled profile
    Bundled,
    /// the profile's own directory
    Dir(PathBuf),
    /// nowhere: a profile given as text names no file
    None,
    /// not read: the pins alone are wanted (`pins convert`), the files a profile names are
    /// passed over
    Skip,
}

impl Files {
    /// The directory of the file at `path` (the current one for standard input or a bare
    /// name): where that profile's files are read from.
    pub fn beside(path: &Path) -> Files {
        match path.parent() {
            Some(dir) if !input::is_stdin(path) && !dir.as_os_str().is_empty() => {
                Files::Dir(dir.into())
            }
            _ => Files::Dir(PathBuf::from(".")),
        }
    }

    /// The bytes of `name` within `limit`, and the name to report it under; `at` places the
    /// error of a name that is not there at the line that names it.
    pub(super) fn read(
        &self,
        name: &str,
        limit: input::Limit,
        at: &dyn Fn(String) -> Error,
    ) -> Result<(Vec<u8>, String), Error> {
        match self {
            Files::Bundled => BUNDLED_FILES
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(file, bytes)| (bytes.to_vec(), format!("pins/{file} (bundled)")))
                .ok_or_else(|| at(format!("{name:?} is not one of the bundled files"))),
            Files::Dir(dir) => {
                let path = dir.join(name);
                input::read_bounded(&path, limit)
                    .map(|bytes| (bytes, input::name(&path)))
                    .map_err(|e| at(e.with_causes()))
            }
            Files::Skip => Ok((Vec::new(), String::new())),
            Files::None => Err(at(format!(
                "{name:?} cannot be read: this profile was given as text, with no directory to read it from"
            ))),
        }
    }
}
