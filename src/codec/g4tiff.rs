//! CCITT Group 4 (T.6) encoding of bilevel pages and the TIFF container
//! around it: one page per file, or every page of a case in one file.
//!
//! The G4 bit stream comes from the `fax` crate. The container is written
//! here by hand because the `tiff` crate cannot write CCITT compression and
//! `fax::tiff::wrap` hard-codes 200 dpi; a single-strip baseline TIFF is
//! about a dozen tags, so a small writer is simpler than another dependency.
//! A single strip also lets a PDF embed the G4 data unchanged.
//!
//! Reading back (for PDF embedding) uses the `tiff` crate's tag parser.
//!
//! Never writes files; never panics on hostile bytes.

use std::io::Cursor;

use fax::{encoder::Encoder, Color, VecWriter};
use image::GrayImage;
use tiff::decoder::Decoder as TiffDecoder;
use tiff::tags::Tag;

use super::encode::EncodeError;

/// Widest line the G4 encoder takes.
pub const MAX_WIDTH: u32 = 65_535;

/// One G4-compressed page.
#[derive(Debug, Clone, PartialEq)]
pub struct G4Page {
    pub width: u32,
    pub height: u32,
    pub dpi: f32,
    /// T.6 data, ending with EOFB, no byte alignment of lines.
    pub data: Vec<u8>,
    /// True when the data codes "black" runs as 1 bits (TIFF BlackIsZero).
    pub black_is_1: bool,
}

/// Encodes a bilevel page (pixels under 128 are ink) as G4.
pub fn encode_g4(bits: &GrayImage, dpi: f32) -> Result<G4Page, EncodeError> {
    let (w, h) = bits.dimensions();
    if w == 0 || h == 0 || w > MAX_WIDTH {
        return Err(EncodeError::new(format!(
            "a G4 page must be 1 to {MAX_WIDTH} pixels wide and not empty, not {w}x{h}"
        )));
    }
    let mut enc = Encoder::new(VecWriter::with_capacity(w as usize * h as usize / 16));
    for row in bits.as_raw().chunks_exact(w as usize) {
        let pels = row
            .iter()
            .map(|&v| if v < 128 { Color::Black } else { Color::White });
        // VecWriter's error type is Infallible.
        let Ok(()) = enc.encode_line(pels, w as u16);
    }
    let Ok(writer) = enc.finish();
    Ok(G4Page {
        width: w,
        height: h,
        dpi,
        data: writer.finish(),
        black_is_1: false,
    })
}

enum Val {
    Short(u16),
    Long(u32),
    Shorts2(u16, u16),
    /// Offset of the page's resolution rational, filled in at write time.
    Resolution,
    StripOffset,
    Ascii(&'static str),
}

/// Wraps G4 pages in a TIFF (little endian, one strip per page, WhiteIsZero,
/// resolution in inches). Several pages make a multi-page TIFF.
pub fn tiff(pages: &[G4Page], software: &'static str) -> Result<Vec<u8>, EncodeError> {
    if pages.is_empty() {
        return Err(EncodeError::new("a TIFF needs at least one page"));
    }
    let total: usize = pages.iter().map(|p| p.data.len() + 512).sum();
    if total > u32::MAX as usize / 2 {
        return Err(EncodeError::new(
            "the pages are too large for one TIFF file",
        ));
    }
    let multi = pages.len() > 1;
    let mut out = Vec::with_capacity(total + 8);
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&0u32.to_le_bytes()); // patched below
    let mut prev_link = 4usize;
    let n = pages.len() as u16;
    for (i, page) in pages.iter().enumerate() {
        if page.width == 0 || page.height == 0 {
            return Err(EncodeError::new("empty page in TIFF"));
        }
        // Strip data first, then the resolution rational, then the IFD.
        let strip_offset = out.len() as u32;
        out.extend_from_slice(&page.data);
        if out.len() % 2 == 1 {
            out.push(0);
        }
        let res_offset = out.len() as u32;
        let (num, den) = rational(page.dpi);
        out.extend_from_slice(&num.to_le_bytes());
        out.extend_from_slice(&den.to_le_bytes());
        let soft_offset = out.len() as u32;
        out.extend_from_slice(software.as_bytes());
        out.push(0);
        if out.len() % 2 == 1 {
            out.push(0);
        }
        let mut tags: Vec<(u16, Val)> = vec![
            (254, Val::Long(if multi { 2 } else { 0 })),
            (256, Val::Long(page.width)),
            (257, Val::Long(page.height)),
            (258, Val::Short(1)),
            (259, Val::Short(4)),
            (262, Val::Short(if page.black_is_1 { 1 } else { 0 })),
            (266, Val::Short(1)),
            (273, Val::StripOffset),
            (277, Val::Short(1)),
            (278, Val::Long(page.height)),
            (279, Val::Long(page.data.len() as u32)),
            (282, Val::Resolution),
            (283, Val::Resolution),
            (293, Val::Long(0)),
            (296, Val::Short(2)),
            (305, Val::Ascii(software)),
        ];
        if multi {
            tags.push((297, Val::Shorts2(i as u16, n)));
            tags.sort_by_key(|t| t.0);
        }
        let ifd_offset = out.len() as u32;
        out[prev_link..prev_link + 4].copy_from_slice(&ifd_offset.to_le_bytes());
        out.extend_from_slice(&(tags.len() as u16).to_le_bytes());
        for (tag, val) in &tags {
            let (typ, count, value): (u16, u32, [u8; 4]) = match val {
                Val::Short(v) => (3, 1, pad_short(*v, 0)),
                Val::Shorts2(a, b) => (3, 2, pad_short(*a, *b)),
                Val::Long(v) => (4, 1, v.to_le_bytes()),
                Val::Resolution => (5, 1, res_offset.to_le_bytes()),
                Val::StripOffset => (4, 1, strip_offset.to_le_bytes()),
                Val::Ascii(s) => (2, s.len() as u32 + 1, soft_offset.to_le_bytes()),
            };
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&typ.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&value);
        }
        prev_link = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    Ok(out)
}

