//! The watch folder, through the real daemon process: files are taken only
//! when complete, once, in order; bad files are quarantined with reasons;
//! polling works without inotify; a restart mid-batch loses nothing and
//! duplicates nothing.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::*;

const FAST: &str = "[watch]\nstable_secs = 0.6\npoll_secs = 0.2\nincomplete_secs = 3.0\n";

fn archive_files(dir: &Path) -> Vec<String> {
    files_under(&dir.join("sohoa-data/archive"))
}

#[test]
fn a_slow_writer_is_taken_once_and_complete() {
    let work = tempfile::tempdir().unwrap();
    let d = Daemon::start(work.path(), FAST);
    let book = work.path().join("sohoa-data/watch/KS.2012.04");
    std::fs::create_dir_all(&book).unwrap();
    // Write a real scan in pieces over ~4 s, slower than the settle delay.
    let bytes = std::fs::read(corpus().join("1555.003.jpg")).unwrap();
    let mut f = std::fs::File::create(book.join("slow.jpg")).unwrap();
    let chunks: Vec<&[u8]> = bytes.chunks(bytes.len() / 10 + 1).collect();
    for (i, c) in chunks.iter().enumerate() {
        f.write_all(c).unwrap();
        f.flush().unwrap();
        // One long pause mid-file, longer than stable_secs: only the
        // completeness check keeps the file from being taken here.
        std::thread::sleep(Duration::from_millis(if i == 4 { 1200 } else { 300 }));
    }
    drop(f);
    wait_until(Duration::from_secs(30), "the page is filed", || {
        filed_count(work.path()) == 1
    });
    std::thread::sleep(Duration::from_secs(2));
    let pages = journal_pages(work.path());
    assert_eq!(pages.len(), 1, "{pages:?}\n{}", d.log());
    let done = work.path().join("sohoa-data/done/KS.2012.04/slow.jpg");
    assert_eq!(
        std::fs::read(&done).unwrap(),
        bytes,
        "the source moved to done/ whole"
    );
    assert!(!book.join("slow.jpg").exists());
    let filed = archive_files(work.path());
    assert_eq!(
        filed,
        vec!["Chưa đặt/KS/2012/KS.2012.04/KS.2012.04.p0001.jpg"]
    );
    assert!(d.stop().success());
}

#[test]
fn truncated_and_non_image_files_are_quarantined_with_reasons() {
    let work = tempfile::tempdir().unwrap();
    let d = Daemon::start(work.path(), FAST);
    let book = work.path().join("sohoa-data/watch/KT.2003.01");
    std::fs::create_dir_all(&book).unwrap();
    let jpg = std::fs::read(corpus().join("cat.007.jpg")).unwrap();
    std::fs::write(book.join("cut.jpg"), &jpg[..jpg.len() / 2]).unwrap();
    std::fs::write(
        book.join("notes.txt"),
        "Danh sách trang cần quét lại\n".repeat(10),
    )
    .unwrap();
    std::fs::write(book.join("good.png"), numbered_png(1)).unwrap();
    let q = work.path().join("sohoa-data/quarantine");
    wait_until(
        Duration::from_secs(30),
        "both bad files are quarantined",
        || q.join("cut.jpg.reason.txt").exists() && q.join("notes.txt.reason.txt").exists(),
    );
    let cut = std::fs::read_to_string(q.join("cut.jpg.reason.txt")).unwrap();
    assert!(cut.contains("unfinished") && cut.contains("JPEG"), "{cut}");
    let txt = std::fs::read_to_string(q.join("notes.txt.reason.txt")).unwrap();
    assert!(txt.contains("not an image"), "{txt}");
    assert_eq!(
        std::fs::read(q.join("cut.jpg")).unwrap(),
        &jpg[..jpg.len() / 2]
    );
    wait_until(Duration::from_secs(20), "the good page is filed", || {
        filed_count(work.path()) == 1
    });
    // The daemon keeps going: fixing the quarantined file in place brings it back.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(q.join("cut.jpg"), &jpg).unwrap();
    wait_until(Duration::from_secs(30), "the fixed file is filed", || {
        filed_count(work.path()) == 2
    });
    assert!(!q.join("cut.jpg").exists());
    assert!(d.stop().success());
}

fn drop_files(dir: &Path, n: u32) {
    // Written under temp names and renamed in, as a batch job would; all at once.
    std::fs::create_dir_all(dir).unwrap();
    for i in 1..=n {
        let tmp = dir.join(format!("scan-{i}.png.part"));
        std::fs::write(&tmp, numbered_png(i)).unwrap();
        std::fs::rename(&tmp, dir.join(format!("scan-{i}.png"))).unwrap();
    }
}

