//! `sohoa book finish`: case PDFs and the book bundle from a captured book;
//! refused while files are quarantined, and once finished.

mod common;
#[path = "support/pages.rs"]
mod pages;

use std::io::Read;
use std::path::Path;

use common::*;

fn ingest(dir: &Path, book: &str) -> std::process::Output {
    run(dir, &["ingest", "in", "--book", book])
}

#[test]
fn a_finished_book_has_one_valid_pdf_per_case_and_a_bundle() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for i in 1..=3 {
        std::fs::write(input.join(format!("p{i}.png")), numbered_png(i)).unwrap();
    }
    assert!(ingest(work.path(), "KH.2001.03").status.success());
    let out = run(work.path(), &["book", "finish", "KH.2001.03"]);
    assert!(out.status.success(), "{}", text(&out));
    let dir = work
        .path()
        .join("sohoa-data/archive/Chưa đặt/KH/2001/KH.2001.03");
    for case in 1..=3 {
        let pdf = dir.join(format!("KH.2001.03.{case:03}.pdf"));
        assert!(pdf.is_file(), "{}", text(&out));
        if require("qpdf", "qpdf") {
            let q = std::process::Command::new("qpdf")
                .arg("--check")
                .arg(&pdf)
                .output()
                .unwrap();
            assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stdout));
        }
    }
    let zip = std::fs::File::open(dir.join("KH.2001.03.zip")).unwrap();
    let mut zip = zip::ZipArchive::new(zip).unwrap();
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    for want in ["KH.2001.03.001.pdf", "KH.2001.03.003.pdf", "manifest.csv"] {
        assert!(names.iter().any(|n| n == want), "{names:?}");
    }
    let mut manifest = String::new();
    zip.by_name("manifest.csv")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    assert_eq!(manifest.lines().count(), 4, "{manifest}");
    // Finished: no second finish, no more pages.
    let again = run(work.path(), &["book", "finish", "KH.2001.03"]);
    assert!(
        !again.status.success() && text(&again).contains("already finished"),
        "{}",
        text(&again)
    );
    std::fs::write(input.join("p4.png"), numbered_png(4)).unwrap();
    let more = ingest(work.path(), "KH.2001.03");
    assert!(
        !more.status.success() && text(&more).contains("finished"),
        "{}",
        text(&more)
    );
}

#[test]
fn finishing_is_refused_while_files_are_quarantined() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("p1.png"), numbered_png(1)).unwrap();
    std::fs::write(input.join("p2.png"), b"not a png at all, just text").unwrap();
    assert!(!ingest(work.path(), "KS.2002.01").status.success());
    let out = run(work.path(), &["book", "finish", "KS.2002.01"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("quarantined") && text(&out).contains("p2.png"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("bị lỗi"), "{}", text(&out));
    let out = run(
        work.path(),
        &["book", "finish", "KS.2002.01", "--accept-quarantined"],
    );
    assert!(out.status.success(), "{}", text(&out));
}

/// A textured sheet with no writing: blank by the pipeline's measure.
fn blank_png() -> Vec<u8> {
    let img = image::GrayImage::from_fn(160, 220, |x, y| {
        image::Luma([228 + ((x * 7 + y * 3) % 9) as u8])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[test]
fn blank_drop_leaves_blank_pages_out_of_the_pdfs_without_renumbering() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("p1.png"), pages::page_png(1)).unwrap();
    std::fs::write(input.join("p2.png"), blank_png()).unwrap();
    std::fs::write(input.join("p3.png"), pages::page_png(3)).unwrap();
    std::fs::write(work.path().join("c.toml"), "[imaging]\nblank = \"drop\"\n").unwrap();
    let args = ["--config", "c.toml"];
    let out = run(
        work.path(),
        &[&["ingest", "in", "--book", "KT.2003.01"][..], &args].concat(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("(blank page)"), "{}", text(&out));
    let out = run(
        work.path(),
        &[&["book", "finish", "KT.2003.01"][..], &args].concat(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("left out as blank"), "{}", text(&out));
    assert!(text(&out).contains("2 cases, 2 pages"), "{}", text(&out));
    let dir = work
        .path()
        .join("sohoa-data/archive/Chưa đặt/KT/2003/KT.2003.01");
    // One page per case: case 2 was the blank page; 1 and 3 keep their numbers.
    assert!(dir.join("KT.2003.01.001.pdf").is_file());
    assert!(!dir.join("KT.2003.01.002.pdf").exists());
    assert!(dir.join("KT.2003.01.003.pdf").is_file());
    // The blank page itself is still filed under its number.
    assert!(
        dir.join("KT.2003.01.p0002.jpg").is_file(),
        "{:?}",
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect::<Vec<_>>()
    );
}

#[test]
fn blank_drop_refuses_a_book_of_only_blank_pages() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("p1.png"), blank_png()).unwrap();
    std::fs::write(work.path().join("c.toml"), "[imaging]\nblank = \"drop\"\n").unwrap();
    let ingest = run(
        work.path(),
        &["ingest", "in", "--book", "KT.2003.02", "--config", "c.toml"],
    );
    assert!(ingest.status.success(), "{}", text(&ingest));
    let out = run(
        work.path(),
        &["book", "finish", "KT.2003.02", "--config", "c.toml"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("every page is blank"), "{}", text(&out));
    // With the default (flag) the same book finishes with its blank page.
    let out = run(work.path(), &["book", "finish", "KT.2003.02"]);
    assert!(out.status.success(), "{}", text(&out));
}
