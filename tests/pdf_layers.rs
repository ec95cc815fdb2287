//! Layered case PDF pages (`output.pdf_pages = "layered"`): checked by
//! `qpdf --check`, rendered by `pdftoppm` close to the stored page with
//! red stamps red and blue ink blue, the G4 mask read back bit for bit, the
//! size per A4 of a corpus colour page under a bound the embedded JPEG
//! breaks; `embed` still embeds the stored JPEG byte for byte, and `auto`
//! (the default) embeds a JPEG within the page budget and layers one over.
//!
//! Needs Debian packages qpdf and poppler-utils (pdftoppm, pdfimages). A
//! missing tool skips its test loudly, or fails it when `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{run_tool, tool};

use chrono::DateTime;
use image::{DynamicImage, GrayImage, Rgb, RgbImage};
use sohoa::codec::budget;
use sohoa::codec::encode::{self, OutputConfig, PdfPages};
use sohoa::codec::g4tiff::{self, G4Page};
use sohoa::codec::layers;
use sohoa::codec::pdf::{self, DocMeta, PageData, PdfPage};

fn cfg(mode: PdfPages) -> OutputConfig {
    OutputConfig {
        pdf_pages: mode,
        ..OutputConfig::default()
    }
}

fn meta() -> DocMeta {
    DocMeta {
        book_id: "KS.2024.01".into(),
        case_no: 7,
        locality: "Xã Tân Phú".into(),
        captured: DateTime::parse_from_rfc3339("2024-05-06T07:08:09+07:00").unwrap(),
        software: encode::SOFTWARE.into(),
    }
}

const BLACK: (u32, u32) = (150, 62);
const BLUE: (u32, u32) = (150, 260);
const STAMP: (u32, u32) = (780, 400);

/// A 200 dpi register-like page on cream paper: black print, blue ink, a
/// red stamp ring (strokes 6 px wide, so their middles are solid ink).
fn register_page() -> RgbImage {
    RgbImage::from_fn(1000, 700, |x, y| {
        let d = ((x as f32 - 700.0).powi(2) + (y as f32 - 400.0).powi(2)).sqrt();
        let noise = ((x * 7 + y * 13) % 5) as u8;
        if (d - 80.0).abs() < 4.0 {
            Rgb([205, 45 + noise, 50])
        } else if (y % 150) >= 59 && (y % 150) < 65 && (40..560).contains(&x) && (x / 9) % 5 != 0 {
            Rgb([25 + noise, 22, 20])
        } else if (259..265).contains(&(y as i32 - (8.0 * (x as f32 / 23.0).sin()) as i32 + 3))
            && (60..500).contains(&x)
        {
            Rgb([30, 45 + noise, 165])
        } else {
            Rgb([238 + noise, 226, 190])
        }
    })
}

/// The page as stored in the archive (a colour JPEG with the defaults).
fn stored_page() -> encode::Encoded {
    let e = encode::encode(
        &DynamicImage::ImageRgb8(register_page()),
        200.0,
        &OutputConfig::default(),
    )
    .unwrap();
    assert_eq!(e.ext, "jpg");
    e
}

fn write_pdf(dir: &Path, pages: &[PdfPage]) -> (PathBuf, Vec<u8>) {
    let doc = pdf::case_pdf(&meta(), pages).unwrap();
    let path = dir.join("case.pdf");
    std::fs::write(&path, &doc).unwrap();
    (path, doc)
}