fn assert_in_order_exactly_once(dir: &Path, n: u32) {
    let pages = journal_pages(dir);
    let names: Vec<String> = pages
        .iter()
        .map(|p| {
            Path::new(&p.1)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let want: Vec<String> = (1..=n).map(|i| format!("scan-{i}.png")).collect();
    assert_eq!(
        names, want,
        "pages must follow natural file order, once each"
    );
    assert!(pages
        .iter()
        .enumerate()
        .all(|(i, p)| p.0 == Some(i as u32 + 1) && p.2 == "filed"));
    assert_eq!(archive_files(dir).len(), n as usize);
}

#[test]
fn five_hundred_files_dropped_at_once_are_filed_once_in_order() {
    let work = tempfile::tempdir().unwrap();
    let d = Daemon::start(work.path(), FAST);
    let book = work.path().join("sohoa-data/watch/KH.2015.02");
    drop_files(&book, 500);
    wait_until(Duration::from_secs(240), "500 pages are filed", || {
        filed_count(work.path()) == 500
    });
    assert_in_order_exactly_once(work.path(), 500);
    assert_eq!(
        files_under(&work.path().join("sohoa-data/done/KH.2015.02")).len(),
        500
    );
    assert!(files_under(&book).is_empty());
    assert!(d.stop().success());
}

#[test]
fn polling_works_with_inotify_off() {
    let work = tempfile::tempdir().unwrap();
    let d = Daemon::start(work.path(), &format!("{FAST}mode = \"poll\"\n"));
    drop_files(&work.path().join("sohoa-data/watch/GH.2020.01"), 5);
    wait_until(Duration::from_secs(30), "5 pages are filed", || {
        filed_count(work.path()) == 5
    });
    assert!(d.log().contains("polling=true"), "{}", d.log());
    assert_in_order_exactly_once(work.path(), 5);
    assert!(d.stop().success());
}

#[test]
fn a_restart_mid_batch_loses_nothing_and_duplicates_nothing() {
    let work = tempfile::tempdir().unwrap();
    let d = Daemon::start(work.path(), FAST);
    let port = d.port;
    drop_files(&work.path().join("sohoa-data/watch/KS.2009.07"), 120);
    wait_until(Duration::from_secs(60), "some pages are filed", || {
        filed_count(work.path()) >= 10
    });
    d.kill9();
    let filed_before = filed_count(work.path());
    assert!(
        filed_before < 120,
        "the batch finished before the kill; nothing was tested"
    );
    let d = Daemon::start_with(work.path(), port);
    wait_until(Duration::from_secs(120), "all 120 pages are filed", || {
        filed_count(work.path()) == 120
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_in_order_exactly_once(work.path(), 120);
    assert!(!files_under(&work.path().join("sohoa-data/archive"))
        .iter()
        .any(|f| f.contains("sohoa-tmp")));
    assert!(d.stop().success());
}

#[test]
fn files_at_the_top_go_to_the_open_book_or_wait_in_the_inbox() {
    let work = tempfile::tempdir().unwrap();
    let d = Daemon::start(work.path(), FAST);
    let watch = work.path().join("sohoa-data/watch");
    std::fs::write(watch.join("loose.png"), numbered_png(7)).unwrap();
    let inbox = work.path().join("sohoa-data/inbox/loose.png");
    wait_until(
        Duration::from_secs(20),
        "the file waits in the inbox",
        || inbox.exists(),
    );
    assert!(journal_pages(work.path()).is_empty());
    // A sub-folder that is not a book ID: files stay, with an explanation.
    std::fs::create_dir_all(watch.join("không phải sổ")).unwrap();
    std::fs::write(watch.join("không phải sổ/a.png"), numbered_png(8)).unwrap();
    wait_until(Duration::from_secs(20), "the error note appears", || {
        watch.join("không phải sổ/_LOI_sohoa.txt").exists()
    });
    assert!(watch.join("không phải sổ/a.png").exists());
    assert!(d.stop().success());
}

#[test]
fn phone_photos_honour_exif_orientation() {
    // A JPEG stored landscape with EXIF orientation 6 (rotate 90 CW to view).
    let img = image::RgbImage::from_fn(300, 200, |x, _| {
        image::Rgb([if x < 150 { 20 } else { 230 }; 3])
    });
    let mut jpg = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut jpg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    // APP1 Exif segment: big-endian TIFF with one IFD entry, Orientation = 6.
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    exif.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
    let mut with = jpg[..2].to_vec();
    with.extend_from_slice(&[0xFF, 0xE1]);
    with.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    with.extend_from_slice(&exif);
    with.extend_from_slice(&jpg[2..]);
    let frames = sohoa::codec::decode(&with).unwrap();
    assert_eq!(
        (frames[0].image.width(), frames[0].image.height()),
        (200, 300)
    );
}

#[test]
fn a_multi_page_file_rewritten_with_more_pages_adds_only_the_new_ones() {
    let work = tempfile::tempdir().unwrap();
    let d = Daemon::start(work.path(), FAST);
    let book = work.path().join("sohoa-data/watch/KS.2014.06");
    std::fs::create_dir_all(&book).unwrap();
    let tiff_of = |n: u32| {
        let mut tif = Vec::new();
        let mut enc = tiff::encoder::TiffEncoder::new(std::io::Cursor::new(&mut tif)).unwrap();
        for i in 1..=n {
            let img = image::load_from_memory(&numbered_png(i))
                .unwrap()
                .to_luma8();
            enc.write_image::<tiff::encoder::colortype::Gray8>(
                img.width(),
                img.height(),
                img.as_raw(),
            )
            .unwrap();
        }
        drop(enc);
        tif
    };
    // The scanner writes pages 1-2, pauses, then rewrites the file with 1-4.
    let write = |bytes: &[u8]| {
        let tmp = book.join(".batch.tif.part");
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, book.join("batch.tif")).unwrap();
    };
    write(&tiff_of(2));
    wait_until(Duration::from_secs(30), "2 pages are filed", || {
        filed_count(work.path()) == 2
    });
    write(&tiff_of(4));
    wait_until(Duration::from_secs(30), "4 pages are filed", || {
        filed_count(work.path()) == 4
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(journal_pages(work.path()).len(), 4, "{}", d.log());
    assert_eq!(archive_files(work.path()).len(), 4);
    assert!(d.stop().success());
}
