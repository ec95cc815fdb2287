//! PDFs from network scanners: the page images come out as they went in,
//! JPEG (DCTDecode) and CCITT G4 alike, in page order.

mod common;

use chrono::TimeZone;
use common::*;
use sohoa::codec::pdf::{case_pdf, DocMeta, PdfPage};
use sohoa::codec::{decode, OutputConfig};

#[test]
fn jpeg_and_g4_pages_come_back_out_of_a_pdf() {
    let jpg = std::fs::read(corpus().join("1555.003.jpg")).unwrap();
    let tif = std::fs::read(corpus().join("feyn.tif")).unwrap();
    let out = OutputConfig {
        pdf_pages: sohoa::codec::encode::PdfPages::Embed,
        ..OutputConfig::default()
    };
    let mut pages = PdfPage::from_file(&jpg, Some(300.0), &out).unwrap();
    pages.extend(PdfPage::from_file(&tif, None, &out).unwrap());
    let meta = DocMeta {
        book_id: "KS.2010.01".into(),
        case_no: 1,
        locality: "Đông Hà".into(),
        captured: chrono::FixedOffset::east_opt(7 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 21, 8, 0, 0)
            .unwrap(),
        software: "test".into(),
    };
    let pdf = case_pdf(&meta, &pages).unwrap();
    let frames = decode(&pdf).unwrap();
    assert_eq!(frames.len(), 2);
    // Page 1: the JPEG itself, decoded.
    let want = decode(&jpg).unwrap().remove(0).image.to_rgb8();
    let got = frames[0].image.to_rgb8();
    assert_eq!(got.dimensions(), want.dimensions());
    assert_eq!(
        got.as_raw(),
        want.as_raw(),
        "the embedded JPEG is the original bytes"
    );
    assert_eq!(frames[0].dpi, Some(300.0));
    // Page 2: the G4 page, pixel for pixel, black on white.
    let want = decode(&tif).unwrap().remove(0).image.to_luma8();
    let got = frames[1].image.to_luma8();
    assert_eq!(got.dimensions(), want.dimensions());
    assert!(
        got.as_raw() == want.as_raw(),
        "G4 page differs from its source"
    );
    let mean = got.pixels().map(|p| p.0[0] as u64).sum::<u64>()
        / (got.width() as u64 * got.height() as u64);
    assert!(mean > 150, "the page came out as a negative (mean {mean})");
    // Page by page too.
    assert_eq!(
        sohoa::codec::decode_frame(&pdf, 1)
            .unwrap()
            .image
            .to_luma8()
            .dimensions(),
        want.dimensions()
    );
    assert!(sohoa::codec::decode_frame(&pdf, 2).is_err());
}
