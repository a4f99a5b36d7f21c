//! The bench's PKIs: one per key kind, root -> intermediate -> leaf for `*.bench.test`, written
//! to files for the origin (chain and key) and for the clients (the root).

use std::fs;
use std::path::{Path, PathBuf};

use pinprobe::lab::{self, KeyKind, Leaf, LeafSpec};

use crate::Result;

/// One lab PKI (root -> intermediate -> leaf for `*.bench.test`, all of one key kind) and its
/// files.
pub struct Pki {
    pub label: &'static str,
    pub root_pem: PathBuf,
    pub chain_pem: PathBuf,
    pub key_pem: PathBuf,
    pub leaf: Leaf,
}

impl Pki {
    pub fn new(kind: KeyKind, label: &'static str, dir: &Path) -> Result<Pki> {
        let mut spec = LeafSpec::new(["*.bench.test"]);
        spec.key = kind;
        let lab::Pki { root, inter, leaf } = lab::Pki::with_spec(kind, &spec)?;
        let root_pem = dir.join(format!("root-{label}.pem"));
        let chain_pem = dir.join(format!("chain-{label}.pem"));
        let key_pem = dir.join(format!("key-{label}.pem"));
        fs::write(&root_pem, root.pem())?;
        fs::write(&chain_pem, format!("{}{}", leaf.pem(), inter.pem()))?;
        fs::write(&key_pem, leaf.key_pem())?;
        Ok(Pki {
            label,
            root_pem,
            chain_pem,
            key_pem,
            leaf,
        })
    }
}
