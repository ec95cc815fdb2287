//! The one path every page takes, whatever its source (ingest, watch
//! folder, scanner): spool the raw bytes and commit a journal row, run the
//! pipeline, file the result atomically, record each step.
//!
//! Once `submit` returns, the page survives any crash: `recover` finishes
//! whatever was under way. Unreadable input goes to quarantine with a
//! `NAME.reason.txt` beside it. Never runs on the async runtime: callers use
//! a blocking thread.

use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::book::{BookId, Naming};
use crate::codec::{self, Frame};
use crate::config::{Config, Dirs};
use crate::pipeline;
use crate::store::filing;
use crate::store::journal::{Added, BookRow, Journal, JournalError};
use crate::store::spool::{sha256_hex, Spool};

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

impl IntakeError {
    /// Whether the error is a full disk (ENOSPC, or SQLite's SQLITE_FULL):
    /// intake pauses and resumes by itself when space returns.
    pub fn is_disk_full(&self) -> bool {
        match self {
            IntakeError::Io { source, .. } => {
                source.kind() == std::io::ErrorKind::StorageFull
                    || source.raw_os_error() == Some(28)
            }
            IntakeError::Journal(JournalError::Sql(rusqlite::Error::SqliteFailure(e, _))) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            _ => false,
        }
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> IntakeError {
    let what = what.into();
    move |source| IntakeError::Io { what, source }
}

type Result<T> = std::result::Result<T, IntakeError>;

/// What became of a submitted file.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    /// Spooled as these pages (id, page number).
    Spooled(Vec<(i64, u32)>),
    /// Already in the book as these page numbers; nothing added.
    Duplicate(Vec<u32>),
    /// Unreadable; copied to quarantine with the reason.
    Quarantined { reason: String, copy: PathBuf },
}

/// What became of one page after processing.
#[derive(Debug, Clone, PartialEq)]
pub enum PageOutcome {
    /// Filed at this path (relative to the archive root).
    Filed {
        seq: u32,
        path: String,
        blank: bool,
    },
    Quarantined {
        seq: Option<u32>,
        reason: String,
    },
}

pub struct Intake {
    cfg: Config,
    naming: Naming,
    dirs: Dirs,
    spool: Spool,
    journal: Mutex<Journal>,
}

impl Intake {
    /// Prepares the folders, opens the journal and clears temp files a crash
    /// may have left in the archive.
    pub fn open(cfg: Config) -> anyhow::Result<Arc<Intake>> {
        let dirs = cfg.prepare_dirs()?;
        let mut journal = Journal::open(&dirs.journal())
            .map_err(|e| anyhow::anyhow!("{}: {e}", dirs.journal().display()))?;
        let spool = Spool::new(&dirs.spool())
            .map_err(|e| anyhow::anyhow!("{}: {e}", dirs.spool().display()))?;
        let swept = filing::sweep_temps(&dirs.archive)?;
        if swept > 0 {
            tracing::warn!(
                swept,
                "removed temp files left in the archive by an interrupted run"
            );
        }
        // A book a crash left half-finished takes pages again.
        if journal.clear_finishing()? > 0 {
            tracing::warn!("a book was being finished when sohoa stopped; it is open again");
        }
        // Renames a page edit planned and a crash interrupted come first.
        crate::store::moves::apply_pending(&mut journal, &dirs)?;
        Ok(Arc::new(Intake {
            naming: cfg.naming(),
            cfg,
            dirs,
            spool,
            journal: Mutex::new(journal),
        }))
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn naming(&self) -> &Naming {
        &self.naming
    }

    pub fn dirs(&self) -> &Dirs {
        &self.dirs
    }

    /// The journal, for reads and for recording events.
    pub fn journal(&self) -> MutexGuard<'_, Journal> {
        // A panic while holding the lock cannot leave SQLite inconsistent:
        // every change is a transaction. Keep going with the inner value.
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The book's journal row, created on first use.
    pub fn book(&self, id: &BookId) -> Result<BookRow> {
        let name = self.naming.render_book(id);
        Ok(self.journal().ensure_book(id, &name)?)
    }

    /// Takes one source file into the book: decodes it to prove it whole,
    /// spools it and commits its pages. Returns the decoded frames so the
    /// caller can process them without decoding again.
    pub fn submit(
        &self,
        book: &BookRow,
        source: &str,
        bytes: &[u8],
    ) -> Result<(Submitted, Vec<Frame>)> {
        self.submit_checked(book, source, bytes, true)
    }

    /// `submit` for a page a scanner just captured: never a duplicate, since
    /// two sheets may scan to the same bytes (blank pages).
    pub fn submit_captured(
        &self,
        book: &BookRow,
        source: &str,
        bytes: &[u8],
    ) -> Result<(Submitted, Vec<Frame>)> {
        self.submit_checked(book, source, bytes, false)
    }

    pub fn submit_checked(
        &self,
        book: &BookRow,
        source: &str,
        bytes: &[u8],
        dedupe: bool,
    ) -> Result<(Submitted, Vec<Frame>)> {
        let sha = sha256_hex(bytes);
        let frames = match codec::decode(bytes) {
            Ok(frames) => frames,
            Err(e) => {
                let reason = e.to_string();
                let copy = self.quarantine(source, &sha, bytes, &reason, Some(&book.name))?;
                self.journal()
                    .add_quarantined(book, source, &sha, &reason)?;
                return Ok((Submitted::Quarantined { reason, copy }, Vec::new()));
            }
        };
        let format = codec::probe_format(bytes);
        let ext = format.map(|f| f.ext()).unwrap_or("bin");
        // Multi-page containers get a hash per frame, so a file rewritten with
        // more pages is recognised; a single image is its file hash.
        let frame_shas: Vec<String> = if frames.len() > 1 || format == Some(codec::Format::Tiff) {
            frames.iter().map(frame_sha256).collect()
        } else {
            vec![sha.clone()]
        };
        let spool_name = self
            .spool
            .put(&sha, ext, bytes)
            .map_err(io(format!("spooling {source}")))?;
        let added = self.journal().add_pages_checked(
            book,
            source,
            &sha,
            &spool_name,
            &frame_shas,
            dedupe,
        )?;
        Ok(match added {
            Added::Pages { pages, first_frame } => {
                let frames = frames.into_iter().skip(first_frame as usize).collect();
                (Submitted::Spooled(pages), frames)
            }
            Added::Duplicate(seqs) => {
                if !self.journal().spool_in_use(&spool_name)? {
                    self.spool
                        .remove(&spool_name)
                        .map_err(io(format!("cleaning spool file {spool_name}")))?;
                }
                (Submitted::Duplicate(seqs), Vec::new())
            }
        })
    }

    /// Keeps a page the scanner cut short: its bytes stay in the spool and
    /// the journal flags it (quarantined, with the reason), so it is never
    /// filed as a whole page and never lost.
    pub fn hold_cut_short(
        &self,
        book: &BookRow,
        source: &str,
        bytes: &[u8],
        reason: &str,
    ) -> Result<i64> {
        let sha = sha256_hex(bytes);
        let ext = codec::probe_format(bytes).map(|f| f.ext()).unwrap_or("raw");
        let spool_name = self
            .spool
            .put(&sha, ext, bytes)
            .map_err(io(format!("spooling {source}")))?;
        Ok(self
            .journal()
            .add_held(book, source, &sha, Some(&spool_name), reason)?)
    }

    /// Quarantines a file that never reached a book (a watch-folder file
    /// that stayed unfinished, or whose folder names no book).
    pub fn quarantine_file(&self, source: &str, bytes: &[u8], reason: &str) -> Result<PathBuf> {
        let copy = self.quarantine(source, &sha256_hex(bytes), bytes, reason, None)?;
        self.journal()
            .record("quarantined", None, None, &format!("{source}: {reason}"))?;
        Ok(copy)
    }

    /// Copies unreadable input to quarantine with `NAME.reason.txt`.
    fn quarantine(
        &self,
        source: &str,
        sha: &str,
        bytes: &[u8],
        reason: &str,
        book: Option<&str>,
    ) -> Result<PathBuf> {
        let base = Path::new(source)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = base.trim_start_matches('.');
        let mut name = if base.is_empty() {
            format!("{}.bin", &sha[..12])
        } else {
            base.to_string()
        };
        let dir = &self.dirs.quarantine;
        if std::fs::read(dir.join(&name)).is_ok_and(|b| b != bytes) {
            name = format!("{}-{name}", &sha[..12]);
        }
        filing::file_atomic(dir, &name, bytes).map_err(io(format!("quarantining {source}")))?;
        let text = format!(
            "file: {source}\nbook: {}\nsha256: {sha}\nwhen: {}\nreason: {reason}\n",
            book.unwrap_or("-"),
            chrono::Local::now().to_rfc3339()
        );
        filing::file_atomic(dir, &format!("{name}.reason.txt"), text.as_bytes())
            .map_err(io(format!("quarantining {source}")))?;
        tracing::warn!(source, reason, "quarantined");
        Ok(dir.join(name))
    }

    /// Runs the pipeline on one spooled page and files it. `frame` is the
    /// already-decoded image, or None to decode it from the spool.
    pub fn process(&self, page_id: i64, frame: Option<Frame>) -> Result<PageOutcome> {
        let page = self.journal().page(page_id)?;
        let book = self.journal().book_of(page_id)?;
        let seq = page.seq;
        let spool_name = page.spool_path.clone().unwrap_or_default();
        let raw = || {
            self.spool
                .read(&spool_name)
                .map_err(io(format!("reading spooled page {page_id}")))
        };
        let frame = match frame {
            Some(f) => f,
            None => match codec::decode_frame(&raw()?, page.frame) {
                Ok(f) => f,
                Err(e) => {
                    return self.quarantine_page(
                        page_id,
                        seq,
                        &page.source,
                        &raw()?,
                        &e.to_string(),
                    )
                }
            },
        };
        let processed = match pipeline::process(frame, &self.cfg.imaging, &self.cfg.output) {
            Ok(p) => p,
            Err(e) => {
                return self.quarantine_page(page_id, seq, &page.source, &raw()?, &e.to_string())
            }
        };
        let Some(seq) = seq else {
            return Ok(PageOutcome::Quarantined {
                seq,
                reason: "page has no number".into(),
            });
        };
        let bytes = &processed.encoded.bytes;
        let report = serde_json::to_string(&processed.report).unwrap_or_default();
        if page.state == crate::store::PageState::Spooled {
            self.journal().mark_processed(
                page_id,
                &sha256_hex(bytes),
                bytes.len() as u64,
                &report,
            )?;
        }
        let rel_dir = self.naming.book_dir(&book.book);
        let name = self
            .naming
            .page_file(&book.book, seq, processed.encoded.ext);
        filing::file_atomic(&self.dirs.archive.join(&rel_dir), &name, bytes)
            .map_err(io(format!("filing page {seq} of {}", book.name)))?;
        let rel = rel_dir.join(&name).to_string_lossy().into_owned();
        self.journal().mark_filed(page_id, &rel)?;
        self.release_spool(page_id, &spool_name)?;
        Ok(PageOutcome::Filed {
            seq,
            path: rel,
            blank: processed.report.blank,
        })
    }

    fn quarantine_page(
        &self,
        page_id: i64,
        seq: Option<u32>,
        source: &str,
        raw: &[u8],
        reason: &str,
    ) -> Result<PageOutcome> {
        let book = self.journal().book_of(page_id)?;
        self.quarantine(source, &sha256_hex(raw), raw, reason, Some(&book.name))?;
        self.journal().mark_quarantined(page_id, reason)?;
        Ok(PageOutcome::Quarantined {
            seq,
            reason: reason.to_string(),
        })
    }

    /// Deletes a spool file once no unfiled page needs it.
    fn release_spool(&self, page_id: i64, spool_name: &str) -> Result<()> {
        let mut j = self.journal();
        j.clear_spool(page_id)?;
        if !spool_name.is_empty() && !j.spool_in_use(spool_name)? {
            self.spool
                .remove(spool_name)
                .map_err(io(format!("cleaning spool file {spool_name}")))?;
        }
        Ok(())
    }

    /// Processes the given pages on `threads` workers.
    pub fn process_many(
        &self,
        pages: Vec<(i64, Option<Frame>)>,
        threads: usize,
    ) -> Vec<(i64, Result<PageOutcome>)> {
        let queue = Mutex::new(pages.into_iter());
        let results = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..threads.max(1) {
                s.spawn(|| loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some((id, frame)) = next else { break };
                    let r = self.process(id, frame);
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((id, r));
                });
            }
        });
        results.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    /// Finishes every page a crash or stop left spooled or processed.
    pub fn recover(&self) -> Result<Vec<(i64, Result<PageOutcome>)>> {
        let pending = self.journal().unfinished()?;
        if !pending.is_empty() {
            tracing::info!(pages = pending.len(), "resuming pages left unfinished");
        }
        Ok(self.process_many(
            pending.into_iter().map(|p| (p.id, None)).collect(),
            self.cfg.workers.threads(),
        ))
    }