#[test]
fn layered_page_passes_qpdf_and_renders_with_its_ink_colours() {
    let stored = stored_page();
    let layered = cfg(PdfPages::Layered);
    let pages = PdfPage::from_file(&stored.bytes, None, &layered).unwrap();
    assert_eq!(pages.len(), 1);
    let PageData::Layered(l) = &pages[0].data else {
        panic!("not layered: {:?}", pages[0].data);
    };
    assert_eq!(
        (pages[0].width, pages[0].height, pages[0].dpi),
        (1000, 700, 200.0)
    );
    assert!(
        l.len() < stored.bytes.len(),
        "{} >= {}",
        l.len(),
        stored.bytes.len()
    );
    // Finishing twice gives the same bytes.
    let again = PdfPage::from_file(&stored.bytes, None, &layered).unwrap();
    assert_eq!(
        pdf::case_pdf(&meta(), &pages).unwrap(),
        pdf::case_pdf(&meta(), &again).unwrap()
    );

    let (Some(qpdf), Some(pdftoppm)) = (tool("qpdf", "qpdf"), tool("pdftoppm", "poppler-utils"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_pdf(dir.path(), &pages);
    let check = run_tool(Command::new(qpdf).arg("--check").arg(&path));
    assert!(
        check.contains("No syntax or stream encoding errors"),
        "{check}"
    );
    run_tool(
        Command::new(pdftoppm)
            .args(["-scale-to-x", "1000", "-scale-to-y", "700", "-singlefile"])
            .arg(&path)
            .arg(dir.path().join("r")),
    );
    let rendered = sohoa::codec::decode(&std::fs::read(dir.path().join("r.ppm")).unwrap())
        .unwrap()
        .remove(0)
        .image
        .to_rgb8();
    let source = sohoa::codec::decode(&stored.bytes)
        .unwrap()
        .remove(0)
        .image
        .to_rgb8();
    assert_eq!(rendered.dimensions(), source.dimensions());
    let mae = rendered
        .as_raw()
        .iter()
        .zip(source.as_raw())
        .map(|(a, b)| a.abs_diff(*b) as u64)
        .sum::<u64>() as f64
        / source.as_raw().len() as f64;
    assert!(mae < 6.0, "mean abs error {mae:.2}");
    // Solid ink stays dark where the stored page is dark (away from stroke
    // edges: poppler resamples images by up to half a pixel).
    let (mut dark, mut kept) = (0u32, 0u32);
    let luma =
        |p: &Rgb<u8>| (p.0[0] as u32 * 2126 + p.0[1] as u32 * 7152 + p.0[2] as u32 * 722) / 10000;
    let (w, h) = source.dimensions();
    for y in 2..h - 2 {
        for x in 2..w - 2 {
            let solid = [(0, 0), (2, 0), (0, 2), (-2, 0), (0, -2)]
                .iter()
                .all(|&(dx, dy)| {
                    luma(source.get_pixel((x as i32 + dx) as u32, (y as i32 + dy) as u32)) < 90
                });
            if solid {
                dark += 1;
                kept += (luma(rendered.get_pixel(x, y)) < 130) as u32;
            }
        }
    }
    assert!(dark > 2000, "too little ink to test: {dark}");
    assert!(
        kept * 100 >= dark * 95,
        "{kept} of {dark} ink pixels stay dark"
    );
    // Each ink keeps its hue: mean over a 3x3 patch at a stroke's middle.
    let mean = |(cx, cy): (u32, u32)| {
        let mut s = [0u32; 3];
        for y in cy - 1..=cy + 1 {
            for x in cx - 1..=cx + 1 {
                for (a, &v) in s.iter_mut().zip(&rendered.get_pixel(x, y).0) {
                    *a += v as u32;
                }
            }
        }
        s.map(|v| v / 9)
    };
    let [r, g, b] = mean(STAMP);
    assert!(r > 150 && g < 100 && b < 100, "stamp {:?}", [r, g, b]);
    let [r, g, b] = mean(BLUE);
    assert!(
        b > 110 && b > r + 60 && b > g + 50,
        "blue ink {:?}",
        [r, g, b]
    );
    let [r, g, b] = mean(BLACK);
    assert!(r < 80 && g < 80 && b < 80, "black print {:?}", [r, g, b]);
    // Paper between the lines is paper.
    let [r, g, b] = mean((300, 120));
    assert!(r > 230 && g > 230 && b > 225, "paper {:?}", [r, g, b]);
}

/// The raw streams of every image mask in a PDF (CCITT data as stored).
fn image_masks(doc: &[u8]) -> Vec<(u32, u32, Vec<u8>)> {
    let file = lopdf::Document::load_mem(doc).unwrap();
    let mut out = Vec::new();
    for obj in file.objects.values() {
        let Ok(stream) = obj.as_stream() else {
            continue;
        };
        let d = &stream.dict;
        if d.get(b"ImageMask")
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
        {
            let n = |k: &[u8]| d.get(k).unwrap().as_i64().unwrap() as u32;
            out.push((n(b"Width"), n(b"Height"), stream.content.clone()));
        }
    }
    out
}

#[test]
fn the_mask_in_the_pdf_is_bit_for_bit_the_mask_built() {
    let stored = stored_page();
    let layered = cfg(PdfPages::Layered);
    let pages = PdfPage::from_file(&stored.bytes, None, &layered).unwrap();
    let doc = pdf::case_pdf(&meta(), &pages).unwrap();
    let masks = image_masks(&doc);
    assert_eq!(masks.len(), 1);
    let (w, h, data) = masks.into_iter().next().unwrap();
    // What the module builds from the same stored page.
    let decoded = sohoa::codec::decode(&stored.bytes).unwrap().remove(0).image;
    let split = layers::split(&decoded, 200.0, &layered.layer_params());
    assert_eq!((w, h), split.mask.dimensions());
    // Decode the G4 data back through a TIFF wrapper.
    let tiff = g4tiff::tiff(
        &[G4Page {
            width: w,
            height: h,
            dpi: 200.0,
            data,
            black_is_1: false,
        }],
        "test",
    )
    .unwrap();
    let back = sohoa::codec::decode(&tiff)
        .unwrap()
        .remove(0)
        .image
        .to_luma8();
    // Pixels of a decoded mask whose ink agrees with the mask built.
    let agree = |img: &GrayImage| {
        img.as_raw()
            .iter()
            .zip(split.mask.as_raw())
            .filter(|(a, b)| (**a < 128) == (**b < 128))
            .count()
    };
    let n = split.mask.as_raw().len();
    assert_eq!(n - agree(&back), 0, "mask pixels differ");
    let ink = split.mask.as_raw().iter().filter(|&&v| v < 128).count();
    assert!(ink > 5000, "an empty mask makes a weak test: {ink}");
    // And poppler reads the same mask out of the PDF.
    let Some(pdfimages) = tool("pdfimages", "poppler-utils") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_pdf(dir.path(), &pages);
    run_tool(
        Command::new(pdfimages)
            .arg(&path)
            .arg(dir.path().join("im")),
    );
    let pbm = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "pbm"))
        .expect("pdfimages wrote no mask");
    let theirs: GrayImage = sohoa::codec::decode(&std::fs::read(pbm).unwrap())
        .unwrap()
        .remove(0)
        .image
        .to_luma8();
    let same = agree(&theirs);
    // pdfimages writes the samples as they are (1 = not painted) or
    // inverted; either way every pixel must agree.
    assert!(same == n || same == 0, "{same} of {n} pixels agree");
}

