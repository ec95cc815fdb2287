//! Output files checked by the reference tools: G4 TIFFs read back by
//! libtiff (`tiffinfo`, `tiffcp`) and by our decoder; case PDFs checked by
//! `qpdf --check` and rendered by `pdftoppm` to the pixels of their sources.
//!
//! Needs Debian packages libtiff-tools, qpdf, poppler-utils. A missing tool
//! skips its test loudly, or fails it when `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{run_tool, tool};

use chrono::DateTime;
use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage};
use sohoa::codec::encode::{self, OutputConfig, PageKind, PdfPages, Profile};
use sohoa::codec::g4tiff;
use sohoa::codec::pdf::{self, DocMeta, PdfPage};

/// The auto profile, JPEG pages embedded in PDFs as they are (what these
/// tests compare against; layered pages have their own tests).
fn auto() -> OutputConfig {
    OutputConfig {
        profile: Profile::Auto,
        pdf_pages: PdfPages::Embed,
        ..OutputConfig::default()
    }
}

fn corpus(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("*** corpus file {name} missing, using a drawn page instead ***");
        None
    }
}

/// A bilevel page: the corpus's feyn.tif, or a drawn one.
fn bilevel_page() -> (GrayImage, f32) {
    if let Some(p) = corpus("feyn.tif") {
        let f = sohoa::codec::decode(&std::fs::read(p).unwrap())
            .unwrap()
            .remove(0);
        return (f.image.to_luma8(), f.dpi.unwrap_or(300.0));
    }
    let img = GrayImage::from_fn(1237, 1601, |x, y| {
        Luma([if (x * 7 + y * 3) % 29 < 5 || (x / 40 + y / 60) % 5 == 0 {
            0
        } else {
            255
        }])
    });
    (img, 300.0)
}

/// A colour page: the corpus's yellowed book page, or a drawn one.
fn colour_page() -> (RgbImage, f32) {
    if let Some(p) = corpus("1555.003.jpg") {
        let f = sohoa::codec::decode(&std::fs::read(p).unwrap())
            .unwrap()
            .remove(0);
        return (f.image.to_rgb8(), 150.0);
    }
    let img = RgbImage::from_fn(900, 1200, |x, y| {
        if (y % 30) < 3 && (x % 25) < 18 {
            Rgb([30, 40, 150])
        } else {
            Rgb([228, 212, 170])
        }
    });
    (img, 150.0)
}

fn meta(case_no: u32) -> DocMeta {
    DocMeta {
        book_id: "KS.2024.01".into(),
        case_no,
        locality: "Xã Tân Phú & <Đông>".into(),
        captured: DateTime::parse_from_rfc3339("2024-05-06T07:08:09+07:00").unwrap(),
        software: encode::SOFTWARE.into(),
    }
}

