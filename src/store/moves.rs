//! Carries out the file moves the journal has planned (`file_moves`, see
//! `store::ops`), in order, one at a time, and replays them after a crash.
//!
//! A move never overwrites: it hard-links the file under its new name (which
//! fails if the name is taken), then removes the old name, then marks the
//! move done. Every step can be repeated, so a crash at any point is healed
//! by running the pending moves again before anything else reads the
//! archive. Must never delete a file that has no other name.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::filing;
use super::journal::Journal;
use super::ops::{EditError, FileMove, Root};
use crate::config::Dirs;

/// The trash folder: removed and superseded page images.
pub fn trash_dir(dirs: &Dirs) -> PathBuf {
    dirs.state.join("trash")
}

fn root(dirs: &Dirs, r: Root) -> PathBuf {
    match r {
        Root::Archive => dirs.archive.clone(),
        Root::Trash => trash_dir(dirs),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error(transparent)]
    Journal(#[from] EditError),
    #[error(
        "cannot move {src} to {dst}: {source}; the move is kept and retried at the next start"
    )]
    Io {
        src: String,
        dst: String,
        source: io::Error,
    },
    #[error("cannot move {src} to {dst}: {dst} already holds another file; nothing was overwritten, check both files by hand")]
    Taken { src: String, dst: String },
    #[error("cannot move {src} to {dst}: neither file exists; look for it in the trash and quarantine folders")]
    Missing { src: String, dst: String },
}

/// Runs every pending move in order; returns how many were done.
pub fn apply_pending(journal: &mut Journal, dirs: &Dirs) -> Result<usize, MoveError> {
    let pending = journal.pending_moves()?;
    for m in &pending {
        apply(dirs, m)?;
        journal.move_done(m.id)?;
    }
    Ok(pending.len())
}

fn apply(dirs: &Dirs, m: &FileMove) -> Result<(), MoveError> {
    let src = root(dirs, m.src_root).join(&m.src);
    let dst = root(dirs, m.dst_root).join(&m.dst);
    let show = |p: &Path| p.display().to_string();
    let io_err = |source| MoveError::Io {
        src: show(&src),
        dst: show(&dst),
        source,
    };
    match (exists(&src).map_err(io_err)?, exists(&dst).map_err(io_err)?) {
        (true, false) => {
            let dst_dir = dst.parent().unwrap_or(Path::new("."));
            filing::create_dir_synced(dst_dir).map_err(io_err)?;
            match fs::hard_link(&src, &dst) {
                Ok(()) => {}
                // Another file system (trash on another disk): copy, synced.
                Err(e) if e.raw_os_error() == Some(18) => {
                    let bytes = fs::read(&src).map_err(io_err)?;
                    let name = dst
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let temp = filing::write_temp(dst_dir, &name, &bytes).map_err(io_err)?;
                    if exists(&dst).map_err(io_err)? {
                        return Err(MoveError::Taken {
                            src: show(&src),
                            dst: show(&dst),
                        });
                    }
                    temp.commit().map_err(io_err)?;
                }
                Err(e) => return Err(io_err(e)),
            }
            filing::sync_dir(dst_dir).map_err(io_err)?;
            remove(&src).map_err(io_err)
        }
        (true, true) => {
            if same_file(&src, &dst).map_err(io_err)? {
                remove(&src).map_err(io_err)
            } else {
                Err(MoveError::Taken {
                    src: show(&src),
                    dst: show(&dst),
                })
            }
        }
        (false, true) => Ok(()),
        (false, false) => Err(MoveError::Missing {
            src: show(&src),
            dst: show(&dst),
        }),
    }
}

fn exists(p: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(p) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The same inode (a link made before a crash) or the same bytes.
fn same_file(a: &Path, b: &Path) -> io::Result<bool> {
    let (ma, mb) = (fs::metadata(a)?, fs::metadata(b)?);
    if ma.dev() == mb.dev() && ma.ino() == mb.ino() {
        return Ok(true);
    }
    Ok(ma.len() == mb.len() && fs::read(a)? == fs::read(b)?)
}

fn remove(p: &Path) -> io::Result<()> {
    fs::remove_file(p)?;
    filing::sync_dir(p.parent().unwrap_or(Path::new(".")))
}

/// Links an archive file into the trash under `name`, keeping the original
/// (used before a file is rewritten in place).
pub fn keep_copy(dirs: &Dirs, archive_path: &str, name: &str) -> io::Result<PathBuf> {
    let src = dirs.archive.join(archive_path);
    let dir = trash_dir(dirs);
    filing::create_dir_synced(&dir)?;
    let dst = dir.join(name);
    match fs::hard_link(&src, &dst) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(18) => {
            let bytes = fs::read(&src)?;
            filing::write_temp(&dir, name, &bytes)?.commit()?;
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && same_file(&src, &dst)? => {}
        Err(e) => return Err(e),
    }
    filing::sync_dir(&dir)?;
    Ok(dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(t: &Path) -> Dirs {
        Dirs {
            watch: t.join("w"),
            archive: t.join("a"),
            state: t.join("s"),
            quarantine: t.join("q"),
            done: t.join("d"),
            inbox: t.join("i"),
        }
    }

    fn mv(id: i64, src: &str, dst: &str) -> FileMove {
        FileMove {
            id,
            src_root: Root::Archive,
            src: src.into(),
            dst_root: Root::Archive,
            dst: dst.into(),
        }
    }

    #[test]
    fn moves_are_repeatable_and_never_overwrite() {
        let t = tempfile::tempdir().unwrap();
        let d = dirs(t.path());
        fs::create_dir_all(d.archive.join("B")).unwrap();
        fs::write(d.archive.join("B/p1"), b"one").unwrap();
        fs::write(d.archive.join("B/p2"), b"two").unwrap();
        // Refused: p2 holds another file.
        assert!(matches!(
            apply(&d, &mv(1, "B/p1", "B/p2")),
            Err(MoveError::Taken { .. })
        ));
        apply(&d, &mv(1, "B/p2", "B/p3")).unwrap();
        // Done already: repeating is harmless.
        apply(&d, &mv(1, "B/p2", "B/p3")).unwrap();
        // A crash after the link and before the removal.
        fs::hard_link(d.archive.join("B/p1"), d.archive.join("B/p2")).unwrap();
        apply(&d, &mv(2, "B/p1", "B/p2")).unwrap();
        assert!(!d.archive.join("B/p1").exists());
        assert_eq!(fs::read(d.archive.join("B/p2")).unwrap(), b"one");
        assert_eq!(fs::read(d.archive.join("B/p3")).unwrap(), b"two");
        assert!(matches!(
            apply(&d, &mv(3, "B/x", "B/y")),
            Err(MoveError::Missing { .. })
        ));
    }
}
