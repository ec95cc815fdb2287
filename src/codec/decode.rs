//! Decoding of PNG, JPEG, TIFF (every page of a multi-page file) and PNM
//! into frames, with their resolution and EXIF orientation applied.
//!
//! The format is taken from the file's magic bytes, never from its name.
//! Dimension and memory limits are checked before pixels are allocated, so a
//! decompression bomb gets a clear error instead of exhausting memory.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader, Luma, Rgb, RgbImage};
use thiserror::Error;
use tiff::decoder::{Decoder as TiffDecoder, DecodingResult, Limits as TiffLimits};
use tiff::tags::{ResolutionUnit, Tag};
use tiff::ColorType as TiffColor;

/// Largest width or height accepted, in pixels (A0 at 600 dpi is ~20000).
pub const MAX_SIDE: u32 = 40_000;
/// Largest pixel count accepted (a 200 MP phone photo is already absurd).
pub const MAX_PIXELS: u64 = 250_000_000;
/// Most pages read from one multi-page file.
pub const MAX_FRAMES: usize = 2_000;

/// One decoded page image.
#[derive(Debug, Clone)]
pub struct Frame {
    pub image: DynamicImage,
    /// Horizontal resolution in dots per inch, when the file says.
    pub dpi: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Tiff,
    Pnm,
    Pdf,
}

impl Format {
    pub fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::Tiff => "tif",
            Format::Pnm => "pnm",
            Format::Pdf => "pdf",
        }
    }
}

#[derive(Debug, Error)]
pub enum DecodeError {
    #[error("not an image this program reads (PNG, JPEG, TIFF, PNM or a scanner's PDF expected)")]
    UnknownFormat,
    #[error("the file is empty or the image has no pixels")]
    Empty,
    #[error("image is {width}x{height} pixels, over the limit of {MAX_SIDE} per side or {MAX_PIXELS} pixels")]
    TooLarge { width: u64, height: u64 },
    #[error(
        "the image is over the limit of {MAX_SIDE} pixels per side or {MAX_PIXELS} pixels ({0})"
    )]
    OverLimit(String),
    #[error("the multi-page file has more than {MAX_FRAMES} pages")]
    TooManyFrames,
    #[error("{format:?} data is damaged or cut short: {detail}")]
    Corrupt { format: Format, detail: String },
    #[error("{format:?} variant not supported: {detail}")]
    Unsupported { format: Format, detail: String },
}

/// Identifies the format from the first bytes.
pub fn probe_format(bytes: &[u8]) -> Option<Format> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some(Format::Png),
        [0xFF, 0xD8, 0xFF, ..] => Some(Format::Jpeg),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => Some(Format::Tiff),
        [b'I', b'I', 43, 0, ..] | [b'M', b'M', 0, 43, ..] => Some(Format::Tiff),
        [b'P', b'1'..=b'7', ..] => Some(Format::Pnm),
        [b'%', b'P', b'D', b'F', b'-', ..] => Some(Format::Pdf),
        _ => None,
    }
}

/// Decodes every page in the file.
pub fn decode(bytes: &[u8]) -> Result<Vec<Frame>, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = probe_format(bytes).ok_or(DecodeError::UnknownFormat)?;
    match format {
        Format::Tiff => decode_tiff(bytes, None),
        Format::Pdf => super::pdf_extract::extract(bytes, None),
        _ => decode_single(bytes, format).map(|f| vec![f]),
    }
}

/// Decodes page `index` (0-based) of the file only.
pub fn decode_frame(bytes: &[u8], index: u32) -> Result<Frame, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = probe_format(bytes).ok_or(DecodeError::UnknownFormat)?;
    let missing = || DecodeError::Corrupt {
        format,
        detail: format!("page {} is missing", index + 1),
    };
    match format {
        Format::Tiff => decode_tiff(bytes, Some(index))?.pop().ok_or_else(missing),
        Format::Pdf => super::pdf_extract::extract(bytes, Some(index))?
            .pop()
            .ok_or_else(missing),
        _ if index == 0 => decode_single(bytes, format),
        _ => Err(missing()),
    }
}

pub(crate) fn check_size(width: u64, height: u64) -> Result<(), DecodeError> {
    if width == 0 || height == 0 {
        return Err(DecodeError::Empty);
    }
    if width > MAX_SIDE as u64 || height > MAX_SIDE as u64 || width * height > MAX_PIXELS {
        return Err(DecodeError::TooLarge { width, height });
    }
    Ok(())
}

