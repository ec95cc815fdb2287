//! Journal operations behind the operator page: page views, page edits
//! (replace, insert, delete, reprocess), case boundaries, rescan marks.
//!
//! Every edit is one transaction that also plans the file moves it needs
//! (`file_moves`), so the journal always states where every file must end
//! up; `store::moves` carries the moves out and replays them after a crash.
//! Removed pages keep their row (`removed`, `seq` NULL) and their bytes in
//! the trash: nothing here ever forgets a page. Never touches files.

use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;

use super::journal::{event, now, Journal, JournalError, PageState};

/// Where a planned file move starts or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Root {
    /// The archive root; paths are archive paths.
    Archive,
    /// `state/trash`; removed and superseded page images.
    Trash,
}

impl Root {
    pub fn as_str(self) -> &'static str {
        match self {
            Root::Archive => "archive",
            Root::Trash => "trash",
        }
    }

    fn parse(s: &str) -> Root {
        if s == "trash" {
            Root::Trash
        } else {
            Root::Archive
        }
    }
}

/// A file move the journal has committed to and not yet seen done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMove {
    pub id: i64,
    pub src_root: Root,
    pub src: String,
    pub dst_root: Root,
    pub dst: String,
}

/// Why an edit was refused. The messages are for the operator.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("there is no book number {0} in the journal; reload the page")]
    NoBook(i64),
    #[error("book {book} has no page {seq} (it has {last} pages)")]
    NoPage { book: String, seq: u32, last: u32 },
    #[error("book {book} is finished; reopen it before changing its pages")]
    Finished { book: String },
    #[error("book {book} is being finished; wait until it is done")]
    Finishing { book: String },
    #[error("{pending} page(s) of book {book} are still being processed; wait until they are filed and try again")]
    Busy { book: String, pending: i64 },
    #[error("this image is already page {seq} of the book; nothing was changed")]
    Duplicate { seq: u32 },
    #[error("page {seq} is not filed yet ({state}); only filed pages can be {what}")]
    NotFiled {
        seq: u32,
        state: String,
        what: &'static str,
    },
    #[error("case boundaries: {0}")]
    Cases(String),
}

impl From<rusqlite::Error> for EditError {
    fn from(e: rusqlite::Error) -> Self {
        EditError::Journal(JournalError::Sql(e))
    }
}

type Result<T> = std::result::Result<T, EditError>;

/// A page as the operator page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageView {
    pub id: i64,
    pub seq: Option<u32>,
    pub state: String,
    pub source: String,
    pub archive_path: Option<String>,
    pub sha256: Option<String>,
    pub bytes: Option<i64>,
    pub reason: Option<String>,
    /// The pipeline's PageReport, as stored.
    pub report: Option<serde_json::Value>,
    /// `deleted` or `replaced` for pages no longer in the book.
    pub removed: Option<String>,
    pub trash_path: Option<String>,
    pub rescan: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl PageView {
    /// Whether the pipeline flagged the page blank (its stored report).
    pub fn flagged_blank(&self) -> bool {
        self.report
            .as_ref()
            .and_then(|r| r.get("blank"))
            .and_then(serde_json::Value::as_bool)
            == Some(true)
    }
}

/// A new page's spooled raw bytes.
#[derive(Debug, Clone, Copy)]
pub struct NewPage<'a> {
    pub source: &'a str,
    pub sha256: &'a str,
    pub spool_path: &'a str,
}

/// How a book's pages group into cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSpec {
    /// Every N pages make a case.
    PagesPerCase(u32),
    /// The first page of each case, ascending, starting at 1.
    Starts(Vec<u32>),
}

/// One case: its number and page range (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CaseRange {
    pub case: u32,
    pub first: u32,
    pub last: u32,
}

/// The relative archive path of page `seq` with extension `ext`.
pub type PagePath<'a> = &'a dyn Fn(u32, &str) -> String;

fn plan_move(tx: &Transaction, src: (Root, &str), dst: (Root, &str)) -> Result<()> {
    tx.execute(
        "INSERT INTO file_moves (src_root, src, dst_root, dst, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![src.0.as_str(), src.1, dst.0.as_str(), dst.1, now()],
    )?;
    Ok(())
}

