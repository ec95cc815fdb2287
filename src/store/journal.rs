//! The journal: one SQLite file in the state folder, the source of truth for
//! books, pages, cases and events. Every state change is one transaction
//! that also records an event, so reports and recovery read the same facts.
//!
//! Must never hold a transaction open across image work or file I/O other
//! than its own database.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;

use crate::book::BookId;

/// Versioned schema: entry N moves the journal from version N to N+1.
const MIGRATIONS: &[&str] = &[
    // 1: books, pages, cases, events.
    "CREATE TABLE books (
        id INTEGER PRIMARY KEY,
        register TEXT NOT NULL,
        year INTEGER NOT NULL,
        number INTEGER NOT NULL,
        locality TEXT NOT NULL,
        name TEXT NOT NULL,
        pages_per_case INTEGER,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'finished')),
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        UNIQUE (locality, register, year, number)
    );
    CREATE TABLE pages (
        id INTEGER PRIMARY KEY,
        book_id INTEGER NOT NULL REFERENCES books(id),
        seq INTEGER,
        source TEXT NOT NULL,
        source_sha256 TEXT NOT NULL,
        frame INTEGER NOT NULL DEFAULT 0,
        spool_path TEXT,
        state TEXT NOT NULL CHECK (state IN ('spooled', 'processed', 'filed', 'quarantined')),
        archive_path TEXT,
        sha256 TEXT,
        bytes INTEGER,
        reason TEXT,
        report TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX pages_seq ON pages(book_id, seq) WHERE seq IS NOT NULL;
    CREATE UNIQUE INDEX pages_content ON pages(book_id, source_sha256, frame) WHERE state != 'quarantined';
    CREATE INDEX pages_state ON pages(state);
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        book_id INTEGER NOT NULL REFERENCES books(id),
        number INTEGER NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        file TEXT,
        UNIQUE (book_id, number)
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        book_id INTEGER,
        page_id INTEGER,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX events_at ON events(at);",
    // 2: the book each source (the station, a scanner) files into now.
    "CREATE TABLE current_books (
        source TEXT PRIMARY KEY,
        book_id INTEGER NOT NULL REFERENCES books(id),
        since INTEGER NOT NULL
    );",
    // 3: per-frame content hash, to recognise a multi-page file rewritten
    // with more pages.
    "ALTER TABLE pages ADD COLUMN frame_sha256 TEXT;
    CREATE INDEX pages_source ON pages(book_id, source);",
    // 4: page edits (see store/ops.rs): removed pages keep their row and
    // their bytes in the trash; file moves are planned in the journal and
    // replayed after a crash; pages marked for rescan.
    "ALTER TABLE pages ADD COLUMN removed TEXT CHECK (removed IN ('deleted', 'replaced'));
    ALTER TABLE pages ADD COLUMN trash_path TEXT;
    DROP INDEX pages_content;
    CREATE UNIQUE INDEX pages_content ON pages(book_id, source_sha256, frame)
        WHERE state != 'quarantined' AND removed IS NULL;
    CREATE TABLE file_moves (
        id INTEGER PRIMARY KEY,
        src_root TEXT NOT NULL CHECK (src_root IN ('archive', 'trash')),
        src TEXT NOT NULL,
        dst_root TEXT NOT NULL CHECK (dst_root IN ('archive', 'trash')),
        dst TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE rescans (
        book_id INTEGER NOT NULL REFERENCES books(id),
        seq INTEGER NOT NULL,
        since INTEGER NOT NULL,
        PRIMARY KEY (book_id, seq)
    );",
    // 5: a scanner may send two identical pages (blank sheets, test
    // backends): content is no longer unique per book, only checked for
    // files.
    "DROP INDEX pages_content;
    CREATE INDEX pages_content ON pages(book_id, source_sha256, frame);",
    // 6: a book being finished takes no new pages (set while its bundle
    // is built, cleared when it is finished or the finish fails).
    "ALTER TABLE books ADD COLUMN finishing_since INTEGER;",
];

/// The `current_books` key of the station as a whole (watch folder root).
pub const STATION: &str = "station";

