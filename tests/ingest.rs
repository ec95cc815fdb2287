//! `sohoa ingest` end to end through the real binary: spool, journal,
//! pipeline, atomic filing, quarantine, natural order, idempotence.

mod common;

use std::path::Path;

use common::*;
use image::{GrayImage, Luma};

fn write_png(path: &Path, shade: u8) {
    let img = GrayImage::from_fn(120, 160, |x, y| {
        Luma([if (x / 10 + y / 10) % 7 == 0 {
            20
        } else {
            shade
        }])
    });
    img.save(path).unwrap();
}

#[test]
fn corpus_pages_are_filed_under_the_naming_scheme() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let images = corpus_images();
    assert!(images.len() >= 10, "corpus has {} images", images.len());
    for img in &images {
        std::fs::copy(img, input.join(img.file_name().unwrap())).unwrap();
    }
    let out = run(
        work.path(),
        &[
            "ingest",
            "in",
            "--book",
            "TĐCC.1999.03",
            "--locality",
            "Đông Hà",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let book_dir = work
        .path()
        .join("sohoa-data/archive/Đông Hà/TĐCC/1999/TĐCC.1999.03");
    let filed = files_under(&book_dir);
    let expected: Vec<String> = (1..=images.len())
        .map(|n| format!("TĐCC.1999.03.p{n:04}.jpg"))
        .collect();
    assert_eq!(filed, expected);
    // Every filed page decodes, and nothing but pages is in the archive.
    for name in &filed {
        let bytes = std::fs::read(book_dir.join(name)).unwrap();
        assert_eq!(sohoa::codec::decode(&bytes).unwrap().len(), 1, "{name}");
    }
    assert_eq!(
        files_under(&work.path().join("sohoa-data/archive")).len(),
        images.len()
    );
    // The spool is empty once everything is filed.
    assert!(files_under(&work.path().join("sohoa-data/state/spool")).is_empty());
    assert!(
        text(&out).contains(&format!("{} pages filed", images.len())),
        "{}",
        text(&out)
    );

    // A second run recognises every file and files nothing twice.
    let again = run(
        work.path(),
        &[
            "ingest",
            "in",
            "--book",
            "TĐCC.1999.03",
            "--locality",
            "Đông Hà",
        ],
    );
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains(&format!("{} duplicates skipped", images.len())),
        "{}",
        text(&again)
    );
    assert_eq!(files_under(&book_dir), expected);
}