/// The trash name of a page's file: unique per page and moment.
fn trash_name(page: i64, archive_path: &str) -> String {
    let file = archive_path.rsplit('/').next().unwrap_or(archive_path);
    format!("{page}-{}-{file}", now())
}

fn ext_of(path: &str) -> &str {
    path.rsplit_once('.').map(|(_, e)| e).unwrap_or("bin")
}

/// The parts of a book an edit needs, checked: it exists, is open, and
/// nothing of it is under way.
struct Open {
    name: String,
    last: u32,
}

fn open_book(tx: &Transaction, book: i64) -> Result<Open> {
    let name = editable(tx, book)?;
    let pending: i64 = tx.query_row(
        "SELECT COUNT(*) FROM pages WHERE book_id = ?1 AND removed IS NULL
         AND state IN ('spooled', 'processed')",
        [book],
        |r| r.get(0),
    )?;
    if pending > 0 {
        return Err(EditError::Busy {
            book: name,
            pending,
        });
    }
    let last = last_seq(tx, book)?;
    Ok(Open { name, last })
}

/// The name of a book that may be edited: it exists, is not finished and
/// is not being finished.
fn editable(tx: &Transaction, book: i64) -> Result<String> {
    let (name, state, finishing): (String, String, Option<i64>) = tx
        .query_row(
            "SELECT name, state, finishing_since FROM books WHERE id = ?1",
            [book],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or(EditError::NoBook(book))?;
    if state == "finished" {
        return Err(EditError::Finished { book: name });
    }
    if finishing.is_some() {
        return Err(EditError::Finishing { book: name });
    }
    Ok(name)
}

fn last_seq(tx: &rusqlite::Connection, book: i64) -> rusqlite::Result<u32> {
    tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM pages WHERE book_id = ?1 AND seq IS NOT NULL",
        [book],
        |r| r.get(0),
    )
}