fn corpus_colour_page() -> Option<(DynamicImage, f32)> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/1555.003.jpg");
    let Ok(bytes) = std::fs::read(&p) else {
        eprintln!("*** corpus file 1555.003.jpg missing, using a drawn page instead ***");
        return None;
    };
    let img = sohoa::codec::decode(&bytes).unwrap().remove(0).image;
    // The file carries no resolution; it is a ~150 dpi scan.
    Some((img, 150.0))
}

#[test]
fn a_colour_page_fits_a_bound_its_jpeg_breaks() {
    // A dense page: the corpus's book page, or the drawn register page
    // tiled with more writing.
    let (img, dpi) = corpus_colour_page().unwrap_or_else(|| {
        let p = register_page();
        let dense = RgbImage::from_fn(1000, 1400, |x, y| {
            let s = p.get_pixel(x, (y * 3) % 700);
            *s
        });
        (DynamicImage::ImageRgb8(dense), 200.0)
    });
    let stored = encode::encode(&img, dpi, &OutputConfig::default()).unwrap();
    let bound = budget::page_budget(160, stored.width, stored.height, stored.dpi).unwrap();
    let layered = PdfPage::from_file(&stored.bytes, None, &cfg(PdfPages::Layered)).unwrap();
    let PageData::Layered(l) = &layered[0].data else {
        panic!("not layered");
    };
    let kb_a4 = |n: usize| n as f64 * 160.0 / bound as f64;
    assert!(
        stored.bytes.len() > bound,
        "the JPEG ({:.0} KB/A4) already fits: a weak test",
        kb_a4(stored.bytes.len())
    );
    assert!(
        l.len() <= bound,
        "layered {:.0} KB/A4 over 160 (JPEG {:.0})",
        kb_a4(l.len()),
        kb_a4(stored.bytes.len())
    );
}

#[test]
fn embed_keeps_the_stored_jpeg_byte_for_byte() {
    let stored = stored_page();
    let pages = PdfPage::from_file(&stored.bytes, None, &cfg(PdfPages::Embed)).unwrap();
    match &pages[0].data {
        PageData::Jpeg { bytes, components } => {
            assert_eq!(bytes, &stored.bytes);
            assert_eq!(*components, 3);
        }
        other => panic!("not embedded: {other:?}"),
    }
    let doc = pdf::case_pdf(&meta(), &pages).unwrap();
    assert!(
        doc.windows(stored.bytes.len()).any(|w| w == stored.bytes),
        "the JPEG is not in the PDF as it is"
    );
}

