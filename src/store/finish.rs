//! Finishing a book: the case PDFs and the book bundle (zip of the PDFs,
//! manifest.csv, data sheet) written atomically into the book's archive
//! folder, and the book marked finished in the journal.
//!
//! Refuses, with the reason, while pages are still under way or
//! quarantined. Never changes a page; the bundle is built from the filed
//! page images as they are. With `imaging.blank = "drop"` the pages flagged
//! blank are left out of the case PDFs here, and only here: they keep their
//! numbers, files and journal rows (so cases of a fixed page count never
//! shift), and `Finished::dropped_blank` names every one. A case whose
//! pages are all blank gets no PDF; case numbers are never shifted to close
//! the gap.

use std::path::{Path, PathBuf};

use chrono::TimeZone;

use super::bundle::{self, BookMeta, BundleOptions, CaseInput, PageFile};
use super::filing;
use super::journal::{BookRow, JournalError};
use crate::intake::Intake;

#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error("book {book} is already finished")]
    Finished { book: String },
    #[error("book {book} has no filed pages yet")]
    Empty { book: String },
    #[error("book {book}: every page is blank and imaging.blank = \"drop\" leaves them out; check the scans, or set imaging.blank = \"flag\" to keep them")]
    AllBlank { book: String },
    #[error("book {book} cannot be finished: {pending} page(s) are still being processed; wait a moment and try again")]
    Pending { book: String, pending: u32 },
    #[error(
        "book {book} cannot be finished: {pages} page(s) and {files} file(s) are quarantined ({detail}); \
         rescan or replace them, or finish with --accept-quarantined once you have checked them"
    )]
    Quarantined {
        book: String,
        pages: u32,
        files: u32,
        detail: String,
    },
    #[error("book {book} is being finished already; wait until it is done")]
    Finishing { book: String },
    #[error("book {book} kept changing while it was being finished (pages are still arriving); stop the feeder and try again")]
    Changing { book: String },
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Edit(#[from] super::ops::EditError),
    #[error(transparent)]
    Bundle(#[from] bundle::BundleError),
}

impl FinishError {
    /// The same, in Vietnamese, for the operator page.
    pub fn message_vi(&self) -> String {
        match self {
            FinishError::Finished { book } => format!("Sổ {book} đã hoàn tất."),
            FinishError::Empty { book } => format!("Sổ {book} chưa có trang nào."),
            FinishError::AllBlank { book } => {
                format!("Sổ {book}: mọi trang đều trắng và bị bỏ qua (imaging.blank = \"drop\"); hãy kiểm tra bản quét.")
            }
            FinishError::Pending { book, pending } => {
                format!("Chưa thể hoàn tất sổ {book}: còn {pending} trang đang xử lý, vui lòng đợi.")
            }
            FinishError::Quarantined { book, pages, files, .. } => format!(
                "Chưa thể hoàn tất sổ {book}: có {pages} trang và {files} tệp bị lỗi; hãy quét lại hoặc thay thế."
            ),
            FinishError::Finishing { book } => {
                format!("Sổ {book} đang được hoàn tất; vui lòng đợi.")
            }
            FinishError::Changing { book } => format!(
                "Chưa thể hoàn tất sổ {book}: vẫn đang có trang mới được đưa vào; hãy dừng máy quét rồi thử lại."
            ),
            other => format!("Không thể hoàn tất sổ: {other}"),
        }
    }
}

/// What finishing produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finished {
    pub book: String,
    pub cases: usize,
    pub pages: usize,
    /// The bundle (zip), relative to the archive root.
    pub bundle: String,
    pub bundle_bytes: u64,
    pub bundle_sha256: String,
    /// Every file written, relative to the archive root.
    pub files: Vec<String>,
    /// Pages flagged blank and left out of the PDFs (`imaging.blank = "drop"`).
    pub dropped_blank: Vec<u32>,
}

/// How often finishing builds the bundle again when pages arrived or were
/// edited while it was being built, before it gives up.
const FINISH_ATTEMPTS: usize = 3;

/// Builds the case PDFs and bundle of `book` and marks it finished.
///
/// While the bundle is built the book takes no new pages (the journal
/// refuses them; sources keep them and try again). The bundle is built from
/// one snapshot of the journal, read under one lock, and the book is marked
/// finished only if the journal still holds that snapshot (checked in the
/// same transaction): a page held or edited meanwhile is never left out of
/// the bundle; the bundle is built again.
pub fn finish_book(
    intake: &Intake,
    book: &BookRow,
    accept_quarantined: bool,
) -> Result<Finished, FinishError> {
    if book.finished {
        return Err(FinishError::Finished {
            book: book.name.clone(),
        });
    }
    intake
        .journal()
        .begin_finishing(book.id)
        .map_err(|e| match e {
            JournalError::BookFinishing(book) => FinishError::Finishing { book },
            JournalError::BookFinished(book) => FinishError::Finished { book },
            other => other.into(),
        })?;
    let mut result = Err(FinishError::Changing {
        book: book.name.clone(),
    });
    for _ in 0..FINISH_ATTEMPTS {
        result = finish_once(intake, book, accept_quarantined);
        if !matches!(
            result,
            Err(FinishError::Journal(JournalError::BookChanged(_)))
        ) {
            break;
        }
        tracing::info!(book = %book.name, "the book changed while it was being finished; building its bundle again");
    }
    if result.is_err() {
        intake.journal().end_finishing(book.id)?;
    }
    if let Err(FinishError::Journal(JournalError::BookChanged(_))) = result {
        return Err(FinishError::Changing {
            book: book.name.clone(),
        });
    }
    result
}