/// Where a page is on its way to the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageState {
    /// Raw bytes are in the spool; nothing else is done yet.
    Spooled,
    /// The pipeline ran; the result is not yet in the archive.
    Processed,
    /// In the archive under its final name.
    Filed,
    /// Could not be processed; the reason is recorded.
    Quarantined,
}

impl PageState {
    pub fn as_str(self) -> &'static str {
        match self {
            PageState::Spooled => "spooled",
            PageState::Processed => "processed",
            PageState::Filed => "filed",
            PageState::Quarantined => "quarantined",
        }
    }

    fn parse(s: &str) -> Option<PageState> {
        [
            PageState::Spooled,
            PageState::Processed,
            PageState::Filed,
            PageState::Quarantined,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// The states a page may move to this one from.
    fn allowed_from(self) -> &'static [&'static str] {
        match self {
            PageState::Spooled => &["quarantined"],
            PageState::Processed => &["spooled", "filed"],
            PageState::Filed => &["processed"],
            PageState::Quarantined => &["spooled", "processed"],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the journal was written by a newer sohoa (schema {found}, this program knows {known}); upgrade sohoa")]
    TooNew { found: i64, known: i64 },
    #[error("page {page} cannot go from {from} to {to}")]
    Transition {
        page: i64,
        from: String,
        to: &'static str,
    },
    #[error("no page {0} in the journal")]
    NoPage(i64),
    #[error("book {0} is finished; reopen it before adding pages")]
    BookFinished(String),
    #[error("book {0} changed while it was being finished (a page arrived or was edited)")]
    BookChanged(String),
    #[error(
        "book {0} is being finished and takes no new pages now; the page waits and is tried again"
    )]
    BookFinishing(String),
}

type Result<T> = std::result::Result<T, JournalError>;

/// One page as the journal knows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageRow {
    pub id: i64,
    pub book_id: i64,
    pub seq: Option<u32>,
    pub source: String,
    pub source_sha256: String,
    pub frame: u32,
    pub spool_path: Option<String>,
    pub state: PageState,
    pub archive_path: Option<String>,
    pub sha256: Option<String>,
    pub reason: Option<String>,
}

/// A book row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BookRow {
    pub id: i64,
    pub book: BookId,
    pub name: String,
    pub finished: bool,
}

/// What adding a source file's pages did.
#[derive(Debug, Clone, PartialEq)]
pub enum Added {
    /// New pages, with their ids and page numbers; they are the source's
    /// frames from `first_frame` on.
    Pages {
        pages: Vec<(i64, u32)>,
        first_frame: u32,
    },
    /// The same content is already in the book as these page numbers.
    Duplicate(Vec<u32>),
}

pub struct Journal {
    pub(crate) conn: Connection,
}

pub(super) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

const PAGE_COLUMNS: &str =
    "id, book_id, seq, source, source_sha256, frame, spool_path, state, archive_path, sha256, reason";

fn page_row(r: &rusqlite::Row) -> rusqlite::Result<PageRow> {
    let state: String = r.get(7)?;
    Ok(PageRow {
        id: r.get(0)?,
        book_id: r.get(1)?,
        seq: r.get(2)?,
        source: r.get(3)?,
        source_sha256: r.get(4)?,
        frame: r.get(5)?,
        spool_path: r.get(6)?,
        state: PageState::parse(&state).ok_or(rusqlite::Error::InvalidColumnType(
            7,
            "state".into(),
            rusqlite::types::Type::Text,
        ))?,
        archive_path: r.get(8)?,
        sha256: r.get(9)?,
        reason: r.get(10)?,
    })
}

const BOOK_COLUMNS: &str = "b.id, b.register, b.year, b.number, b.locality, b.name, b.state";

fn book_row(r: &rusqlite::Row) -> rusqlite::Result<BookRow> {
    Ok(BookRow {
        id: r.get(0)?,
        book: BookId {
            register: r.get(1)?,
            year: r.get(2)?,
            number: r.get(3)?,
            locality: r.get(4)?,
        },
        name: r.get(5)?,
        finished: r.get::<_, String>(6)? == "finished",
    })
}