    /// Files a list of source files into a book in the given order: one
    /// reader spools them in order (so page numbers follow the list) while
    /// workers process. `on_event` sees each file and page as it completes.
    pub fn run_batch(
        &self,
        book: &BookRow,
        files: &[PathBuf],
        on_event: &(dyn Fn(BatchEvent) + Sync),
    ) -> Result<()> {
        let threads = self.cfg.workers.threads();
        let (tx, rx) = sync_channel::<(i64, Frame)>(threads * 2);
        let rx = Mutex::new(rx);
        std::thread::scope(|s| -> Result<()> {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((id, frame)) = next else { break };
                    on_event(BatchEvent::Page {
                        page_id: id,
                        outcome: self.process(id, Some(frame)),
                    });
                });
            }
            let result = (|| {
                for file in files {
                    let source = file.to_string_lossy();
                    let bytes = match std::fs::read(file) {
                        Ok(b) => b,
                        Err(e) => {
                            on_event(BatchEvent::Unreadable {
                                file: file.clone(),
                                error: e.to_string(),
                            });
                            continue;
                        }
                    };
                    let (submitted, frames) = self.submit(book, &source, &bytes)?;
                    let pages = match &submitted {
                        Submitted::Spooled(p) => p.clone(),
                        _ => Vec::new(),
                    };
                    on_event(BatchEvent::File {
                        file: file.clone(),
                        submitted,
                    });
                    for ((id, _), frame) in pages.into_iter().zip(frames) {
                        if tx.send((id, frame)).is_err() {
                            break;
                        }
                    }
                }
                Ok(())
            })();
            drop(tx);
            result
        })
    }
}

