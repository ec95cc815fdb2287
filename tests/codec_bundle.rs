//! The book bundle read back: the zip's entries equal the case PDFs written,
//! `manifest.csv` matches their sizes, hashes and page counts, and the
//! `.xlsx` sheet has one row per case. `qpdf` (Debian package qpdf) counts
//! the pages independently; it is skipped loudly when missing (fails under
//! `CI=true`).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::DateTime;
use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage};
use sha2::{Digest, Sha256};
use sohoa::codec::encode::{self, OutputConfig, Profile};
use sohoa::store::bundle::{self, BookMeta, BundleError, BundleOptions, CaseInput, PageFile};

fn auto() -> OutputConfig {
    OutputConfig {
        profile: Profile::Auto,
        ..OutputConfig::default()
    }
}

fn qpdf() -> Option<&'static str> {
    if Command::new("qpdf").arg("--version").output().is_ok() {
        return Some("qpdf");
    }
    let msg = "SKIPPED: `qpdf` not found; install the Debian package qpdf";
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg} (CI=true makes this a failure)");
    }
    eprintln!("\n*** {msg} ***\n");
    None
}

/// Writes three kinds of page files: colour JPEG, G4 TIFF, PNG.
fn page_files(dir: &Path) -> Vec<PathBuf> {
    let colour = RgbImage::from_fn(620, 877, |x, y| {
        if (y % 25) < 3 && (x % 20) < 14 {
            Rgb([40, 50, 160])
        } else {
            Rgb([226, 210, 168])
        }
    });
    let bits = GrayImage::from_fn(620, 877, |x, y| {
        Luma([if (x + y) % 17 < 3 { 0 } else { 255 }])
    });
    let cfg = auto();
    let jpg = encode::encode(&DynamicImage::ImageRgb8(colour.clone()), 75.0, &cfg).unwrap();
    let tif = encode::encode(&DynamicImage::ImageLuma8(bits), 75.0, &cfg).unwrap();
    assert_eq!((jpg.ext, tif.ext), ("jpg", "tif"));
    let paths = [dir.join("p1.jpg"), dir.join("p2.tif"), dir.join("p3.png")];
    std::fs::write(&paths[0], &jpg.bytes).unwrap();
    std::fs::write(&paths[1], &tif.bytes).unwrap();
    colour.save(&paths[2]).unwrap();
    paths.to_vec()
}

fn case(no: u32, pages: &[&PathBuf]) -> CaseInput {
    CaseInput {
        case_no: no,
        file_name: format!("KS.2024.01.{no:03}.pdf"),
        captured: DateTime::parse_from_rfc3339("2024-03-04T09:10:11+07:00").unwrap(),
        pages: pages
            .iter()
            .map(|p| PageFile {
                path: (*p).clone(),
                dpi: None,
            })
            .collect(),
    }
}

fn entry(zip: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<u8> {
    let mut f = zip
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} missing from the zip"));
    let mut v = Vec::new();
    f.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn bundle_reads_back_and_matches() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("pages");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let p = page_files(&src);
    let book = BookMeta {
        book_id: "KS.2024.01".into(),
        locality: "Xã An Bình".into(),
    };
    let cases = vec![
        case(1, &[&p[0], &p[1]]),
        case(2, &[&p[2]]),
        case(3, &[&p[1], &p[1], &p[0]]),
    ];
    let opts = BundleOptions {
        output: OutputConfig {
            case_tiff: true,
            ..OutputConfig::default()
        },
    };
    let mut writes = Vec::new();
    let result = bundle::finish_book(&book, &cases, &opts, &out, &mut |path, bytes| {
        writes.push(path.to_path_buf());
        std::fs::write(path, bytes)
    })
    .unwrap();
    assert_eq!(writes, result.written);
    assert_eq!(result.bundle, out.join("KS.2024.01.zip"));
    assert_eq!(
        result.cases.iter().map(|c| c.pages).collect::<Vec<_>>(),
        vec![2, 1, 3]
    );
    // No case is all bilevel, so no case TIFF.
    assert!(result.cases.iter().all(|c| c.tiff.is_none()));

    let zip_bytes = std::fs::read(&result.bundle).unwrap();
    assert_eq!(zip_bytes.len() as u64, result.bundle_bytes);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "KS.2024.01.001.pdf",
            "KS.2024.01.002.pdf",
            "KS.2024.01.003.pdf",
            "KS.2024.01.xlsx",
            "manifest.csv"
        ]
    );
    for i in 0..zip.len() {
        assert_eq!(
            zip.by_index(i).unwrap().compression(),
            zip::CompressionMethod::Deflated
        );
    }

    // manifest.csv against the PDFs in the zip and on disk.
    let manifest = String::from_utf8(entry(&mut zip, "manifest.csv")).unwrap();
    let mut lines = manifest.lines();
    assert_eq!(lines.next(), Some("file,case,pages,bytes,sha256"));
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 3);
    let qpdf = qpdf();
    for row in &rows {
        let pdf = entry(&mut zip, &row[0]);
        assert_eq!(pdf, std::fs::read(out.join(&row[0])).unwrap(), "{}", row[0]);
        assert_eq!(row[3], pdf.len().to_string());
        let hash: String = Sha256::digest(&pdf)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(row[4], hash);
        if let Some(q) = qpdf {
            let path = out.join(&row[0]);
            let n = Command::new(q)
                .arg("--show-npages")
                .arg(&path)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&n.stdout).trim(),
                row[2],
                "{}",
                row[0]
            );
            let check = Command::new(q).arg("--check").arg(&path).output().unwrap();
            assert!(
                check.status.success(),
                "{}",
                String::from_utf8_lossy(&check.stdout)
            );
        }
    }

    // The sheet: shared strings hold the file names; one row per case plus
    // the header, with the page counts as numbers.
    let xlsx = entry(&mut zip, "KS.2024.01.xlsx");
    let mut sheet = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let strings = String::from_utf8(entry(&mut sheet, "xl/sharedStrings.xml")).unwrap();
    let ws = String::from_utf8(entry(&mut sheet, "xl/worksheets/sheet1.xml")).unwrap();
    let shared: Vec<&str> = strings
        .split("<t>")
        .skip(1)
        .chain(strings.split("<t xml:space=\"preserve\">").skip(1))
        .filter_map(|s| s.split("</t>").next())
        .collect();
    for c in &cases {
        assert!(
            shared.contains(&c.file_name.as_str()),
            "{} not in {shared:?}",
            c.file_name
        );
    }
    assert!(shared.contains(&"Số trang (pages)"));
    assert_eq!(ws.matches("<row ").count(), cases.len() + 1, "{ws}");
    // Column D (pages) values, in order.
    let pages: HashMap<String, String> = ws
        .split("<c r=\"")
        .skip(1)
        .filter(|c| c.starts_with('D') && !c.starts_with("D1\""))
        .map(|c| {
            let cell = c.split('"').next().unwrap().to_string();
            let v = c
                .split("<v>")
                .nth(1)
                .unwrap()
                .split("</v>")
                .next()
                .unwrap()
                .to_string();
            (cell, v)
        })
        .collect();
    assert_eq!(pages.get("D2").map(String::as_str), Some("2"));
    assert_eq!(pages.get("D3").map(String::as_str), Some("1"));
    assert_eq!(pages.get("D4").map(String::as_str), Some("3"));
}

