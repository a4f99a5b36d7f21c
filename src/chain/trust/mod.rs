//! Trust: builds the certificate path twice, against the public anchors (Mozilla's roots plus
//! `--cacert`) and against the OS store, and says which anchor each path reached or why none was.
//!
//! The two answers side by side are what tells interception apart from a broken chain: an
//! inspecting proxy's root is installed in the OS store by the enterprise and is in no public set.
//! Path building uses webpki's `verify_for_usage`, which returns the verified path; the pins are
//! then compared with the certificates on that path only.

mod anchors;
mod checks;
pub mod os_store;
mod path;
mod signed;

pub use signed::leaf_spki;

pub use anchors::{certificates_in, read_certificates, AnchorInfo, AnchorOrigin, AnchorSet, Store};
pub use checks::{check_name, check_validity, NameCheck, ValidityCheck};
pub use os_store::{OsStoreChoice, OsStoreReport, OsStoreSource};
pub use path::{build_path, seen_keys, PathKey, PathReport, PathState, Role, TimeProblem};

#[cfg(test)]
mod tests;
