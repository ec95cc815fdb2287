//! Finishing a book while pages keep arriving: the bundle holds exactly the
//! pages the journal has filed in the finished book, never one fewer (a
//! page filed while the bundle was being built used to sit in the finished
//! book but not in its bundle).

mod common;

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sohoa::config::Config;
use sohoa::intake::{Intake, Submitted};
use sohoa::store::finish::{finish_book, FinishError};
use sohoa::store::PageState;

#[test]
fn pages_filed_while_a_book_is_finished_are_in_its_bundle() {
    for round in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::parse(&format!(
            "[paths]\ndata = \"{}\"\n[workers]\nthreads = 1\n",
            dir.path().join("data").display()
        ))
        .unwrap();
        let intake = Intake::open(cfg).unwrap();
        let id = intake
            .naming()
            .parse_book("KS.2015.04", &intake.config().station.locality)
            .unwrap();
        let book = intake.book(&id).unwrap();
        let stop = AtomicBool::new(false);
        let finished = std::thread::scope(|s| {
            // The feeder: a page every few milliseconds until the book is
            // finished and refuses more.
            s.spawn(|| {
                for n in 1.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let bytes = common::numbered_png(round * 1000 + n);
                    match intake.submit(&book, &format!("p{n}.png"), &bytes) {
                        Ok((Submitted::Spooled(pages), frames)) => {
                            for ((page, _), frame) in pages.into_iter().zip(frames) {
                                intake.process(page, Some(frame)).unwrap();
                            }
                        }
                        Ok(other) => panic!("round {round} page {n}: {other:?}"),
                        Err(_) => break,
                    }
                    std::thread::sleep(Duration::from_millis(3));
                }
            });
            // The operator presses "finish" until it goes through.
            let start = Instant::now();
            std::thread::sleep(Duration::from_millis(20));
            loop {
                let row = intake.journal().book(book.id).unwrap().unwrap();
                match finish_book(&intake, &row, false) {
                    Ok(done) => {
                        stop.store(true, Ordering::Relaxed);
                        break done;
                    }
                    Err(FinishError::Pending { .. } | FinishError::Changing { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
                assert!(start.elapsed() < Duration::from_secs(60), "never finished");
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let pages = intake.journal().pages(book.id).unwrap();
        let filed = pages
            .iter()
            .filter(|p| p.seq.is_some() && p.state == PageState::Filed)
            .count();
        assert!(
            pages.iter().all(|p| p.state != PageState::Spooled),
            "round {round}: a page was left spooled in the finished book"
        );
        let zip = std::fs::File::open(intake.dirs().archive.join(&finished.bundle)).unwrap();
        let mut zip = zip::ZipArchive::new(zip).unwrap();
        let mut manifest = String::new();
        zip.by_name("manifest.csv")
            .unwrap()
            .read_to_string(&mut manifest)
            .unwrap();
        let in_bundle: usize = manifest
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(
            in_bundle, filed,
            "round {round}: the bundle's manifest must list every filed page\n{manifest}"
        );
        assert_eq!(finished.pages, filed, "round {round}");
    }
}