#[test]
fn pages_follow_natural_order_and_multi_page_tiffs_expand() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // p10 is darker than p2 so the filed order can be read back from pixels.
    write_png(&input.join("p10.png"), 100);
    write_png(&input.join("p2.png"), 200);
    // A three-page TIFF between them in natural order (p3).
    let mut tif = Vec::new();
    {
        let mut enc = tiff::encoder::TiffEncoder::new(std::io::Cursor::new(&mut tif)).unwrap();
        for shade in [150u8, 140, 130] {
            let img = GrayImage::from_pixel(80, 100, Luma([shade]));
            enc.write_image::<tiff::encoder::colortype::Gray8>(80, 100, img.as_raw())
                .unwrap();
        }
    }
    std::fs::write(input.join("p3.tif"), &tif).unwrap();
    // Flat shades are the order markers here; paper flattening would turn
    // every flat page white, so it is off for this test.
    std::fs::write(
        work.path().join("flat.toml"),
        "[output]\nnormalize_background = false\n",
    )
    .unwrap();
    let out = run(
        work.path(),
        &[
            "ingest",
            "in",
            "--book",
            "KS.2010.01",
            "--locality",
            "Cam Lộ",
            "--config",
            "flat.toml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let dir = work
        .path()
        .join("sohoa-data/archive/Cam Lộ/KS/2010/KS.2010.01");
    let names = files_under(&dir);
    assert_eq!(
        names,
        (1..=5)
            .map(|n| format!("KS.2010.01.p{n:04}.jpg"))
            .collect::<Vec<_>>()
    );
    let mean = |n: usize| {
        let img = image::open(dir.join(&names[n])).unwrap().to_luma8();
        img.pixels().map(|p| p.0[0] as f64).sum::<f64>() / (img.width() * img.height()) as f64
    };
    // p2 (bright), then the TIFF pages 150, 140, 130, then p10 (dark).
    let means: Vec<f64> = (0..5).map(mean).collect();
    assert!(
        means[0] > means[1] && means[1] > means[2] && means[2] > means[3] && means[3] > means[4],
        "{means:?}"
    );
}

#[test]
fn unreadable_files_are_quarantined_with_reasons_and_the_exit_code_says_so() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    std::fs::create_dir(&input).unwrap();
    write_png(&input.join("a1.png"), 200);
    std::fs::write(input.join("a2.txt"), "not an image").unwrap();
    let mut png = std::fs::read(input.join("a1.png")).unwrap();
    png.truncate(png.len() / 2);
    std::fs::write(input.join("a3.png"), &png).unwrap();
    let jpg = std::fs::read(corpus().join("1555.003.jpg")).unwrap();
    std::fs::write(input.join("a4.jpg"), &jpg[..jpg.len() * 2 / 3]).unwrap();
    write_png(&input.join("a5.png"), 120);

    let out = run(work.path(), &["ingest", "in", "--book", "KT.2001.02"]);
    assert!(
        !out.status.success(),
        "ingest must fail when files are quarantined: {}",
        text(&out)
    );
    let t = text(&out);
    assert!(
        t.contains("2 pages filed") && t.contains("3 quarantined"),
        "{t}"
    );
    let q = work.path().join("sohoa-data/quarantine");
    let names = files_under(&q);
    for bad in ["a2.txt", "a3.png", "a4.jpg"] {
        assert!(names.contains(&bad.to_string()), "{names:?}");
        let reason = std::fs::read_to_string(q.join(format!("{bad}.reason.txt"))).unwrap();
        assert!(reason.contains("reason: "), "{reason}");
    }
    assert!(std::fs::read_to_string(q.join("a2.txt.reason.txt"))
        .unwrap()
        .contains("not an image"));
    assert!(std::fs::read_to_string(q.join("a3.png.reason.txt"))
        .unwrap()
        .contains("damaged or cut short"));
    // The good pages are consecutive: the bad ones take no page number.
    let dir = work
        .path()
        .join("sohoa-data/archive/Chưa đặt/KT/2001/KT.2001.02");
    assert_eq!(
        files_under(&dir),
        vec!["KT.2001.02.p0001.jpg", "KT.2001.02.p0002.jpg"]
    );
}

#[test]
fn bad_book_ids_are_refused_before_anything_is_written() {
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("in")).unwrap();
    for (book, want) in [
        ("ZZ.2010.01", "unknown register type \"ZZ\""),
        ("KS/2010.01", "path separator"),
        ("KS.2010", "does not match"),
        ("KS.1200.01", "year 1200"),
    ] {
        let out = run(work.path(), &["ingest", "in", "--book", book]);
        assert!(!out.status.success());
        assert!(text(&out).contains(want), "{book}: {}", text(&out));
    }
    let out = run(
        work.path(),
        &[
            "ingest",
            "in",
            "--book",
            "KS.2010.01",
            "--locality",
            "../../etc",
        ],
    );
    assert!(text(&out).contains("locality"), "{}", text(&out));
    assert!(
        !work.path().join("sohoa-data").exists(),
        "nothing may be created for a refused book"
    );
}

#[test]
fn ascii_names_fold_the_archive_paths() {
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("in");
    std::fs::create_dir(&input).unwrap();
    write_png(&input.join("1.png"), 200);
    std::fs::write(work.path().join("c.toml"), "[naming]\nascii_names = true\n").unwrap();
    let out = run(
        work.path(),
        &[
            "ingest",
            "in",
            "--book",
            "TĐCC.2005.07",
            "--locality",
            "Đông Hà",
            "--config",
            "c.toml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        files_under(&work.path().join("sohoa-data/archive")),
        vec!["Dong Ha/TDCC/2005/TDCC.2005.07/TDCC.2005.07.p0001.jpg"]
    );
}