pub(crate) fn decode_single(bytes: &[u8], format: Format) -> Result<Frame, DecodeError> {
    let corrupt = |e: image::ImageError| match e {
        image::ImageError::Unsupported(u) => DecodeError::Unsupported {
            format,
            detail: u.to_string(),
        },
        image::ImageError::Limits(l) => DecodeError::OverLimit(l.to_string()),
        other => DecodeError::Corrupt {
            format,
            detail: other.to_string(),
        },
    };
    let image_format = match format {
        Format::Png => image::ImageFormat::Png,
        Format::Jpeg => image::ImageFormat::Jpeg,
        Format::Pnm => image::ImageFormat::Pnm,
        Format::Tiff => image::ImageFormat::Tiff,
        Format::Pdf => return Err(DecodeError::UnknownFormat),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 6);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (w, h) = decoder.dimensions();
    check_size(w as u64, h as u64)?;
    let orientation = decoder.orientation().map_err(corrupt)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    if format == Format::Jpeg {
        check_jpeg_end(bytes)?;
    }
    let dpi = match format {
        Format::Png => png_dpi(bytes),
        Format::Jpeg => jpeg_dpi(bytes),
        Format::Pnm => pnm_dpi(bytes),
        _ => None,
    };
    Ok(Frame { image, dpi })
}

/// A JPEG cut short often still decodes (the decoder pads grey); a page that
/// is missing its end is not a whole page, so demand the EOI marker.
fn check_jpeg_end(bytes: &[u8]) -> Result<(), DecodeError> {
    let tail = &bytes[bytes.len().saturating_sub(64)..];
    if tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        Ok(())
    } else {
        Err(DecodeError::Corrupt {
            format: Format::Jpeg,
            detail: "no end-of-image marker: the file is cut short".into(),
        })
    }
}

/// Resolution from a PNG pHYs chunk (pixels per metre).
fn png_dpi(bytes: &[u8]) -> Option<f32> {
    let mut pos = 8;
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = bytes.get(pos + 8..pos + 8 + len)?;
        match kind {
            b"pHYs" if len >= 9 && data[8] == 1 => {
                let ppm = u32::from_be_bytes(data[0..4].try_into().ok()?);
                return Some((ppm as f32 * 0.0254).round());
            }
            b"IDAT" | b"IEND" => return None,
            _ => pos += 12 + len,
        }
    }
    None
}

/// Resolution from a `# dpi=N` comment in a PNM header (the scanner source
/// writes one, since PNM has no resolution field).
fn pnm_dpi(bytes: &[u8]) -> Option<f32> {
    let head = &bytes[..bytes.len().min(256)];
    let text = String::from_utf8_lossy(head);
    text.lines()
        .take(6)
        .find_map(|l| l.trim().strip_prefix("# dpi="))
        .and_then(|v| v.trim().parse::<f32>().ok())
        .filter(|d| *d > 0.0)
}

/// Resolution from a JFIF APP0 segment.
fn jpeg_dpi(bytes: &[u8]) -> Option<f32> {
    let app0 = bytes.get(2..20)?;
    if app0[0] != 0xFF || app0[1] != 0xE0 || &app0[4..9] != b"JFIF\0" {
        return None;
    }
    let x = u16::from_be_bytes([app0[12], app0[13]]) as f32;
    match app0[11] {
        1 if x > 0.0 => Some(x),
        2 if x > 0.0 => Some((x * 2.54).round()),
        _ => None,
    }
}

/// Decodes every page, or only page `only` when given.
fn decode_tiff(bytes: &[u8], only: Option<u32>) -> Result<Vec<Frame>, DecodeError> {
    let tiff_err = |e: tiff::TiffError| match e {
        tiff::TiffError::UnsupportedError(u) => DecodeError::Unsupported {
            format: Format::Tiff,
            detail: u.to_string(),
        },
        tiff::TiffError::LimitsExceeded => {
            DecodeError::OverLimit("the TIFF needs more memory than allowed".into())
        }
        other => DecodeError::Corrupt {
            format: Format::Tiff,
            detail: other.to_string(),
        },
    };
    let mut limits = TiffLimits::default();
    limits.decoding_buffer_size = (MAX_PIXELS * 6) as usize;
    limits.intermediate_buffer_size = (MAX_PIXELS * 6) as usize;
    let mut decoder = TiffDecoder::new(Cursor::new(bytes))
        .map_err(tiff_err)?
        .with_limits(limits);
    let mut frames = Vec::new();
    loop {
        if frames.len() >= MAX_FRAMES {
            return Err(DecodeError::TooManyFrames);
        }
        let (w, h) = decoder.dimensions().map_err(tiff_err)?;
        check_size(w as u64, h as u64)?;
        let color = decoder.colortype().map_err(tiff_err)?;
        // The tiff crate (0.11) already inverts WhiteIsZero data, so every
        // grey buffer it returns is BlackIsZero; inverting again here turned
        // every fax TIFF into a negative.
        let white_is_zero = false;
        let dpi = tiff_dpi(&mut decoder);
        let data = decoder.read_image().map_err(tiff_err)?;
        let image = tiff_pixels(w, h, color, data, white_is_zero)?;
        frames.push(Frame { image, dpi });
        if only.is_some() || !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(tiff_err)?;
    }
    Ok(frames)
}