#[test]
fn auto_embeds_a_page_that_fits_the_budget_and_layers_one_that_does_not() {
    assert_eq!(OutputConfig::default().pdf_pages, PdfPages::Auto);
    let stored = stored_page();
    let (w, h) = (stored.width, stored.height);
    let kb_a4 =
        stored.bytes.len() as f64 / 1024.0 * (8.27 * 11.69 * 200.0 * 200.0) / (w as f64 * h as f64);
    // A budget above the JPEG: embedded as it is.
    let roomy = OutputConfig {
        page_kb: (kb_a4 * 1.2) as u32 + 1,
        ..OutputConfig::default()
    };
    let pages = PdfPage::from_file(&stored.bytes, None, &roomy).unwrap();
    assert!(
        matches!(&pages[0].data, PageData::Jpeg { bytes, .. } if *bytes == stored.bytes),
        "a JPEG within the budget is not embedded as it is"
    );
    // A budget under it: layered, and smaller.
    let tight = OutputConfig {
        page_kb: ((kb_a4 * 0.8) as u32).max(10),
        ..OutputConfig::default()
    };
    let pages = PdfPage::from_file(&stored.bytes, None, &tight).unwrap();
    let PageData::Layered(l) = &pages[0].data else {
        panic!("a JPEG over the budget is not layered");
    };
    assert!(l.len() < stored.bytes.len());
    // No budget: embedded.
    let none = OutputConfig {
        page_kb: 0,
        ..OutputConfig::default()
    };
    let pages = PdfPage::from_file(&stored.bytes, None, &none).unwrap();
    assert!(matches!(pages[0].data, PageData::Jpeg { .. }));
    // Pixels from another format take the same road.
    let png = {
        let img = sohoa::codec::decode(&stored.bytes).unwrap().remove(0).image;
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let pages = PdfPage::from_file(&png, Some(200.0), &tight).unwrap();
    assert!(
        matches!(pages[0].data, PageData::Layered(_)),
        "PNG page not layered"
    );
}

#[test]
fn bilevel_pages_stay_g4_when_layered() {
    let bits = GrayImage::from_fn(400, 300, |x, y| {
        image::Luma([if (x / 5 + y / 7) % 4 == 0 { 0 } else { 255 }])
    });
    let auto = OutputConfig {
        profile: encode::Profile::Auto,
        pdf_pages: PdfPages::Layered,
        ..OutputConfig::default()
    };
    let e = encode::encode(&DynamicImage::ImageLuma8(bits), 300.0, &auto).unwrap();
    assert_eq!(e.ext, "tif");
    let pages = PdfPage::from_file(&e.bytes, None, &auto).unwrap();
    assert!(matches!(pages[0].data, PageData::G4 { .. }));
}

#[test]
fn a_bad_pdf_pages_value_names_the_key() {
    let err = sohoa::config::Config::parse("[output]\npdf_pages = \"mrc\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("output.pdf_pages"), "{err}");
    let ok = sohoa::config::Config::parse("[output]\npdf_pages = \"layered\"").unwrap();
    assert_eq!(ok.output.pdf_pages, PdfPages::Layered);
}

#[test]
fn finishing_a_book_with_layered_pages_is_deterministic() {
    use sohoa::store::bundle::{self, BookMeta, BundleOptions, CaseInput, PageFile};
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("p1.jpg");
    std::fs::write(&page, stored_page().bytes).unwrap();
    let cases = [CaseInput {
        case_no: 1,
        file_name: "KS.2024.01.001.pdf".into(),
        captured: DateTime::parse_from_rfc3339("2024-05-06T07:08:09+07:00").unwrap(),
        pages: vec![PageFile {
            path: page,
            dpi: None,
        }],
    }];
    let book = BookMeta {
        book_id: "KS.2024.01".into(),
        locality: "Xã Tân Phú".into(),
    };
    let opts = BundleOptions {
        output: cfg(PdfPages::Layered),
    };
    let finish = |out: &Path| {
        let mut files = Vec::new();
        bundle::finish_book(&book, &cases, &opts, out, &mut |p, b| {
            files.push((p.file_name().unwrap().to_owned(), b.to_vec()));
            Ok(())
        })
        .unwrap();
        files
    };
    let a = finish(&dir.path().join("a"));
    // A second later: nothing in the bundle may carry the clock's time.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = finish(&dir.path().join("b"));
    assert_eq!(a.len(), b.len());
    for ((na, da), (nb, db)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert!(da == db, "{na:?} differs between two finishes");
    }
    let pdf = &a.iter().find(|(n, _)| n == "KS.2024.01.001.pdf").unwrap().1;
    assert_eq!(
        image_masks(pdf).len(),
        1,
        "the case PDF has no layered page"
    );
    if let Some(qpdf) = tool("qpdf", "qpdf") {
        let path = dir.path().join("c.pdf");
        std::fs::write(&path, pdf).unwrap();
        run_tool(Command::new(qpdf).arg("--check").arg(&path));
    }
}
