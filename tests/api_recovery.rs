//! A page edit interrupted between its journal commit and its renames is
//! finished at the next start, before any page is processed: the new page
//! never lands on a file still in use, and every image keeps its content.

#[path = "support/pages.rs"]
mod pages;

use sohoa::config::Config;
use sohoa::intake::{Intake, PageOutcome, Submitted};
use sohoa::store::ops::NewPage;
use sohoa::store::spool::sha256_hex;

fn config(dir: &std::path::Path) -> Config {
    Config::parse(&format!(
        "[paths]\ndata = \"{}\"\n[workers]\nthreads = 1\n",
        dir.join("data").display()
    ))
    .unwrap()
}

#[test]
fn interrupted_insert_is_completed_at_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let intake = Intake::open(config(dir.path())).unwrap();
    let id = intake
        .naming()
        .parse_book("KS.2010.01", &intake.config().station.locality)
        .unwrap();
    let book = intake.book(&id).unwrap();
    let mut filed = Vec::new();
    for seed in 0..3 {
        let (sub, frames) = intake
            .submit(&book, &format!("p{seed}.png"), &pages::page_png(seed))
            .unwrap();
        let Submitted::Spooled(p) = sub else { panic!() };
        let out = intake.process(p[0].0, frames.into_iter().next()).unwrap();
        let PageOutcome::Filed { path, .. } = out else {
            panic!("{out:?}")
        };
        filed.push(std::fs::read(intake.dirs().archive.join(&path)).unwrap());
    }

    // The journal commits an insert after page 1, then the power goes:
    // no rename has happened yet.
    let new_bytes = pages::page_png(9);
    let sha = sha256_hex(&new_bytes);
    let spool = sohoa::store::spool::Spool::new(&intake.dirs().spool()).unwrap();
    let spool_name = spool.put(&sha, "png", &new_bytes).unwrap();
    let naming = intake.naming().clone();
    let bid = id.clone();
    let path = move |seq: u32, ext: &str| {
        naming
            .book_dir(&bid)
            .join(naming.page_file(&bid, seq, ext))
            .to_string_lossy()
            .into_owned()
    };
    let (new_id, seq) = intake
        .journal()
        .plan_insert(
            book.id,
            1,
            NewPage {
                source: "inserted.png",
                sha256: &sha,
                spool_path: &spool_name,
            },
            &path,
        )
        .unwrap();
    assert_eq!(seq, 2);
    assert_eq!(intake.journal().pending_moves().unwrap().len(), 2);
    drop(intake);

    // Next start: the renames run first, then recovery files the new page.
    let intake = Intake::open(config(dir.path())).unwrap();
    assert!(intake.journal().pending_moves().unwrap().is_empty());
    let results = intake.recover().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].0, new_id);
    let pages = intake.journal().pages(book.id).unwrap();
    let contents: Vec<Vec<u8>> = pages
        .iter()
        .map(|p| {
            std::fs::read(
                intake
                    .dirs()
                    .archive
                    .join(p.archive_path.as_deref().unwrap()),
            )
            .unwrap()
        })
        .collect();
    assert_eq!(contents.len(), 4);
    assert_eq!(contents[0], filed[0]);
    assert_eq!(contents[2], filed[1], "old page 2 is now page 3");
    assert_eq!(contents[3], filed[2], "old page 3 is now page 4");
    assert_ne!(contents[1], filed[1]);
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p.seq, Some(i as u32 + 1));
        assert!(p
            .archive_path
            .as_deref()
            .unwrap()
            .contains(&format!(".p{:04}.", i + 1)));
    }
}
