//! Page edits the operator asks for: replace page N, insert after N, delete
//! page N, reprocess page N with another output profile.
//!
//! New bytes take the same road as any page (decoded to prove them whole,
//! spooled, journal row committed, then processed by the workers); the
//! journal plans every rename in the same transaction (`store::ops`) and
//! `store::moves` carries the renames out before the new page is queued.
//! Removed and superseded images go to `state/trash`, never away. Runs on
//! a blocking thread, never on the async runtime.

use crate::codec::{self, Frame, OutputConfig};
use crate::intake::Intake;
use crate::store::moves::{self, MoveError};
use crate::store::ops::{EditError, NewPage, PageView};
use crate::store::spool::{sha256_hex, Spool};

/// Where a new page goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Takes the number of page N; the old page goes to the trash.
    Replace(u32),
    /// Becomes page N+1; the pages behind move up by one.
    InsertAfter(u32),
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error(transparent)]
    Move(#[from] MoveError),
    #[error("the file is not a readable image ({0}); scan the page again or send another file")]
    Unreadable(String),
    #[error("the file holds {0} pages; a page edit takes exactly one page")]
    Pages(usize),
    #[error("{0} is not an output profile; use colour, grey, bilevel or auto")]
    Profile(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// Spools one page and puts it at `placement` in the book. Returns the new
/// page's id and number and its decoded frame, for the caller to queue.
pub fn place_page(
    intake: &Intake,
    book: i64,
    placement: Placement,
    source: &str,
    bytes: &[u8],
) -> Result<(i64, u32, Frame), Error> {
    let mut frames = codec::decode(bytes).map_err(|e| Error::Unreadable(e.to_string()))?;
    if frames.len() != 1 {
        return Err(Error::Pages(frames.len()));
    }
    let frame = frames.remove(0);
    let sha = sha256_hex(bytes);
    let ext = codec::probe_format(bytes).map(|f| f.ext()).unwrap_or("bin");
    let spool = Spool::new(&intake.dirs().spool()).map_err(io("opening the spool"))?;
    let spool_name = spool
        .put(&sha, ext, bytes)
        .map_err(io(format!("spooling {source}")))?;
    let new = NewPage {
        source,
        sha256: &sha,
        spool_path: &spool_name,
    };
    let mut j = intake.journal();
    let book_row = j
        .book(book)
        .map_err(EditError::from)?
        .ok_or(EditError::NoBook(book))?;
    let path = page_path(intake, &book_row.book);
    let planned = match placement {
        Placement::Replace(seq) => j.plan_replace(book, seq, new).map(|id| (id, seq)),
        Placement::InsertAfter(after) => j.plan_insert(book, after, new, &path),
    };
    let (id, seq) = match planned {
        Ok(p) => p,
        Err(e) => {
            if !j.spool_in_use(&spool_name).unwrap_or(true) {
                let _ = spool.remove(&spool_name);
            }
            return Err(e.into());
        }
    };
    moves::apply_pending(&mut j, intake.dirs())?;
    Ok((id, seq, frame))
}

/// The archive path of page `seq` of a book, relative to the root.
fn page_path<'a>(
    intake: &'a Intake,
    book: &'a crate::book::BookId,
) -> impl Fn(u32, &str) -> String + 'a {
    let dir = intake.naming().book_dir(book);
    move |seq, ext| {
        dir.join(intake.naming().page_file(book, seq, ext))
            .to_string_lossy()
            .into_owned()
    }
}

/// Takes page `seq` out of the book (its image to the trash) and renumbers
/// the pages behind it. Returns the removed page's id.
pub fn delete_page(intake: &Intake, book: i64, seq: u32) -> Result<i64, Error> {
    let mut j = intake.journal();
    let book_row = j
        .book(book)
        .map_err(EditError::from)?
        .ok_or(EditError::NoBook(book))?;
    let path = page_path(intake, &book_row.book);
    let id = j.plan_delete(book, seq, &path)?;
    moves::apply_pending(&mut j, intake.dirs())?;
    Ok(id)
}

/// Encodes filed page `seq` again with another output profile (colour,
/// grey, bilevel, auto). The raw scan is not kept after filing, so this
/// starts from the filed image; the previous file stays in the trash.
pub fn reprocess(intake: &Intake, book: i64, seq: u32, profile: &str) -> Result<PageView, Error> {
    let profile_value: codec::encode::Profile =
        serde_json::from_value(serde_json::Value::String(profile.to_string()))
            .map_err(|_| Error::Profile(profile.to_string()))?;
    let (book_row, (page, archive, trash), old_report) = {
        let mut j = intake.journal();
        let b = j
            .book(book)
            .map_err(EditError::from)?
            .ok_or(EditError::NoBook(book))?;
        let target = j.reprocess_target(book, seq)?;
        let report = j.page_view(target.0)?.report;
        (b, target, report)
    };
    let dirs = intake.dirs();
    let old = std::fs::read(dirs.archive.join(&archive))
        .map_err(io(format!("reading page {seq} ({archive})")))?;
    let frame = codec::decode_frame(&old, 0)
        .map_err(|e| Error::Other(format!("page {seq} ({archive}) cannot be read back: {e}")))?;
    let cfg = intake.config();
    let out = OutputConfig {
        profile: profile_value,
        ..cfg.output.clone()
    };
    let dpi = frame
        .dpi
        .filter(|d| (50.0..=4800.0).contains(d))
        .unwrap_or(out.default_dpi as f32);
    let encoded = codec::encode(&frame.image, dpi, &out)
        .map_err(|e| Error::Other(format!("page {seq}: {e}")))?;
    // Keep the old image first, then write the new one in place.
    moves::keep_copy(dirs, &archive, &trash)
        .map_err(io(format!("keeping the old image of page {seq}")))?;
    let rel_dir = intake.naming().book_dir(&book_row.book);
    let name = intake.naming().page_file(&book_row.book, seq, encoded.ext);
    crate::store::filing::file_atomic(&dirs.archive.join(&rel_dir), &name, &encoded.bytes)
        .map_err(io(format!("filing page {seq}")))?;
    let rel = rel_dir.join(&name).to_string_lossy().into_owned();
    let mut j = intake.journal();
    let mut report = match old_report {
        Some(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    report.insert("profile".into(), profile.into());
    report.insert("bytes".into(), encoded.bytes.len().into());
    report.insert("quality".into(), encoded.quality.into());
    let report = serde_json::Value::Object(report);
    j.record_reprocessed(
        page,
        &rel,
        &sha256_hex(&encoded.bytes),
        encoded.bytes.len() as u64,
        &report.to_string(),
        &format!("page {seq} as {profile}; previous image kept in trash as {trash}"),
    )?;
    if rel != archive {
        let _ = std::fs::remove_file(dirs.archive.join(&archive));
    }
    Ok(j.page_view(page)?)
}
