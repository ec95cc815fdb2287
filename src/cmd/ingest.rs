//! `sohoa ingest DIR --book BOOK_ID`: files every image in DIR into the book
//! as consecutive pages, in natural order, and prints a summary. Exits
//! non-zero when anything was quarantined or could not be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use sohoa::intake::{natural_cmp, BatchEvent, Intake, PageOutcome, Submitted};
use sohoa::store::filing;

#[derive(Default)]
struct Tally {
    files: usize,
    filed: usize,
    blank: usize,
    duplicates: usize,
    quarantined: Vec<String>,
    failed: Vec<String>,
}

pub fn run(
    dir: &Path,
    book: &str,
    locality: Option<&str>,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let (cfg, book_id) = super::config_and_book(config, book, locality, "--book")?;
    let files = list_images(dir)?;
    let intake = Intake::open(cfg)?;
    // Pages an earlier run left unfinished come first.
    intake.recover()?;
    let book = intake.book(&book_id)?;
    println!(
        "book {} ({}): {} files from {}",
        book.name,
        book_id.locality,
        files.len(),
        dir.display()
    );

    let tally = Mutex::new(Tally {
        files: files.len(),
        ..Tally::default()
    });
    let on_event = |event: BatchEvent| {
        let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            BatchEvent::File {
                file,
                submitted: Submitted::Duplicate(seqs),
            } => {
                println!(
                    "duplicate    {}: same content as page {seqs:?}, not added again",
                    file.display()
                );
                t.duplicates += 1;
            }
            BatchEvent::File {
                file,
                submitted: Submitted::Quarantined { reason, copy },
            } => {
                println!(
                    "quarantined  {}: {reason} (copy in {})",
                    file.display(),
                    copy.display()
                );
                t.quarantined.push(format!("{}: {reason}", file.display()));
            }
            BatchEvent::File { .. } => {}
            BatchEvent::Unreadable { file, error } => {
                println!("unreadable   {}: {error}", file.display());
                t.failed.push(format!("{}: {error}", file.display()));
            }
            BatchEvent::Page {
                outcome: Ok(PageOutcome::Filed { seq, path, blank }),
                ..
            } => {
                println!(
                    "filed        page {seq:>4} -> {path}{}",
                    if blank { "  (blank page)" } else { "" }
                );
                t.filed += 1;
                t.blank += blank as usize;
            }
            BatchEvent::Page {
                outcome: Ok(PageOutcome::Quarantined { seq, reason }),
                ..
            } => {
                println!(
                    "quarantined  page {}: {reason}",
                    seq.map(|s| s.to_string()).unwrap_or_default()
                );
                t.quarantined.push(format!("page {seq:?}: {reason}"));
            }
            BatchEvent::Page {
                page_id,
                outcome: Err(e),
            } => {
                println!("error        page id {page_id}: {e} (kept in the spool; it is retried on the next run)");
                t.failed.push(e.to_string());
            }
        }
    };
    intake.run_batch(&book, &files, &on_event)?;
    let t = tally.into_inner().unwrap_or_else(|p| p.into_inner());
    println!(
        "summary: {} files, {} pages filed ({} blank), {} duplicates skipped, {} quarantined, {} errors",
        t.files,
        t.filed,
        t.blank,
        t.duplicates,
        t.quarantined.len(),
        t.failed.len()
    );
    if t.quarantined.is_empty() && t.failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for q in t.quarantined.iter().chain(&t.failed) {
            eprintln!("sohoa: not filed: {q}");
        }
        eprintln!(
            "sohoa: quarantined files are in {}",
            intake.dirs().quarantine.display()
        );
        Ok(ExitCode::FAILURE)
    }
}

/// The regular files of `dir` in natural name order, without hidden files
/// and temp files of writers still at work.
fn list_images(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read folder {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let skip = name.starts_with('.')
            || name.ends_with('~')
            || name.ends_with(".part")
            || name.ends_with(".tmp")
            || name.ends_with(".reason.txt")
            || filing::is_temp(&name);
        if skip {
            eprintln!("sohoa: skipping {name} (hidden, temporary or a reason file)");
            continue;
        }
        if entry.path().is_file() {
            files.push(entry.path());
        } else {
            eprintln!("sohoa: skipping {name} (not a regular file; sub-folders are not read)");
        }
    }
    files.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
    Ok(files)
}