/// Progress of `run_batch`.
#[derive(Debug)]
pub enum BatchEvent {
    File {
        file: PathBuf,
        submitted: Submitted,
    },
    Unreadable {
        file: PathBuf,
        error: String,
    },
    Page {
        page_id: i64,
        outcome: Result<PageOutcome>,
    },
}

/// Hash of a frame's pixels (with its size and layout).
fn frame_sha256(frame: &Frame) -> String {
    use sha2::{Digest, Sha256};
    let img = &frame.image;
    let mut h = Sha256::new();
    h.update(img.width().to_le_bytes());
    h.update(img.height().to_le_bytes());
    h.update(format!("{:?}", img.color()).as_bytes());
    h.update(img.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Sorts names the way people count: p2 before p10.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    natural_cmp_folded(a, b).then_with(|| a.cmp(b))
}

/// Natural order ignoring case.
fn natural_cmp_folded(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.len() - a.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let db = b.len() - b.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let (na, nb) = (
                    a[..da].trim_start_matches('0'),
                    b[..db].trim_start_matches('0'),
                );
                let ord = na
                    .len()
                    .cmp(&nb.len())
                    .then_with(|| na.cmp(nb))
                    .then_with(|| da.cmp(&db));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                let ord = x.to_lowercase().cmp(y.to_lowercase());
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
                a = &a[x.len_utf8()..];
                b = &b[y.len_utf8()..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_counts_like_people() {
        let mut v = vec![
            "p10.png",
            "p2.png",
            "p1.png",
            "P3.png",
            "p02.png",
            "scan-100.tif",
            "scan-20.tif",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            vec![
                "p1.png",
                "p2.png",
                "p02.png",
                "P3.png",
                "p10.png",
                "scan-20.tif",
                "scan-100.tif"
            ]
        );
    }
}