fn pad_short(a: u16, b: u16) -> [u8; 4] {
    let [a0, a1] = a.to_le_bytes();
    let [b0, b1] = b.to_le_bytes();
    [a0, a1, b0, b1]
}

fn rational(dpi: f32) -> (u32, u32) {
    let dpi = if dpi.is_finite() && dpi > 0.0 {
        dpi.min(100_000.0)
    } else {
        300.0
    };
    if (dpi - dpi.round()).abs() < 1e-3 {
        (dpi.round() as u32, 1)
    } else {
        ((dpi * 1000.0).round() as u32, 1000)
    }
}

/// Reads every page of a TIFF whose pages are each one CCITT G4 strip, as
/// is, without decoding. Returns `None` for any other TIFF (decode and
/// re-encode those instead).
pub fn read_g4_pages(bytes: &[u8]) -> Option<Vec<G4Page>> {
    let mut dec = TiffDecoder::new(Cursor::new(bytes)).ok()?;
    let mut pages = Vec::new();
    loop {
        let tag = |dec: &mut TiffDecoder<Cursor<&[u8]>>, t: Tag| dec.get_tag_u32(t).ok();
        if tag(&mut dec, Tag::Compression)? != 4 {
            return None;
        }
        let (width, height) = dec.dimensions().ok()?;
        let offsets = dec.get_tag_u32_vec(Tag::StripOffsets).ok()?;
        let counts = dec.get_tag_u32_vec(Tag::StripByteCounts).ok()?;
        if offsets.len() != 1 || counts.len() != 1 {
            return None;
        }
        let t6 = tag(&mut dec, Tag::Unknown(293)).unwrap_or(0);
        if t6 & 2 != 0 {
            return None; // uncompressed mode
        }
        let photometric = tag(&mut dec, Tag::PhotometricInterpretation).unwrap_or(0);
        let fill_order = tag(&mut dec, Tag::FillOrder).unwrap_or(1);
        let start = offsets[0] as usize;
        let mut data = bytes
            .get(start..start.checked_add(counts[0] as usize)?)?
            .to_vec();
        if fill_order == 2 {
            data.iter_mut().for_each(|b| *b = b.reverse_bits());
        }
        let dpi = resolution_dpi(&mut dec);
        pages.push(G4Page {
            width,
            height,
            dpi: dpi.unwrap_or(0.0),
            data,
            black_is_1: photometric == 1,
        });
        if !dec.more_images() {
            break;
        }
        dec.next_image().ok()?;
    }
    Some(pages)
}

fn resolution_dpi(dec: &mut TiffDecoder<Cursor<&[u8]>>) -> Option<f32> {
    let v = dec.get_tag(Tag::XResolution).ok()?;
    let x = match v {
        tiff::decoder::ifd::Value::Rational(n, d) if d > 0 => n as f32 / d as f32,
        _ => return None,
    };
    let unit = dec.get_tag_u32(Tag::ResolutionUnit).unwrap_or(2);
    match unit {
        2 => Some(x),
        3 => Some(x * 2.54),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn round_trips_through_our_decoder() {
        let img = GrayImage::from_fn(123, 77, |x, y| {
            Luma([if (x / 7 + y / 5) % 3 == 0 { 0 } else { 255 }])
        });
        let page = encode_g4(&img, 200.0).unwrap();
        let file = tiff(&[page.clone(), page.clone()], "test").unwrap();
        if let Ok(dir) = std::env::var("G4_DEBUG_DIR") {
            std::fs::write(format!("{dir}/g4.tif"), &file).unwrap();
            img.save(format!("{dir}/g4.pgm")).unwrap();
        }
        let frames = crate::codec::decode(&file).unwrap();
        assert_eq!(frames.len(), 2);
        for f in &frames {
            let got = f.image.to_luma8();
            let diff = got
                .as_raw()
                .iter()
                .zip(img.as_raw())
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(diff, 0, "pixels differ after a G4 round trip");
        }
        let back = read_g4_pages(&file).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].data, page.data);
        assert_eq!(back[0].dpi, 200.0);
        assert!(read_g4_pages(&file[..20]).is_none());
    }
}
