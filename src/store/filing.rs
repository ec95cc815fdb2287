//! Atomic filing: a temp file in the target folder, fsync, rename, fsync of
//! the folder. Readers never see a partial file under a final name.
//!
//! Temp files are dot-files ending in `.sohoa-tmp`; a crash can leave one
//! behind, and `sweep_temps` removes them at start-up before anything else
//! reads the archive. Must never write anywhere but the folder it is given.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const TEMP_SUFFIX: &str = ".sohoa-tmp";

/// What filing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    /// The file was written (or replaced).
    Written,
    /// The same bytes were already there; nothing was written.
    AlreadyThere,
}

/// A written, synced temp file not yet renamed into place. Dropping it
/// without `commit` removes it.
pub struct TempFile {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes and syncs `bytes` to a temp file beside `dir/name`.
pub fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<TempFile> {
    create_dir_synced(dir)?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(".{name}.{}-{n}{TEMP_SUFFIX}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    Ok(TempFile {
        temp,
        target: dir.join(name),
        committed: false,
    })
}

impl TempFile {
    /// Renames the temp file into place and syncs the folder.
    pub fn commit(mut self) -> io::Result<()> {
        fs::rename(&self.temp, &self.target)?;
        self.committed = true;
        sync_dir(self.target.parent().unwrap_or(Path::new(".")))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Files `bytes` as `dir/name` atomically. The same bytes already there are
/// recognised and left alone, so filing twice never duplicates or rewrites.
pub fn file_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<Filed> {
    let target = dir.join(name);
    match fs::read(&target) {
        Ok(existing) if existing == bytes => return Ok(Filed::AlreadyThere),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    write_temp(dir, name, bytes)?.commit()?;
    Ok(Filed::Written)
}

/// Fsyncs a folder so a rename or create inside it survives a power cut.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates `dir` and its missing parents, syncing each parent so the new
/// folders themselves survive a power cut.
pub fn create_dir_synced(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.as_os_str().is_empty() || d.is_dir() {
            break;
        }
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    fs::create_dir_all(dir)?;
    for d in missing.iter().rev() {
        if let Some(parent) = d.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// Removes temp files a crash left anywhere under `root`; returns how many.
pub fn sweep_temps(root: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let name = entry.file_name();
            if kind.is_dir() {
                stack.push(entry.path());
            } else if name.to_string_lossy().starts_with('.')
                && name.to_string_lossy().ends_with(TEMP_SUFFIX)
            {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Whether `name` is one of this module's temp files.
pub fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn files_once_and_recognises_the_same_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("Đông Hà/KS/2010");
        assert_eq!(file_atomic(&dir, "p1.jpg", b"one").unwrap(), Filed::Written);
        assert_eq!(
            file_atomic(&dir, "p1.jpg", b"one").unwrap(),
            Filed::AlreadyThere
        );
        assert_eq!(listing(&dir), vec!["p1.jpg"]);
        assert_eq!(file_atomic(&dir, "p1.jpg", b"two").unwrap(), Filed::Written);
        assert_eq!(fs::read(dir.join("p1.jpg")).unwrap(), b"two");
    }

    #[test]
    fn a_crash_before_rename_leaves_nothing_after_the_sweep() {
        let tmp = tempfile::tempdir().unwrap();
        let temp = write_temp(tmp.path(), "p1.jpg", b"half a page").unwrap();
        // A crash: the process dies, no destructor runs.
        std::mem::forget(temp);
        let names = listing(tmp.path());
        assert_eq!(names.len(), 1);
        assert!(is_temp(&names[0]), "{names:?}");
        assert!(!tmp.path().join("p1.jpg").exists());
        assert_eq!(sweep_temps(tmp.path()).unwrap(), 1);
        assert!(listing(tmp.path()).is_empty());
    }

    #[test]
    fn an_error_before_rename_removes_the_temp() {
        let tmp = tempfile::tempdir().unwrap();
        drop(write_temp(tmp.path(), "p1.jpg", b"x").unwrap());
        assert!(listing(tmp.path()).is_empty());
    }

    #[test]
    fn readers_never_see_a_partial_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let big_a = vec![b'a'; 4 << 20];
        let big_b = vec![b'b'; 3 << 20];
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (dir, stop, a, b) = (dir.clone(), stop.clone(), big_a.clone(), big_b.clone());
            std::thread::spawn(move || {
                let mut seen = 0;
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(bytes) = fs::read(dir.join("page.bin")) {
                        assert!(
                            bytes == a || bytes == b,
                            "saw a partial file of {} bytes",
                            bytes.len()
                        );
                        seen += 1;
                    }
                }
                seen
            })
        };
        for i in 0..20 {
            file_atomic(&dir, "page.bin", if i % 2 == 0 { &big_a } else { &big_b }).unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    }
}