#[test]
fn bilevel_case_gets_a_multipage_tiff() {
    let tmp = tempfile::tempdir().unwrap();
    let p = page_files(tmp.path());
    let book = BookMeta {
        book_id: "KT.2023.02".into(),
        locality: "X".into(),
    };
    let mut c = case(7, &[&p[1], &p[1]]);
    c.file_name = "KT.2023.02.007.pdf".into();
    let opts = BundleOptions {
        output: OutputConfig {
            case_tiff: true,
            ..OutputConfig::default()
        },
    };
    let mut files: HashMap<PathBuf, Vec<u8>> = HashMap::new();
    let r = bundle::finish_book(&book, &[c], &opts, Path::new("book"), &mut |path, bytes| {
        files.insert(path.to_path_buf(), bytes.to_vec());
        Ok(())
    })
    .unwrap();
    assert_eq!(r.cases[0].tiff.as_deref(), Some("KT.2023.02.007.tif"));
    let tif = &files[&PathBuf::from("book/KT.2023.02.007.tif")];
    let frames = sohoa::codec::decode(tif).unwrap();
    assert_eq!(frames.len(), 2);
    let original = sohoa::codec::decode(&std::fs::read(&p[1]).unwrap())
        .unwrap()
        .remove(0);
    assert!(frames[1].image.to_luma8() == original.image.to_luma8());
}

#[test]
fn bad_books_are_refused_with_reasons() {
    let tmp = tempfile::tempdir().unwrap();
    let p = page_files(tmp.path());
    let book = |id: &str| BookMeta {
        book_id: id.into(),
        locality: "X".into(),
    };
    let opts = BundleOptions::default();
    let mut sink = |_: &Path, _: &[u8]| Ok(());
    let ok = case(1, &[&p[0]]);
    let go = |b: BookMeta,
              cs: Vec<CaseInput>,
              sink: &mut dyn FnMut(&Path, &[u8]) -> std::io::Result<()>| {
        bundle::finish_book(&b, &cs, &opts, tmp.path(), sink).unwrap_err()
    };
    assert!(matches!(
        go(book("../x"), vec![ok.clone()], &mut sink),
        BundleError::BadBookId(_)
    ));
    assert!(matches!(
        go(book("KS.1"), vec![], &mut sink),
        BundleError::NoCases
    ));
    let mut bad = ok.clone();
    bad.file_name = "../evil.pdf".into();
    assert!(matches!(
        go(book("KS.1"), vec![bad], &mut sink),
        BundleError::BadFileName { .. }
    ));
    assert!(matches!(
        go(book("KS.1"), vec![ok.clone(), ok.clone()], &mut sink),
        BundleError::DuplicateCase(1)
    ));
    let mut missing = ok.clone();
    missing.pages[0].path = tmp.path().join("nope.jpg");
    let e = go(book("KS.1"), vec![missing], &mut sink);
    assert!(
        matches!(
            e,
            BundleError::Read {
                case: 1,
                page: 1,
                ..
            }
        ),
        "{e}"
    );
    let garbage = tmp.path().join("garbage.jpg");
    std::fs::write(&garbage, b"not an image at all").unwrap();
    let e = go(book("KS.1"), vec![case(1, &[&garbage])], &mut sink);
    assert!(
        matches!(
            e,
            BundleError::Page {
                case: 1,
                page: 1,
                ..
            }
        ),
        "{e}"
    );
    let mut failing = |_: &Path, _: &[u8]| Err(std::io::Error::other("disk full"));
    let e = go(book("KS.1"), vec![ok], &mut failing);
    assert!(e.to_string().contains("disk full"), "{e}");
}
