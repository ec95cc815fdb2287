//! The spool: raw page bytes as captured, kept until their pages are filed.
//! Once a file is here and its journal row committed, nothing may lose it.
//!
//! Files are named by content hash, written atomically and fsynced. The
//! spool never decodes or alters what it holds.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::filing;

pub struct Spool {
    dir: PathBuf,
}

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Spool {
    pub fn new(dir: &Path) -> io::Result<Spool> {
        filing::create_dir_synced(dir)?;
        filing::sweep_temps(dir)?;
        Ok(Spool {
            dir: dir.to_path_buf(),
        })
    }

    /// Stores `bytes` durably; returns the spool name. Storing the same
    /// content again is a no-op that returns the same name.
    pub fn put(&self, sha256: &str, ext: &str, bytes: &[u8]) -> io::Result<String> {
        let name = format!("{sha256}.{ext}");
        filing::file_atomic(&self.dir, &name, bytes)?;
        Ok(name)
    }

    pub fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(name))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Removes a spool file whose pages are all filed.
    pub fn remove(&self, name: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => filing::sync_dir(&self.dir),
        }
    }
}