/// The live page numbered `seq`: (id, state, archive_path).
fn page_at(
    tx: &Transaction,
    book: i64,
    open: &Open,
    seq: u32,
) -> Result<(i64, String, Option<String>)> {
    tx.query_row(
        "SELECT id, state, archive_path FROM pages WHERE book_id = ?1 AND seq = ?2",
        params![book, seq],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()?
    .ok_or(EditError::NoPage {
        book: open.name.clone(),
        seq,
        last: open.last,
    })
}

fn check_duplicate(tx: &Transaction, book: i64, sha: &str) -> Result<()> {
    let seq: Option<Option<u32>> = tx
        .query_row(
            "SELECT seq FROM pages WHERE book_id = ?1 AND source_sha256 = ?2 AND frame = 0
             AND state != 'quarantined' AND removed IS NULL",
            params![book, sha],
            |r| r.get(0),
        )
        .optional()?;
    match seq {
        Some(seq) => Err(EditError::Duplicate {
            seq: seq.unwrap_or(0),
        }),
        None => Ok(()),
    }
}

fn insert_spooled(tx: &Transaction, book: i64, seq: u32, new: NewPage) -> Result<i64> {
    tx.execute(
        "INSERT INTO pages (book_id, seq, source, source_sha256, frame, spool_path, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, 'spooled', ?6, ?6)",
        params![book, seq, new.source, new.sha256, new.spool_path, now()],
    )?;
    let id = tx.last_insert_rowid();
    event(tx, "spooled", Some(book), Some(id), new.source)?;
    Ok(id)
}

/// Takes page `seq` out of the book: its row stays with `removed` set and
/// its file is planned into the trash.
fn remove_page(
    tx: &Transaction,
    book: i64,
    page: (i64, String, Option<String>),
    seq: u32,
    why: &'static str,
) -> Result<()> {
    let (id, _state, archive) = page;
    let trash = archive.as_deref().map(|a| trash_name(id, a));
    tx.execute(
        "UPDATE pages SET seq = NULL, removed = ?2, trash_path = ?3, archive_path = NULL, updated_at = ?4
         WHERE id = ?1",
        params![id, why, trash, now()],
    )?;
    if let (Some(a), Some(t)) = (&archive, &trash) {
        plan_move(tx, (Root::Archive, a), (Root::Trash, t))?;
    }
    tx.execute(
        "DELETE FROM rescans WHERE book_id = ?1 AND seq = ?2",
        params![book, seq],
    )?;
    let kept = trash
        .as_deref()
        .map(|t| format!("; image kept in trash as {t}"))
        .unwrap_or_default();
    event(tx, why, Some(book), Some(id), &format!("page {seq}{kept}"))?;
    Ok(())
}

/// Renumbers every page after `after` by `delta` (+1 or -1), with their
/// archive names, case starts and rescan marks, planning the file renames
/// in an order where no rename ever lands on a file still in use.
fn shift(tx: &Transaction, book: i64, after: u32, delta: i64, path: PagePath) -> Result<()> {
    let order = if delta > 0 { "DESC" } else { "ASC" };
    let rows: Vec<(i64, u32, Option<String>)> = tx
        .prepare(&format!(
            "SELECT id, seq, archive_path FROM pages WHERE book_id = ?1 AND seq > ?2 ORDER BY seq {order}"
        ))?
        .query_map(params![book, after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    // Negative numbers first, so the unique (book, seq) index never sees
    // two pages on one number mid-update.
    tx.execute(
        "UPDATE pages SET seq = -seq WHERE book_id = ?1 AND seq > ?2",
        params![book, after],
    )?;
    for (id, seq, archive) in &rows {
        let new_seq = (*seq as i64 + delta) as u32;
        let new_path = archive.as_deref().map(|a| path(new_seq, ext_of(a)));
        tx.execute(
            "UPDATE pages SET seq = ?2, archive_path = COALESCE(?3, archive_path), updated_at = ?4 WHERE id = ?1",
            params![id, new_seq, new_path, now()],
        )?;
        if let (Some(a), Some(n)) = (archive, &new_path) {
            if a != n {
                plan_move(tx, (Root::Archive, a), (Root::Archive, n))?;
            }
        }
    }
    tx.execute(
        "UPDATE rescans SET seq = -seq WHERE book_id = ?1 AND seq > ?2",
        params![book, after],
    )?;
    tx.execute(
        "UPDATE rescans SET seq = -seq + ?2 WHERE book_id = ?1 AND seq < 0",
        params![book, delta],
    )?;
    if !rows.is_empty() {
        event(
            tx,
            "renumbered",
            Some(book),
            None,
            &format!("pages after {after} moved by {delta:+}"),
        )?;
    }
    Ok(())
}

/// Explicit case starts of a book, or None when it groups by a fixed count.
fn stored_starts(
    conn: &rusqlite::Connection,
    book: i64,
) -> rusqlite::Result<(Option<u32>, Vec<u32>)> {
    let per: Option<u32> = conn.query_row(
        "SELECT pages_per_case FROM books WHERE id = ?1",
        [book],
        |r| r.get(0),
    )?;
    let starts = conn
        .prepare("SELECT first_seq FROM cases WHERE book_id = ?1 ORDER BY number")?
        .query_map([book], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((per, starts))
}

fn write_starts(tx: &Transaction, book: i64, starts: &[u32], last: u32) -> Result<()> {
    tx.execute("DELETE FROM cases WHERE book_id = ?1", [book])?;
    for (i, first) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map(|n| n - 1).unwrap_or(last.max(*first));
        tx.execute(
            "INSERT INTO cases (book_id, number, first_seq, last_seq) VALUES (?1, ?2, ?3, ?4)",
            params![book, i as u32 + 1, first, end],
        )?;
    }
    Ok(())
}

/// Moves explicit case starts after an insert (+1) or delete (-1) at `at`.
fn shift_starts(tx: &Transaction, book: i64, at: u32, delta: i64) -> Result<()> {
    let (per, starts) = stored_starts(tx, book)?;
    if per.is_some() || starts.is_empty() {
        return Ok(());
    }
    let last = last_seq(tx, book)?;
    let mut moved: Vec<u32> = starts
        .into_iter()
        .map(|s| {
            if s > at && !(delta > 0 && s == 1) {
                (s as i64 + delta) as u32
            } else {
                s
            }
        })
        .filter(|s| *s >= 1 && *s <= last.max(1))
        .collect();
    moved.dedup();
    if moved.first() != Some(&1) {
        moved.insert(0, 1);
    }
    write_starts(tx, book, &moved, last)
}

impl Journal {
    fn edit_tx(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    /// Every page of a book, numbered pages in order, then removed and
    /// quarantined rows (newest first).
    pub fn page_views(&self, book: i64) -> Result<Vec<PageView>> {
        let mut stmt = self.conn.prepare(
            "SELECT p.id, p.seq, p.state, p.source, p.archive_path, p.sha256, p.bytes, p.reason,
                    p.report, p.removed, p.trash_path, p.created_at, p.updated_at,
                    EXISTS (SELECT 1 FROM rescans r WHERE r.book_id = p.book_id AND r.seq = p.seq)
             FROM pages p WHERE p.book_id = ?1
             ORDER BY p.seq IS NULL, p.seq, p.id DESC",
        )?;
        let rows = stmt
            .query_map([book], |r| {
                let report: Option<String> = r.get(8)?;
                Ok(PageView {
                    id: r.get(0)?,
                    seq: r.get(1)?,
                    state: r.get(2)?,
                    source: r.get(3)?,
                    archive_path: r.get(4)?,
                    sha256: r.get(5)?,
                    bytes: r.get(6)?,
                    reason: r.get(7)?,
                    report: report.and_then(|t| serde_json::from_str(&t).ok()),
                    removed: r.get(9)?,
                    trash_path: r.get(10)?,
                    created_at: r.get(11)?,
                    updated_at: r.get(12)?,
                    rescan: r.get(13)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// One page as a view.
    pub fn page_view(&self, page: i64) -> Result<PageView> {
        let book = self.book_of(page)?;
        self.page_views(book.id)?
            .into_iter()
            .find(|p| p.id == page)
            .ok_or(EditError::Journal(JournalError::NoPage(page)))
    }

    /// The page id numbered `seq` in a book, if any.
    pub fn page_id_at(&self, book: i64, seq: u32) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM pages WHERE book_id = ?1 AND seq = ?2",
                params![book, seq],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Replaces page `seq` with a new, spooled page: the old one leaves the
    /// book (its image to the trash) and the new one takes its number.
    /// Returns the new page id; the caller runs the planned moves, then
    /// queues the page.
    pub fn plan_replace(&mut self, book: i64, seq: u32, new: NewPage) -> Result<i64> {
        let tx = self.edit_tx()?;
        let open = open_book(&tx, book)?;
        let old = page_at(&tx, book, &open, seq)?;
        check_duplicate(&tx, book, new.sha256)?;
        remove_page(&tx, book, old, seq, "replaced")?;
        let id = insert_spooled(&tx, book, seq, new)?;
        tx.commit()?;
        Ok(id)
    }

    /// Inserts a new, spooled page after page `after` (0: before the first),
    /// renumbering the pages behind it.
    pub fn plan_insert(
        &mut self,
        book: i64,
        after: u32,
        new: NewPage,
        path: PagePath,
    ) -> Result<(i64, u32)> {
        let tx = self.edit_tx()?;
        let open = open_book(&tx, book)?;
        if after > open.last {
            return Err(EditError::NoPage {
                book: open.name,
                seq: after,
                last: open.last,
            });
        }
        check_duplicate(&tx, book, new.sha256)?;
        shift(&tx, book, after, 1, path)?;
        let id = insert_spooled(&tx, book, after + 1, new)?;
        event(
            &tx,
            "inserted",
            Some(book),
            Some(id),
            &format!("page {} inserted after page {after}", after + 1),
        )?;
        shift_starts(&tx, book, after, 1)?;
        tx.commit()?;
        Ok((id, after + 1))
    }

    /// Takes page `seq` out of the book (its image to the trash) and closes
    /// the gap. Returns the removed page's id.
    pub fn plan_delete(&mut self, book: i64, seq: u32, path: PagePath) -> Result<i64> {
        let tx = self.edit_tx()?;
        let open = open_book(&tx, book)?;
        let page = page_at(&tx, book, &open, seq)?;
        let id = page.0;
        remove_page(&tx, book, page, seq, "deleted")?;
        shift(&tx, book, seq, -1, path)?;
        shift_starts(&tx, book, seq, -1)?;
        tx.commit()?;
        Ok(id)
    }

    /// Plans a copy-free hand-over for reprocessing: returns (page id,
    /// archive path, trash name) of filed page `seq`, after checking.
    pub fn reprocess_target(&mut self, book: i64, seq: u32) -> Result<(i64, String, String)> {
        let tx = self.edit_tx()?;
        let open = open_book(&tx, book)?;
        let (id, state, archive) = page_at(&tx, book, &open, seq)?;
        let Some(archive) = archive.filter(|_| state == PageState::Filed.as_str()) else {
            return Err(EditError::NotFiled {
                seq,
                state,
                what: "reprocessed",
            });
        };
        let trash = trash_name(id, &archive);
        Ok((id, archive, trash))
    }

    /// Records a reprocessed page: its new file, hash, size and report.
    #[allow(clippy::too_many_arguments)]
    pub fn record_reprocessed(
        &mut self,
        page: i64,
        archive_path: &str,
        sha256: &str,
        bytes: u64,
        report: &str,
        detail: &str,
    ) -> Result<()> {
        let tx = self.edit_tx()?;
        let book: i64 = tx.query_row("SELECT book_id FROM pages WHERE id = ?1", [page], |r| {
            r.get(0)
        })?;
        tx.execute(
            "UPDATE pages SET archive_path = ?2, sha256 = ?3, bytes = ?4, report = ?5, updated_at = ?6
             WHERE id = ?1",
            params![page, archive_path, sha256, bytes as i64, report, now()],
        )?;
        event(&tx, "reprocessed", Some(book), Some(page), detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Moves the journal has planned and not yet seen done, in order.
    pub fn pending_moves(&self) -> Result<Vec<FileMove>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, src_root, src, dst_root, dst FROM file_moves ORDER BY id")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(FileMove {
                    id: r.get(0)?,
                    src_root: Root::parse(&r.get::<_, String>(1)?),
                    src: r.get(2)?,
                    dst_root: Root::parse(&r.get::<_, String>(3)?),
                    dst: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// A planned move is done.
    pub fn move_done(&mut self, id: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM file_moves WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Marks page `seq` for rescan: the next page scanned into the book
    /// replaces it.
    pub fn request_rescan(&mut self, book: i64, seq: u32) -> Result<()> {
        let tx = self.edit_tx()?;
        let open = open_book(&tx, book)?;
        let (id, _, _) = page_at(&tx, book, &open, seq)?;
        tx.execute(
            "INSERT OR REPLACE INTO rescans (book_id, seq, since) VALUES (?1, ?2, ?3)",
            params![book, seq, now()],
        )?;
        event(
            &tx,
            "rescan_requested",
            Some(book),
            Some(id),
            &format!("page {seq}"),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Clears a rescan mark; true when there was one.
    pub fn cancel_rescan(&mut self, book: i64, seq: u32) -> Result<bool> {
        let tx = self.edit_tx()?;
        let n = tx.execute(
            "DELETE FROM rescans WHERE book_id = ?1 AND seq = ?2",
            params![book, seq],
        )?;
        if n > 0 {
            event(
                &tx,
                "rescan_cancelled",
                Some(book),
                None,
                &format!("page {seq}"),
            )?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// The lowest page of the book waiting for a rescan.
    pub fn next_rescan(&self, book: i64) -> Result<Option<u32>> {
        Ok(self.conn.query_row(
            "SELECT MIN(seq) FROM rescans WHERE book_id = ?1",
            [book],
            |r| r.get(0),
        )?)
    }

    /// Sets how the book's pages group into cases.
    pub fn set_cases(&mut self, book: i64, spec: &CaseSpec) -> Result<Vec<CaseRange>> {
        let tx = self.edit_tx()?;
        editable(&tx, book)?;
        let last = last_seq(&tx, book)?;
        match spec {
            CaseSpec::PagesPerCase(n) => {
                if *n == 0 || *n > 10_000 {
                    return Err(EditError::Cases(format!(
                        "pages per case must be between 1 and 10000, not {n}"
                    )));
                }
                tx.execute(
                    "UPDATE books SET pages_per_case = ?2 WHERE id = ?1",
                    params![book, n],
                )?;
                tx.execute("DELETE FROM cases WHERE book_id = ?1", [book])?;
                event(
                    &tx,
                    "cases_set",
                    Some(book),
                    None,
                    &format!("{n} pages per case"),
                )?;
            }
            CaseSpec::Starts(starts) => {
                if starts.first() != Some(&1) {
                    return Err(EditError::Cases(
                        "the first case must start at page 1".into(),
                    ));
                }
                if starts.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(EditError::Cases(
                        "case starts must go up, each page at most once".into(),
                    ));
                }
                if let Some(bad) = starts.iter().find(|s| **s > last.max(1)) {
                    return Err(EditError::Cases(format!(
                        "page {bad} does not exist; the book has {last} pages"
                    )));
                }
                tx.execute(
                    "UPDATE books SET pages_per_case = NULL WHERE id = ?1",
                    [book],
                )?;
                write_starts(&tx, book, starts, last)?;
                event(
                    &tx,
                    "cases_set",
                    Some(book),
                    None,
                    &format!("case starts {starts:?}"),
                )?;
            }
        }
        tx.commit()?;
        self.case_ranges(book)
    }

    /// The book's cases over its current pages.
    pub fn case_ranges(&self, book: i64) -> Result<Vec<CaseRange>> {
        Ok(case_ranges_in(&self.conn, book)?)
    }
}

/// Everything finishing reads of a book: each page row's number, state,
/// file and content hash, and the case ranges. Two equal snapshots mean
/// the bundle built from the first still holds exactly the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookSnapshot {
    pages: Vec<SnapshotPage>,
    cases: Vec<CaseRange>,
}

type SnapshotPage = (
    i64,
    Option<u32>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The book's snapshot as `conn` sees it (inside a transaction, or not).
pub(super) fn snapshot(
    conn: &rusqlite::Connection,
    book: i64,
) -> std::result::Result<BookSnapshot, JournalError> {
    let pages = conn
        .prepare(
            "SELECT id, seq, state, archive_path, sha256, removed FROM pages
             WHERE book_id = ?1 ORDER BY id",
        )?
        .query_map([book], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let cases = case_ranges_in(conn, book)?;
    Ok(BookSnapshot { pages, cases })
}

impl Journal {
    /// What finishing reads of a book, to check at the end that nothing
    /// changed meanwhile (`mark_finished`).
    pub fn book_snapshot(&self, book: i64) -> Result<BookSnapshot> {
        Ok(snapshot(&self.conn, book)?)
    }
}

/// What a book holds, counted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BookCounts {
    /// Numbered pages (filed or on their way).
    pub pages: u32,
    pub filed: u32,
    /// Spooled or processed, not yet filed.
    pub pending: u32,
    pub quarantined: u32,
    /// Pages deleted or replaced (kept in the trash).
    pub removed: u32,
    pub cases: u32,
    /// Pages waiting for a rescan.
    pub rescans: Vec<u32>,
    /// The most recently filed page still in the book.
    pub last_page: Option<i64>,
}

impl Journal {
    /// Counts for the operator page.
    pub fn book_counts(&self, book: i64) -> Result<BookCounts> {
        let (pages, filed, pending, quarantined, removed): (u32, u32, u32, u32, u32) =
            self.conn.query_row(
                "SELECT
                    COUNT(*) FILTER (WHERE seq IS NOT NULL),
                    COUNT(*) FILTER (WHERE seq IS NOT NULL AND state = 'filed'),
                    COUNT(*) FILTER (WHERE removed IS NULL AND state IN ('spooled', 'processed')),
                    COUNT(*) FILTER (WHERE removed IS NULL AND state = 'quarantined'),
                    COUNT(*) FILTER (WHERE removed IS NOT NULL)
                 FROM pages WHERE book_id = ?1",
                [book],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
        let rescans = self
            .conn
            .prepare("SELECT seq FROM rescans WHERE book_id = ?1 ORDER BY seq")?
            .query_map([book], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let last_page = self
            .conn
            .query_row(
                "SELECT id FROM pages WHERE book_id = ?1 AND seq IS NOT NULL AND state = 'filed'
                 ORDER BY updated_at DESC, id DESC LIMIT 1",
                [book],
                |r| r.get(0),
            )
            .optional()?;
        Ok(BookCounts {
            pages,
            filed,
            pending,
            quarantined,
            removed,
            cases: self.case_ranges(book)?.len() as u32,
            rescans,
            last_page,
        })
    }

    /// The newest `duplicate` event of a book within `secs` seconds.
    pub fn recent_duplicate(&self, book: i64, secs: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT detail FROM events WHERE book_id = ?1 AND kind = 'duplicate' AND at >= ?2
                 ORDER BY id DESC LIMIT 1",
                params![book, now() - secs],
                |r| r.get(0),
            )
            .optional()?)
    }
}

fn case_ranges_in(conn: &rusqlite::Connection, book: i64) -> rusqlite::Result<Vec<CaseRange>> {
    let last = last_seq(conn, book)?;
    let (per, starts) = stored_starts(conn, book)?;
    Ok(ranges(per, &starts, last))
}

/// Cases over pages 1..=last: fixed groups of `per`, or the given starts.
pub fn ranges(per: Option<u32>, starts: &[u32], last: u32) -> Vec<CaseRange> {
    let starts: Vec<u32> = match per {
        Some(n) if n > 0 => (1..=last).step_by(n as usize).collect(),
        _ if starts.is_empty() => (1..=last).collect(),
        _ => starts.iter().copied().filter(|s| *s <= last).collect(),
    };
    starts
        .iter()
        .enumerate()
        .map(|(i, first)| CaseRange {
            case: i as u32 + 1,
            first: *first,
            last: starts.get(i + 1).map(|n| n - 1).unwrap_or(last),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::BookId;
    use crate::store::journal::Added;

    fn setup(pages: u32) -> (Journal, i64) {
        let mut j = Journal::in_memory().unwrap();
        let b = j
            .ensure_book(
                &BookId {
                    register: "KS".into(),
                    year: 2010,
                    number: 1,
                    locality: "X".into(),
                },
                "KS.2010.01",
            )
            .unwrap();
        for i in 1..=pages {
            let Added::Pages { pages: p, .. } = j
                .add_pages(
                    &b,
                    &format!("{i}.png"),
                    &format!("sha{i}"),
                    "s",
                    &[format!("f{i}")],
                )
                .unwrap()
            else {
                panic!()
            };
            j.mark_processed(p[0].0, "x", 1, "{}").unwrap();
            j.mark_filed(p[0].0, &path(i, "jpg")).unwrap();
        }
        (j, b.id)
    }

    fn path(seq: u32, ext: &str) -> String {
        format!("B/p{seq:04}.{ext}")
    }

    fn live(j: &Journal, b: i64) -> Vec<(u32, String)> {
        j.page_views(b)
            .unwrap()
            .into_iter()
            .filter_map(|p| Some((p.seq?, p.source)))
            .collect()
    }

    fn moves(j: &Journal) -> Vec<(String, String)> {
        j.pending_moves()
            .unwrap()
            .into_iter()
            .map(|m| (m.src, m.dst))
            .collect()
    }

    const NEW: NewPage = NewPage {
        source: "new.png",
        sha256: "shanew",
        spool_path: "sp",
    };

    #[test]
    fn insert_renumbers_from_the_back_and_plans_renames() {
        let (mut j, b) = setup(3);
        let (id, seq) = j.plan_insert(b, 1, NEW, &path).unwrap();
        assert_eq!(seq, 2);
        assert_eq!(
            live(&j, b),
            vec![
                (1, "1.png".into()),
                (2, "new.png".into()),
                (3, "2.png".into()),
                (4, "3.png".into())
            ]
        );
        assert_eq!(
            moves(&j),
            vec![
                (path(3, "jpg"), path(4, "jpg")),
                (path(2, "jpg"), path(3, "jpg"))
            ]
        );
        assert_eq!(j.page(id).unwrap().state, PageState::Spooled);
        // Another edit waits until the new page is filed.
        assert!(matches!(
            j.plan_delete(b, 1, &path),
            Err(EditError::Busy { .. })
        ));
    }

    #[test]
    fn delete_keeps_the_row_and_closes_the_gap() {
        let (mut j, b) = setup(3);
        j.set_cases(b, &CaseSpec::Starts(vec![1, 3])).unwrap();
        let id = j.plan_delete(b, 2, &path).unwrap();
        assert_eq!(live(&j, b), vec![(1, "1.png".into()), (2, "3.png".into())]);
        let gone = j.page_view(id).unwrap();
        assert_eq!(gone.removed.as_deref(), Some("deleted"));
        let trash = gone.trash_path.unwrap();
        assert_eq!(
            moves(&j),
            vec![(path(2, "jpg"), trash), (path(3, "jpg"), path(2, "jpg"))]
        );
        // Case 2 started at the old page 3, now page 2.
        assert_eq!(
            j.case_ranges(b).unwrap(),
            vec![
                CaseRange {
                    case: 1,
                    first: 1,
                    last: 1
                },
                CaseRange {
                    case: 2,
                    first: 2,
                    last: 2
                }
            ]
        );
        // The same image can come back into the book.
        assert!(matches!(
            j.add_pages(
                &j.book(b).unwrap().unwrap(),
                "again.png",
                "sha2",
                "s",
                &["f2".to_string()]
            )
            .unwrap(),
            Added::Pages { .. }
        ));
    }

    #[test]
    fn replace_takes_the_number_and_refuses_duplicates() {
        let (mut j, b) = setup(2);
        let dup = NewPage {
            sha256: "sha1",
            ..NEW
        };
        assert!(matches!(
            j.plan_replace(b, 2, dup),
            Err(EditError::Duplicate { seq: 1 })
        ));
        assert!(matches!(
            j.plan_replace(b, 9, NEW),
            Err(EditError::NoPage {
                seq: 9,
                last: 2,
                ..
            })
        ));
        j.request_rescan(b, 2).unwrap();
        assert_eq!(j.next_rescan(b).unwrap(), Some(2));
        let id = j.plan_replace(b, 2, NEW).unwrap();
        assert_eq!(j.page(id).unwrap().seq, Some(2));
        assert_eq!(j.next_rescan(b).unwrap(), None);
        assert_eq!(moves(&j).len(), 1);
    }

    #[test]
    fn case_specs_are_checked() {
        let (mut j, b) = setup(5);
        assert_eq!(j.case_ranges(b).unwrap().len(), 5);
        assert_eq!(j.set_cases(b, &CaseSpec::PagesPerCase(2)).unwrap().len(), 3);
        for bad in [vec![2, 3], vec![1, 3, 3], vec![1, 9]] {
            assert!(matches!(
                j.set_cases(b, &CaseSpec::Starts(bad)),
                Err(EditError::Cases(_))
            ));
        }
        assert_eq!(
            j.set_cases(b, &CaseSpec::Starts(vec![1, 4])).unwrap(),
            vec![
                CaseRange {
                    case: 1,
                    first: 1,
                    last: 3
                },
                CaseRange {
                    case: 2,
                    first: 4,
                    last: 5
                }
            ]
        );
    }
}
