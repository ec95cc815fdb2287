//! `sohoa book finish BOOK_ID`: the case PDFs and the book bundle. Refused,
//! with the reason, while pages are under way or quarantined.

use std::path::Path;
use std::process::ExitCode;

use sohoa::intake::Intake;
use sohoa::store::finish::finish_book;

pub fn run(
    book: &str,
    locality: Option<&str>,
    config: Option<&Path>,
    accept_quarantined: bool,
) -> anyhow::Result<ExitCode> {
    let (cfg, book_id) = super::config_and_book(config, book, locality, "BOOK_ID")?;
    let intake = Intake::open(cfg)?;
    // Pages an earlier run left unfinished are filed first.
    intake.recover()?;
    let exists = intake
        .journal()
        .books()?
        .into_iter()
        .find(|b| b.book == book_id);
    let Some(row) = exists else {
        anyhow::bail!(
            "book {} ({}) has no pages in this journal",
            intake.naming().render_book(&book_id),
            book_id.locality
        );
    };
    match finish_book(&intake, &row, accept_quarantined) {
        Ok(done) => {
            println!(
                "book {} finished: {} cases, {} pages",
                done.book, done.cases, done.pages
            );
            if !done.dropped_blank.is_empty() {
                let list: Vec<String> = done.dropped_blank.iter().map(u32::to_string).collect();
                println!(
                    "left out as blank (imaging.blank = \"drop\"; still in the archive): page {}",
                    list.join(", ")
                );
            }
            for f in &done.files {
                println!("  {f}");
            }
            println!(
                "bundle: {} ({} bytes, sha256 {})",
                done.bundle, done.bundle_bytes, done.bundle_sha256
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("sohoa: {e}");
            eprintln!("sohoa: {}", e.message_vi());
            Ok(ExitCode::from(2))
        }
    }
}