/// Writes one event row inside the caller's transaction.
pub(super) fn event(
    tx: &Transaction,
    kind: &str,
    book: Option<i64>,
    page: Option<i64>,
    detail: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO events (at, kind, book_id, page_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now(), kind, book, page, detail],
    )?;
    Ok(())
}

impl Journal {
    /// Opens (creating if needed) and migrates the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal> {
        let conn = Connection::open(path)?;
        Journal::setup(conn)
    }

    /// A journal in memory, for tests and `inspect`-like tools.
    pub fn in_memory() -> Result<Journal> {
        Journal::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Journal> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(JournalError::TooNew {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(Journal { conn })
    }

    /// The schema version in force.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// The book's row, created on first use.
    pub fn ensure_book(&mut self, id: &BookId, name: &str) -> Result<BookRow> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, state FROM books WHERE locality = ?1 AND register = ?2 AND year = ?3 AND number = ?4",
                params![id.locality, id.register, id.year, id.number],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let row = match found {
            Some((rowid, state)) => BookRow {
                id: rowid,
                book: id.clone(),
                name: name.into(),
                finished: state == "finished",
            },
            None => {
                tx.execute(
                    "INSERT INTO books (register, year, number, locality, name, pages_per_case, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)",
                    params![id.register, id.year, id.number, id.locality, name, now()],
                )?;
                let rowid = tx.last_insert_rowid();
                event(&tx, "book_created", Some(rowid), None, &id.to_string())?;
                BookRow {
                    id: rowid,
                    book: id.clone(),
                    name: name.into(),
                    finished: false,
                }
            }
        };
        tx.commit()?;
        Ok(row)
    }

    /// Adds the pages of one spooled source file to the end of the book, in
    /// one transaction. `frame_sha256` holds one content hash per frame.
    ///
    /// The same file content already in the book is a duplicate. A file of
    /// the same source name whose frames begin with the frames already taken
    /// from that name (a multi-page file rewritten as pages arrive) adds only
    /// its new frames.
    pub fn add_pages(
        &mut self,
        book: &BookRow,
        source: &str,
        source_sha256: &str,
        spool_path: &str,
        frame_sha256: &[String],
    ) -> Result<Added> {
        self.add_pages_checked(book, source, source_sha256, spool_path, frame_sha256, true)
    }

    /// Adds pages as `add_pages` does; with `dedupe` false the same content
    /// is added again (a scanner's pages are new sheets even when two of
    /// them are identical).
    pub fn add_pages_checked(
        &mut self,
        book: &BookRow,
        source: &str,
        source_sha256: &str,
        spool_path: &str,
        frame_sha256: &[String],
        dedupe: bool,
    ) -> Result<Added> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (state, finishing): (String, Option<i64>) = tx.query_row(
            "SELECT state, finishing_since FROM books WHERE id = ?1",
            [book.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if state == "finished" {
            return Err(JournalError::BookFinished(book.name.clone()));
        }
        if finishing.is_some() {
            return Err(JournalError::BookFinishing(book.name.clone()));
        }
        let existing: Vec<u32> = tx
            .prepare(
                "SELECT seq FROM pages WHERE book_id = ?1 AND source_sha256 = ?2 AND state != 'quarantined'
                 AND seq IS NOT NULL ORDER BY seq",
            )?
            .query_map(params![book.id, source_sha256], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let earlier: Vec<(u32, Option<String>)> = tx
            .prepare(
                "SELECT seq, frame_sha256 FROM pages WHERE book_id = ?1 AND source = ?2 AND state != 'quarantined'
                 AND seq IS NOT NULL ORDER BY seq",
            )?
            .query_map(params![book.id, source], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let taken = earlier.len();
        let is_prefix = taken > 0
            && taken <= frame_sha256.len()
            && earlier
                .iter()
                .zip(frame_sha256)
                .all(|((_, old), new)| old.as_deref() == Some(new.as_str()));
        if dedupe && (!existing.is_empty() || (is_prefix && taken == frame_sha256.len())) {
            let seqs = if existing.is_empty() {
                earlier.iter().map(|e| e.0).collect()
            } else {
                existing
            };
            event(
                &tx,
                "duplicate",
                Some(book.id),
                None,
                &format!("{source} = pages {seqs:?}"),
            )?;
            tx.commit()?;
            return Ok(Added::Duplicate(seqs));
        }
        let first_frame = if dedupe && is_prefix { taken as u32 } else { 0 };
        let last: u32 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM pages WHERE book_id = ?1",
            [book.id],
            |r| r.get(0),
        )?;
        let mut pages = Vec::new();
        for (n, frame) in (first_frame..frame_sha256.len() as u32).enumerate() {
            let seq = last + 1 + n as u32;
            tx.execute(
                "INSERT INTO pages (book_id, seq, source, source_sha256, frame, frame_sha256, spool_path, state,
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'spooled', ?8, ?8)",
                params![book.id, seq, source, source_sha256, frame, frame_sha256[frame as usize], spool_path, now()],
            )?;
            let id = tx.last_insert_rowid();
            event(&tx, "spooled", Some(book.id), Some(id), source)?;
            pages.push((id, seq));
        }
        tx.commit()?;
        Ok(Added::Pages { pages, first_frame })
    }

    /// Records a source file that could not be read at all: no page number,
    /// state quarantined.
    pub fn add_quarantined(
        &mut self,
        book: &BookRow,
        source: &str,
        source_sha256: &str,
        reason: &str,
    ) -> Result<i64> {
        self.add_held(book, source, source_sha256, None, reason)
    }

    /// Records a page kept out of the book for `reason`, with its raw bytes
    /// in the spool when `spool_path` is given (a scan cut short).
    pub fn add_held(
        &mut self,
        book: &BookRow,
        source: &str,
        source_sha256: &str,
        spool_path: Option<&str>,
        reason: &str,
    ) -> Result<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO pages (book_id, source, source_sha256, spool_path, state, reason, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'quarantined', ?5, ?6, ?6)",
            params![book.id, source, source_sha256, spool_path, reason, now()],
        )?;
        let id = tx.last_insert_rowid();
        event(
            &tx,
            "quarantined",
            Some(book.id),
            Some(id),
            &format!("{source}: {reason}"),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Moves a page to `to`, checking the move is allowed; `set` gives the
    /// extra columns to write in the same transaction.
    fn transition(
        &mut self,
        page: i64,
        to: PageState,
        set: &str,
        values: &[&dyn rusqlite::ToSql],
        detail: &str,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (from, book): (String, i64) = tx
            .query_row(
                "SELECT state, book_id FROM pages WHERE id = ?1",
                [page],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(JournalError::NoPage(page))?;
        if !to.allowed_from().contains(&from.as_str()) {
            return Err(JournalError::Transition {
                page,
                from,
                to: to.as_str(),
            });
        }
        let sql = format!("UPDATE pages SET state = ?1, updated_at = ?2{set} WHERE id = ?3");
        let (state, at) = (to.as_str(), now());
        let mut all: Vec<&dyn rusqlite::ToSql> = vec![&state, &at];
        all.push(&page);
        all.extend_from_slice(values);
        tx.execute(&sql, all.as_slice())?;
        event(&tx, to.as_str(), Some(book), Some(page), detail)?;
        tx.commit()?;
        Ok(())
    }

    /// The pipeline ran: record the result's hash, size and report (JSON).
    pub fn mark_processed(
        &mut self,
        page: i64,
        sha256: &str,
        bytes: u64,
        report: &str,
    ) -> Result<()> {
        self.transition(
            page,
            PageState::Processed,
            ", sha256 = ?4, bytes = ?5, report = ?6, reason = NULL",
            &[&sha256, &(bytes as i64), &report],
            "",
        )
    }

    /// The result is in the archive at `archive_path` (relative to the root).
    pub fn mark_filed(&mut self, page: i64, archive_path: &str) -> Result<()> {
        self.transition(
            page,
            PageState::Filed,
            ", archive_path = ?4",
            &[&archive_path],
            archive_path,
        )
    }

    /// The page could not be processed, for `reason`.
    pub fn mark_quarantined(&mut self, page: i64, reason: &str) -> Result<()> {
        self.transition(
            page,
            PageState::Quarantined,
            ", reason = ?4",
            &[&reason],
            reason,
        )
    }

    /// A quarantined page is tried again (its raw bytes are still spooled).
    pub fn mark_retry(&mut self, page: i64) -> Result<()> {
        self.transition(page, PageState::Spooled, ", reason = NULL", &[], "retry")
    }

    /// Forgets the spool file of a page once it is filed.
    pub fn clear_spool(&mut self, page: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE pages SET spool_path = NULL WHERE id = ?1 AND state = 'filed'",
            [page],
        )?;
        Ok(())
    }

    /// Whether any page not yet filed still needs this spool file.
    pub fn spool_in_use(&self, spool_path: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM pages WHERE spool_path = ?1 AND state != 'filed')",
            [spool_path],
            |r| r.get(0),
        )?)
    }

    pub fn page(&self, page: i64) -> Result<PageRow> {
        self.conn
            .query_row(
                &format!("SELECT {PAGE_COLUMNS} FROM pages WHERE id = ?1"),
                [page],
                page_row,
            )
            .optional()?
            .ok_or(JournalError::NoPage(page))
    }

    /// Pages still on their way (spooled or processed), oldest first.
    pub fn unfinished(&self) -> Result<Vec<PageRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PAGE_COLUMNS} FROM pages WHERE state IN ('spooled', 'processed') ORDER BY id"
        ))?;
        let rows = stmt
            .query_map([], page_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// All pages of a book, numbered pages in order, then quarantined files.
    pub fn pages(&self, book: i64) -> Result<Vec<PageRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {PAGE_COLUMNS} FROM pages WHERE book_id = ?1 ORDER BY seq IS NULL, seq, id"
        ))?;
        let rows = stmt
            .query_map([book], page_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The book a page belongs to.
    pub fn book_of(&self, page: i64) -> Result<BookRow> {
        self.conn
            .query_row(
                &format!("SELECT {BOOK_COLUMNS} FROM books b JOIN pages p ON p.book_id = b.id WHERE p.id = ?1"),
                [page],
                book_row,
            )
            .optional()?
            .ok_or(JournalError::NoPage(page))
    }

    /// A book by its row id.
    pub fn book(&self, id: i64) -> Result<Option<BookRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {BOOK_COLUMNS} FROM books b WHERE b.id = ?1"),
                [id],
                book_row,
            )
            .optional()?)
    }

    /// Every book, newest first.
    pub fn books(&self) -> Result<Vec<BookRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {BOOK_COLUMNS} FROM books b ORDER BY b.id DESC"
        ))?;
        let rows = stmt
            .query_map([], book_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Starts finishing a book: from now until `mark_finished` or
    /// `end_finishing`, no new page is added to it. Refused when it is
    /// finished or already being finished.
    pub fn begin_finishing(&mut self, book: i64) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (name, state, finishing): (String, String, Option<i64>) = tx.query_row(
            "SELECT name, state, finishing_since FROM books WHERE id = ?1",
            [book],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        if state == "finished" {
            return Err(JournalError::BookFinished(name));
        }
        if finishing.is_some() {
            return Err(JournalError::BookFinishing(name));
        }
        tx.execute(
            "UPDATE books SET finishing_since = ?2 WHERE id = ?1",
            params![book, now()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A finish that failed: the book takes pages again.
    pub fn end_finishing(&mut self, book: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE books SET finishing_since = NULL WHERE id = ?1",
            [book],
        )?;
        Ok(())
    }

    /// Reopens every book a crash left half-finished (at start-up, before
    /// any page is taken). Returns how many.
    pub fn clear_finishing(&mut self) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE books SET finishing_since = NULL WHERE finishing_since IS NOT NULL",
            [],
        )?)
    }

    /// Marks a book finished (no more pages), with the finish report as
    /// the event's detail, in one transaction, but only if the book still
    /// holds exactly `bundled` (the snapshot its bundle was built from):
    /// a page that was held or edited meanwhile gives `BookChanged` and
    /// leaves the book open.
    pub fn mark_finished(
        &mut self,
        book: i64,
        detail: &str,
        bundled: &super::ops::BookSnapshot,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if super::ops::snapshot(&tx, book)? != *bundled {
            let name: String =
                tx.query_row("SELECT name FROM books WHERE id = ?1", [book], |r| r.get(0))?;
            return Err(JournalError::BookChanged(name));
        }
        tx.execute(
            "UPDATE books SET state = 'finished', finished_at = ?2, finishing_since = NULL WHERE id = ?1",
            params![book, now()],
        )?;
        event(&tx, "book_finished", Some(book), None, detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Sets (or with None clears) the book `source` files into now.
    pub fn set_current(&mut self, source: &str, book: Option<i64>) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        match book {
            Some(b) => {
                tx.execute(
                    "INSERT INTO current_books (source, book_id, since) VALUES (?1, ?2, ?3)
                     ON CONFLICT (source) DO UPDATE SET book_id = ?2, since = ?3",
                    params![source, b, now()],
                )?;
                event(&tx, "book_opened", Some(b), None, source)?;
            }
            None => {
                let old: Option<i64> = tx
                    .query_row(
                        "SELECT book_id FROM current_books WHERE source = ?1",
                        [source],
                        |r| r.get(0),
                    )
                    .optional()?;
                tx.execute("DELETE FROM current_books WHERE source = ?1", [source])?;
                if let Some(old) = old {
                    event(&tx, "book_closed", Some(old), None, source)?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The book `source` files into now, if one is open.
    pub fn current(&self, source: &str) -> Result<Option<BookRow>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {BOOK_COLUMNS} FROM books b JOIN current_books c ON c.book_id = b.id WHERE c.source = ?1"
                ),
                [source],
                book_row,
            )
            .optional()?)
    }

    /// Records a free-form event (scanner errors, operator actions).
    pub fn record(
        &mut self,
        kind: &str,
        book: Option<i64>,
        page: Option<i64>,
        detail: &str,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        event(&tx, kind, book, page, detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Read access for reports.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shas(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("f{i}")).collect()
    }

    #[test]
    fn a_rewritten_multi_page_file_adds_only_its_new_frames() {
        let mut j = Journal::in_memory().unwrap();
        let b = book(&mut j);
        j.add_pages(&b, "scan.tif", "v1", "s1", &shas(2)).unwrap();
        let added = j.add_pages(&b, "scan.tif", "v2", "s2", &shas(4)).unwrap();
        let Added::Pages { pages, first_frame } = added else {
            panic!("{added:?}")
        };
        assert_eq!(first_frame, 2);
        assert_eq!(pages.iter().map(|p| p.1).collect::<Vec<_>>(), vec![3, 4]);
        // The same frames again under another encoding: nothing new.
        assert_eq!(
            j.add_pages(&b, "scan.tif", "v3", "s3", &shas(4)).unwrap(),
            Added::Duplicate(vec![1, 2, 3, 4])
        );
        // A different file that reuses the name is all new.
        let other: Vec<String> = vec!["x".into(), "y".into()];
        let Added::Pages {
            pages,
            first_frame: 0,
        } = j.add_pages(&b, "scan.tif", "v4", "s4", &other).unwrap()
        else {
            panic!()
        };
        assert_eq!(pages.len(), 2);
    }

    fn book(j: &mut Journal) -> BookRow {
        let id = BookId {
            register: "KS".into(),
            year: 2010,
            number: 1,
            locality: "Đông Hà".into(),
        };
        j.ensure_book(&id, "KS.2010.01").unwrap()
    }

    #[test]
    fn a_book_being_finished_takes_no_pages_and_finishes_only_as_bundled() {
        let mut j = Journal::in_memory().unwrap();
        let b = book(&mut j);
        j.add_pages(&b, "a.png", "aa", "s", &shas(1)).unwrap();
        let bundled = j.book_snapshot(b.id).unwrap();
        j.begin_finishing(b.id).unwrap();
        assert!(matches!(
            j.begin_finishing(b.id),
            Err(JournalError::BookFinishing(_))
        ));
        assert!(matches!(
            j.add_pages(&b, "b.png", "bb", "s", &shas(1)),
            Err(JournalError::BookFinishing(_))
        ));
        // A failed finish, or a restart, opens the book again.
        j.end_finishing(b.id).unwrap();
        j.add_pages(&b, "b.png", "bb", "s", &shas(1)).unwrap();
        j.begin_finishing(b.id).unwrap();
        assert_eq!(j.clear_finishing().unwrap(), 1);
        // The bundle was built before page b arrived: not finished.
        assert!(matches!(
            j.mark_finished(b.id, "", &bundled),
            Err(JournalError::BookChanged(_))
        ));
        let now = j.book_snapshot(b.id).unwrap();
        j.mark_finished(b.id, "", &now).unwrap();
        assert!(matches!(
            j.add_pages(&b, "c.png", "cc", "s", &shas(1)),
            Err(JournalError::BookFinished(_))
        ));
    }

    #[test]
    fn pages_walk_spooled_processed_filed() {
        let mut j = Journal::in_memory().unwrap();
        let b = book(&mut j);
        let Added::Pages { pages, .. } = j
            .add_pages(&b, "a.png", "aa", "spool/aa.png", &shas(2))
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(pages.iter().map(|p| p.1).collect::<Vec<_>>(), vec![1, 2]);
        let p = pages[0].0;
        assert_eq!(j.page(p).unwrap().state, PageState::Spooled);
        // Filing before processing is refused.
        assert!(matches!(
            j.mark_filed(p, "x"),
            Err(JournalError::Transition { .. })
        ));
        j.mark_processed(p, "bb", 10, "{}").unwrap();
        j.mark_filed(p, "KS/p1.jpg").unwrap();
        let row = j.page(p).unwrap();
        assert_eq!(
            (row.state, row.archive_path.as_deref()),
            (PageState::Filed, Some("KS/p1.jpg"))
        );
        // A filed page cannot be quarantined; the other page can, and retried.
        assert!(j.mark_quarantined(p, "x").is_err());
        j.mark_quarantined(pages[1].0, "decoder says no").unwrap();
        assert_eq!(
            j.page(pages[1].0).unwrap().reason.as_deref(),
            Some("decoder says no")
        );
        j.mark_retry(pages[1].0).unwrap();
        assert_eq!(j.unfinished().unwrap().len(), 1);
        // Every transition left an event.
        let n: i64 = j
            .connection()
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1 + 2 + 1 + 1 + 1 + 1);
    }

    #[test]
    fn same_content_is_recognised_not_duplicated() {
        let mut j = Journal::in_memory().unwrap();
        let b = book(&mut j);
        j.add_pages(&b, "a.png", "aa", "s", &shas(1)).unwrap();
        j.add_pages(&b, "b.png", "bb", "s2", &["f-b".into()])
            .unwrap();
        assert_eq!(
            j.add_pages(&b, "copy-of-a.png", "aa", "s3", &shas(1))
                .unwrap(),
            Added::Duplicate(vec![1])
        );
        assert_eq!(j.pages(b.id).unwrap().len(), 2);
    }

    #[test]
    fn migrations_are_versioned_and_newer_journals_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(j);
        // Reopening runs nothing again.
        assert!(Journal::open(&path).is_ok());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            Journal::open(&path),
            Err(JournalError::TooNew { found: 99, .. })
        ));
    }

    #[test]
    fn current_book_is_set_and_cleared_per_source() {
        let mut j = Journal::in_memory().unwrap();
        let b = book(&mut j);
        assert_eq!(j.current(STATION).unwrap(), None);
        j.set_current(STATION, Some(b.id)).unwrap();
        assert_eq!(j.current(STATION).unwrap().map(|r| r.id), Some(b.id));
        assert_eq!(j.current("scanner:x").unwrap(), None);
        j.set_current(STATION, None).unwrap();
        assert_eq!(j.current(STATION).unwrap(), None);
        assert_eq!(j.books().unwrap().len(), 1);
    }

    #[test]
    fn wal_mode_is_on() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.sqlite")).unwrap();
        let mode: String = j
            .connection()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
