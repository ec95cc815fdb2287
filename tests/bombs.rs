//! Decompression bombs and giant images: headers promising huge pictures
//! meet the dimension and memory limits and get a clear error, quickly,
//! without allocating what they promise.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, Luma};
use sohoa::codec::{decode, DecodeError};

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

fn assert_refused(bytes: &[u8], what: &str) {
    let t = std::time::Instant::now();
    let err = decode(bytes).expect_err(what);
    assert!(
        matches!(
            err,
            DecodeError::TooLarge { .. } | DecodeError::OverLimit(_)
        ),
        "{what}: {err}"
    );
    assert!(err.to_string().contains("over the limit"), "{what}: {err}");
    assert!(t.elapsed().as_secs() < 5, "{what} took {:?}", t.elapsed());
}

#[test]
fn a_png_promising_60000_by_60000_is_refused() {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    // A few bytes of deflate data that would expand enormously.
    chunk(
        &mut png,
        b"IDAT",
        &[
            0x78, 0x9c, 0xed, 0xc1, 0x01, 0x0d, 0x00, 0x00, 0x00, 0xc2, 0xa0,
        ],
    );
    chunk(&mut png, b"IEND", &[]);
    assert_refused(&png, "PNG bomb");
}

#[test]
fn a_jpeg_promising_65000_by_65000_is_refused() {
    let img = DynamicImage::ImageLuma8(GrayImage::from_pixel(16, 16, Luma([128])));
    let mut jpg = Vec::new();
    img.write_to(&mut Cursor::new(&mut jpg), image::ImageFormat::Jpeg)
        .unwrap();
    // Patch the SOF0 frame header's height and width.
    let sof = jpg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG");
    jpg[sof + 5..sof + 7].copy_from_slice(&65_000u16.to_be_bytes());
    jpg[sof + 7..sof + 9].copy_from_slice(&65_000u16.to_be_bytes());
    assert_refused(&jpg, "JPEG bomb");
}

#[test]
fn a_tiff_promising_a_giant_page_is_refused() {
    let mut tif = Vec::new();
    {
        let mut enc = tiff::encoder::TiffEncoder::new(Cursor::new(&mut tif)).unwrap();
        enc.write_image::<tiff::encoder::colortype::Gray8>(8, 8, &[200u8; 64])
            .unwrap();
    }
    // Patch ImageWidth (256), ImageLength (257), RowsPerStrip (278) and
    // StripByteCounts (279) in the first IFD: a consistent header for a
    // 30000 x 30000 page (900 MP) whose data is not there.
    let ifd = u32::from_le_bytes(tif[4..8].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes(tif[ifd..ifd + 2].try_into().unwrap()) as usize;
    for i in 0..n {
        let e = ifd + 2 + i * 12;
        let tag = u16::from_le_bytes(tif[e..e + 2].try_into().unwrap());
        let value = match tag {
            256 | 257 | 278 => 30_000u32,
            279 => 900_000_000,
            _ => continue,
        };
        tif[e + 2..e + 4].copy_from_slice(&4u16.to_le_bytes());
        tif[e + 4..e + 8].copy_from_slice(&1u32.to_le_bytes());
        tif[e + 8..e + 12].copy_from_slice(&value.to_le_bytes());
    }
    assert_refused(&tif, "TIFF bomb");
}

#[test]
fn a_pnm_promising_more_than_it_holds_is_refused() {
    assert_refused(b"P6\n50000 50000\n255\n\x00\x00\x00", "PNM bomb");
}