fn finish_once(
    intake: &Intake,
    book: &BookRow,
    accept_quarantined: bool,
) -> Result<Finished, FinishError> {
    let (snapshot, views, counts, ranges) = {
        let j = intake.journal();
        (
            j.book_snapshot(book.id)?,
            j.page_views(book.id)?,
            j.book_counts(book.id)?,
            j.case_ranges(book.id)?,
        )
    };
    if counts.pending > 0 {
        return Err(FinishError::Pending {
            book: book.name.clone(),
            pending: counts.pending,
        });
    }
    let live = |v: &&super::ops::PageView| v.removed.is_none();
    let q_pages: Vec<u32> = views
        .iter()
        .filter(live)
        .filter(|v| v.state == "quarantined")
        .filter_map(|v| v.seq)
        .collect();
    let q_files: Vec<&str> = views
        .iter()
        .filter(live)
        .filter(|v| v.state == "quarantined" && v.seq.is_none())
        .map(|v| v.source.as_str())
        .collect();
    if (!q_pages.is_empty() || !q_files.is_empty()) && !accept_quarantined {
        let mut detail: Vec<String> = q_pages.iter().map(|s| format!("page {s}")).collect();
        detail.extend(q_files.iter().map(|f| format!("file {f}")));
        return Err(FinishError::Quarantined {
            book: book.name.clone(),
            pages: q_pages.len() as u32,
            files: q_files.len() as u32,
            detail: detail.join(", "),
        });
    }
    let filed: Vec<&super::ops::PageView> = views
        .iter()
        .filter(live)
        .filter(|v| v.state == "filed" && v.seq.is_some())
        .collect();
    if filed.is_empty() {
        return Err(FinishError::Empty {
            book: book.name.clone(),
        });
    }
    let archive = &intake.dirs().archive;
    let naming = intake.naming();
    let local = |secs: i64| {
        let t = chrono::Local
            .timestamp_opt(secs, 0)
            .single()
            .unwrap_or_else(chrono::Local::now);
        t.fixed_offset()
    };
    let drop_blank = intake.config().imaging.blank == crate::imaging::BlankAction::Drop;
    let mut cases = Vec::new();
    let mut dropped_blank = Vec::new();
    for r in &ranges {
        let mut pages: Vec<&&super::ops::PageView> = filed
            .iter()
            .filter(|v| v.seq.is_some_and(|s| s >= r.first && s <= r.last))
            .collect();
        let Some(first) = pages.first().copied() else {
            continue;
        };
        if drop_blank {
            dropped_blank.extend(
                pages
                    .iter()
                    .filter(|v| v.flagged_blank())
                    .filter_map(|v| v.seq),
            );
            pages.retain(|v| !v.flagged_blank());
            if pages.is_empty() {
                continue;
            }
        }
        cases.push(CaseInput {
            case_no: r.case,
            file_name: naming.case_file(&book.book, r.case),
            captured: local(first.created_at),
            pages: pages
                .iter()
                .filter_map(|v| v.archive_path.as_ref())
                .map(|p| PageFile {
                    path: archive.join(p),
                    dpi: None,
                })
                .collect(),
        });
    }
    if cases.is_empty() {
        return Err(FinishError::AllBlank {
            book: book.name.clone(),
        });
    }
    let out_dir = archive.join(naming.book_dir(&book.book));
    // The bundle's file names use the book name, folded like every file
    // name when `naming.ascii_names` is on.
    let rendered = naming.render_book(&book.book);
    let book_id = if intake.config().naming.ascii_names {
        crate::book::fold_ascii(&rendered)
    } else {
        rendered
    };
    let meta = BookMeta {
        book_id,
        locality: book.book.locality.clone(),
    };
    let opts = BundleOptions {
        output: intake.config().output.clone(),
    };
    let mut write = |path: &Path, bytes: &[u8]| -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        filing::file_atomic(dir, &name, bytes).map(|_| ())
    };
    let result = bundle::finish_book(&meta, &cases, &opts, &out_dir, &mut write)?;
    let rel = |p: &PathBuf| {
        p.strip_prefix(archive)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let done = Finished {
        book: book.name.clone(),
        cases: result.cases.len(),
        pages: filed.len() - dropped_blank.len(),
        bundle: rel(&result.bundle),
        bundle_bytes: result.bundle_bytes,
        bundle_sha256: result.bundle_sha256.clone(),
        files: result.written.iter().map(rel).collect(),
        dropped_blank,
    };
    let detail = serde_json::to_string(&done).unwrap_or_default();
    intake
        .journal()
        .mark_finished(book.id, &detail, &snapshot)?;
    Ok(done)
}