#[test]
fn g4_tiff_reads_back_with_libtiff_and_our_decoder() {
    let (src, dpi) = bilevel_page();
    let e = encode::encode(&DynamicImage::ImageLuma8(src.clone()), dpi, &auto()).unwrap();
    assert_eq!((e.kind, e.ext), (PageKind::Bilevel, "tif"));
    // Our decoder.
    let back = sohoa::codec::decode(&e.bytes).unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].dpi, Some(dpi));
    assert!(
        back[0].image.to_luma8() == src,
        "our decoder disagrees with the source"
    );

    let (Some(tiffinfo), Some(tiffcp)) = (
        tool("tiffinfo", "libtiff-tools"),
        tool("tiffcp", "libtiff-tools"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.tif");
    std::fs::write(&one, &e.bytes).unwrap();
    let info = run_tool(Command::new(tiffinfo).arg(&one));
    assert!(info.contains("CCITT Group 4"), "{info}");
    assert!(
        info.contains(&format!("Resolution: {dpi}, {dpi} pixels/inch")),
        "{info}"
    );
    assert!(info.contains("min-is-white"), "{info}");
    // libtiff decompresses it; our decoder reads libtiff's raw output.
    let raw = dir.path().join("raw.tif");
    run_tool(
        Command::new(tiffcp)
            .args(["-c", "none"])
            .arg(&one)
            .arg(&raw),
    );
    let plain = sohoa::codec::decode(&std::fs::read(&raw).unwrap()).unwrap();
    assert!(
        plain[0].image.to_luma8() == src,
        "libtiff decodes other pixels"
    );

    // A multi-page case TIFF: libtiff sees both pages, our decoder too.
    let page = g4tiff::read_g4_pages(&e.bytes).unwrap().remove(0);
    let small = GrayImage::from_fn(301, 211, |x, y| {
        Luma([if (x + 2 * y) % 13 < 4 { 0 } else { 255 }])
    });
    let page2 = g4tiff::encode_g4(&small, 200.0).unwrap();
    let multi = g4tiff::tiff(&[page, page2], encode::SOFTWARE).unwrap();
    let m = dir.path().join("multi.tif");
    std::fs::write(&m, &multi).unwrap();
    let info = run_tool(Command::new(tiffinfo).arg(&m));
    assert_eq!(
        info.matches("TIFF Directory at offset").count(),
        2,
        "{info}"
    );
    assert!(info.contains("Page Number: 1-2"), "{info}");
    let raw2 = dir.path().join("raw2.tif");
    run_tool(Command::new(tiffcp).args(["-c", "none"]).arg(&m).arg(&raw2));
    let frames = sohoa::codec::decode(&std::fs::read(&raw2).unwrap()).unwrap();
    assert_eq!(frames.len(), 2);
    assert!(frames[1].image.to_luma8() == small);
    assert_eq!(frames[1].dpi, Some(200.0));
}

/// Renders page `n` (1-based) of a PDF at `dpi` as grey or RGB pixels;
/// `window` is `[x, y, w, h]` in rendered pixels.
fn render(
    pdftoppm: &str,
    pdf: &Path,
    n: usize,
    dpi: f32,
    gray: bool,
    window: Option<[u32; 4]>,
) -> DynamicImage {
    let dir = pdf.parent().unwrap();
    let prefix = dir.join(format!("r{n}"));
    let mut cmd = Command::new(pdftoppm);
    cmd.args([
        "-r",
        &dpi.to_string(),
        "-f",
        &n.to_string(),
        "-l",
        &n.to_string(),
        "-singlefile",
    ]);
    if let Some([x, y, w, h]) = window {
        for (flag, v) in [("-x", x), ("-y", y), ("-W", w), ("-H", h)] {
            cmd.args([flag, &v.to_string()]);
        }
    }
    if gray {
        cmd.arg("-gray");
    }
    run_tool(cmd.arg(pdf).arg(&prefix));
    let file = prefix.with_extension(if gray { "pgm" } else { "ppm" });
    sohoa::codec::decode(&std::fs::read(file).unwrap())
        .unwrap()
        .remove(0)
        .image
}

/// Poppler smooths every image drawn at less than 4x its size (bilinear
/// scaling even at 1:1), so pixels are compared on a render at 4x the
/// image's resolution, where each source pixel becomes a 4x4 block: the
/// block's inner pixel must equal the source pixel. Two windows (top left
/// corner, middle) keep the render small. Returns (source, rendered) samples.
fn rendered_samples(
    pdftoppm: &str,
    pdf: &Path,
    n: usize,
    dpi: f32,
    src: &DynamicImage,
    gray: bool,
) -> (Vec<u8>, Vec<u8>) {
    // The page at 1:1 has the source's size.
    let full = render(pdftoppm, pdf, n, dpi, gray, None);
    assert_eq!(
        (full.width(), full.height()),
        (src.width(), src.height()),
        "page {n} size"
    );
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let side = 300.min(src.width()).min(src.height());
    let channels = if gray { 1 } else { 3 };
    let src_px = if gray {
        src.to_luma8().into_raw()
    } else {
        src.to_rgb8().into_raw()
    };
    for (x0, y0) in [
        (0, 0),
        ((src.width() - side) / 2, (src.height() - side) / 2),
    ] {
        let r = render(
            pdftoppm,
            pdf,
            n,
            dpi * 4.0,
            gray,
            Some([x0 * 4, y0 * 4, side * 4, side * 4]),
        );
        let rw = r.width() as usize;
        let r_px = if gray {
            r.to_luma8().into_raw()
        } else {
            r.to_rgb8().into_raw()
        };
        for y in 0..side as usize {
            for x in 0..side as usize {
                let si = ((y0 as usize + y) * src.width() as usize + x0 as usize + x) * channels;
                let ri = ((4 * y + 1) * rw + 4 * x + 1) * channels;
                a.extend_from_slice(&src_px[si..si + channels]);
                b.extend_from_slice(&r_px[ri..ri + channels]);
            }
        }
    }
    (a, b)
}

/// Mean and 99.9th percentile of absolute differences.
fn diff_stats(a: &[u8], b: &[u8]) -> (f64, u8) {
    assert_eq!(a.len(), b.len());
    let mut hist = [0u64; 256];
    let mut sum = 0u64;
    for (x, y) in a.iter().zip(b) {
        let d = x.abs_diff(*y);
        hist[d as usize] += 1;
        sum += d as u64;
    }
    let limit = a.len() as u64 * 999 / 1000;
    let mut acc = 0;
    let mut p999 = 0;
    for (d, c) in hist.iter().enumerate() {
        acc += c;
        if acc >= limit {
            p999 = d as u8;
            break;
        }
    }
    (sum as f64 / a.len() as f64, p999)
}

#[test]
fn case_pdf_passes_qpdf_and_renders_to_its_sources() {
    let (bits, bdpi) = bilevel_page();
    let (colour, cdpi) = colour_page();
    let colour_cfg = OutputConfig {
        profile: Profile::Colour,
        ..OutputConfig::default()
    };
    let grey_cfg = OutputConfig {
        profile: Profile::Grey,
        ..OutputConfig::default()
    };
    let g4 = encode::encode(&DynamicImage::ImageLuma8(bits.clone()), bdpi, &auto()).unwrap();
    let col = encode::encode(&DynamicImage::ImageRgb8(colour.clone()), cdpi, &colour_cfg).unwrap();
    let grey = encode::encode(&DynamicImage::ImageRgb8(colour), cdpi, &grey_cfg).unwrap();
    assert_eq!((col.kind, grey.kind), (PageKind::Colour, PageKind::Grey));
    let mut pages = Vec::new();
    for e in [&g4, &col, &grey] {
        pages.extend(PdfPage::from_file(&e.bytes, None, &auto()).unwrap());
    }
    assert!(matches!(pages[0].data, pdf::PageData::G4 { .. }));
    assert!(matches!(
        pages[1].data,
        pdf::PageData::Jpeg { components: 3, .. }
    ));
    let doc = pdf::case_pdf(&meta(3), &pages).unwrap();
    // Same inputs, same bytes.
    assert_eq!(doc, pdf::case_pdf(&meta(3), &pages).unwrap());

    let (Some(qpdf), Some(pdftoppm), Some(pdfinfo)) = (
        tool("qpdf", "qpdf"),
        tool("pdftoppm", "poppler-utils"),
        tool("pdfinfo", "poppler-utils"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.pdf");
    std::fs::write(&path, &doc).unwrap();
    let check = run_tool(Command::new(qpdf).arg("--check").arg(&path));
    assert!(
        check.contains("No syntax or stream encoding errors"),
        "{check}"
    );
    let info = run_tool(Command::new(pdfinfo).arg(&path));
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 3")),
        "{info}"
    );
    assert!(info.contains("KS.2024.01 - trường hợp 003"), "{info}");
    let xmp = run_tool(Command::new(pdfinfo).arg("-meta").arg(&path));
    assert!(xmp.contains("<pdfaid:part>2</pdfaid:part>"), "{xmp}");
    assert!(xmp.contains("Xã Tân Phú &amp; &lt;Đông&gt;"), "{xmp}");
    assert!(xmp.contains("2024-05-06T07:08:09+07:00"), "{xmp}");

    // G4 page: exactly the source pixels.
    let bits_img = DynamicImage::ImageLuma8(bits);
    let (a, b) = rendered_samples(pdftoppm, &path, 1, bdpi, &bits_img, true);
    let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert_eq!(differing, 0, "G4 page renders differently");
    assert!(
        a.iter().any(|&v| v == 0),
        "the windows hold no ink: a weak test"
    );
    // JPEG pages: the decoded JPEG within a small tolerance (two JPEG
    // decoders, libjpeg in poppler and ours, round differently).
    for (n, e, gray) in [(2, &col, false), (3, &grey, true)] {
        let src = sohoa::codec::decode(&e.bytes).unwrap().remove(0).image;
        let src = if gray {
            DynamicImage::ImageLuma8(src.to_luma8())
        } else {
            DynamicImage::ImageRgb8(src.to_rgb8())
        };
        let (a, b) = rendered_samples(pdftoppm, &path, n, cdpi, &src, gray);
        let (mean, p999) = diff_stats(&a, &b);
        assert!(
            mean < 1.0 && p999 <= 16,
            "page {n}: mean {mean:.3}, p99.9 {p999}"
        );
    }
}

#[test]
fn bad_pdf_inputs_are_errors_not_panics() {
    assert!(matches!(
        pdf::case_pdf(&meta(1), &[]),
        Err(pdf::PdfError::NoPages)
    ));
    let cfg = OutputConfig::default();
    assert!(PdfPage::from_file(b"not an image", None, &cfg).is_err());
    assert!(PdfPage::from_file(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 2], None, &cfg).is_err());
    let page = PdfPage {
        width: 100,
        height: 100,
        dpi: 0.0,
        data: pdf::PageData::G4 {
            data: vec![],
            black_is_1: false,
        },
    };
    assert!(pdf::case_pdf(&meta(1), &[page]).is_err());
}