fn tiff_dpi<R: std::io::Read + std::io::Seek>(decoder: &mut TiffDecoder<R>) -> Option<f32> {
    let value = decoder.find_tag(Tag::XResolution).ok()??;
    let (num, den) = match value {
        tiff::decoder::ifd::Value::Rational(n, d) => (n as f32, d as f32),
        other => (other.into_u32().ok()? as f32, 1.0),
    };
    if den == 0.0 || num <= 0.0 {
        return None;
    }
    let unit = decoder
        .get_tag_u32(Tag::ResolutionUnit)
        .unwrap_or(ResolutionUnit::Inch.to_u16() as u32);
    let per = num / den;
    Some(if unit == ResolutionUnit::Centimeter.to_u16() as u32 {
        (per * 2.54).round()
    } else {
        per.round()
    })
}

fn tiff_pixels(
    w: u32,
    h: u32,
    color: TiffColor,
    data: DecodingResult,
    white_is_zero: bool,
) -> Result<DynamicImage, DecodeError> {
    let short = || DecodeError::Corrupt {
        format: Format::Tiff,
        detail: "fewer pixels than the header promises".into(),
    };
    let unsupported = |c: TiffColor| DecodeError::Unsupported {
        format: Format::Tiff,
        detail: format!("{c:?} pixels"),
    };
    let (wu, hu) = (w as usize, h as usize);
    let image = match (color, data) {
        (TiffColor::Gray(1), DecodingResult::U8(buf)) => {
            let stride = wu.div_ceil(8);
            if buf.len() < stride * hu {
                return Err(short());
            }
            let mut img = GrayImage::new(w, h);
            for (x, y, p) in img.enumerate_pixels_mut() {
                let bit = buf[y as usize * stride + x as usize / 8] >> (7 - (x % 8)) & 1;
                // BlackIsZero: 1 is white. WhiteIsZero: 1 is black.
                let white = (bit == 1) != white_is_zero;
                *p = Luma([if white { 255 } else { 0 }]);
            }
            DynamicImage::ImageLuma8(img)
        }
        (TiffColor::Gray(8), DecodingResult::U8(mut buf)) => {
            if white_is_zero {
                buf.iter_mut().for_each(|v| *v = 255 - *v);
            }
            buf.truncate(wu * hu);
            DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, buf).ok_or_else(short)?)
        }
        (TiffColor::Gray(16), DecodingResult::U16(buf)) => {
            let buf: Vec<u8> = buf
                .iter()
                .map(|v| {
                    if white_is_zero {
                        255 - (v >> 8) as u8
                    } else {
                        (v >> 8) as u8
                    }
                })
                .collect();
            DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, buf).ok_or_else(short)?)
        }
        (TiffColor::RGB(8), DecodingResult::U8(buf)) => {
            DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, buf).ok_or_else(short)?)
        }
        (TiffColor::RGB(16), DecodingResult::U16(buf)) => {
            let buf: Vec<u8> = buf.iter().map(|v| (v >> 8) as u8).collect();
            DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, buf).ok_or_else(short)?)
        }
        (TiffColor::RGBA(8), DecodingResult::U8(buf)) => {
            if buf.len() < wu * hu * 4 {
                return Err(short());
            }
            let mut img = RgbImage::new(w, h);
            for (p, px) in img.pixels_mut().zip(buf.chunks_exact(4)) {
                *p = Rgb([px[0], px[1], px[2]]);
            }
            DynamicImage::ImageRgb8(img)
        }
        (c, _) => return Err(unsupported(c)),
    };
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_empty_inputs_are_named() {
        assert!(matches!(decode(b""), Err(DecodeError::Empty)));
        assert!(matches!(
            decode(b"hello, not an image"),
            Err(DecodeError::UnknownFormat)
        ));
    }

    #[test]
    fn truncated_png_is_corrupt() {
        let img = DynamicImage::ImageLuma8(GrayImage::from_pixel(64, 64, Luma([200])));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(decode(&png).unwrap().len(), 1);
        assert!(matches!(
            decode(&png[..png.len() / 2]),
            Err(DecodeError::Corrupt { .. })
        ));
    }

    #[test]
    fn truncated_jpeg_is_corrupt() {
        let img = DynamicImage::ImageLuma8(GrayImage::from_fn(64, 64, |x, y| {
            Luma([(x * y % 256) as u8])
        }));
        let mut jpg = Vec::new();
        img.write_to(&mut Cursor::new(&mut jpg), image::ImageFormat::Jpeg)
            .unwrap();
        assert_eq!(decode(&jpg).unwrap().len(), 1);
        assert!(decode(&jpg[..jpg.len() - 40]).is_err());
    }

    #[test]
    fn pnm_carries_its_dpi_in_a_comment() {
        let pnm = b"P5\n# dpi=200\n2 2\n255\n\x00\x10\x20\x30";
        let f = decode(pnm).unwrap();
        assert_eq!(f[0].dpi, Some(200.0));
        assert_eq!(f[0].image.width(), 2);
    }

    #[test]
    fn huge_dimensions_are_refused_before_allocation() {
        // A PNM header promising 100000 x 100000 pixels with no data behind it.
        let err = decode(b"P5\n100000 100000\n255\n").unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::TooLarge { .. } | DecodeError::OverLimit(_)
            ),
            "{err}"
        );
    }
}
