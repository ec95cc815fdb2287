//! Page images out of PDFs that network scanners write: one image per page,
//! embedded as JPEG (DCTDecode), CCITT G4, or Flate/raw samples.
//!
//! PDFs are parsed with lopdf; nothing is rendered, so vector-only pages,
//! JPEG 2000 and JBIG2 are refused with a clear reason rather than guessed.
//! Pure over bytes.

use image::{DynamicImage, GrayImage, Luma, RgbImage};
use lopdf::{Document, Object};

use super::decode::{check_size, decode_single, DecodeError, Format, Frame, MAX_FRAMES};

fn corrupt(detail: impl Into<String>) -> DecodeError {
    DecodeError::Corrupt {
        format: Format::Pdf,
        detail: detail.into(),
    }
}

fn unsupported(detail: impl Into<String>) -> DecodeError {
    DecodeError::Unsupported {
        format: Format::Pdf,
        detail: detail.into(),
    }
}

/// The page images of a PDF, or only page `only` (0-based).
pub fn extract(bytes: &[u8], only: Option<u32>) -> Result<Vec<Frame>, DecodeError> {
    let doc = Document::load_mem(bytes).map_err(|e| corrupt(e.to_string()))?;
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(corrupt("the PDF has no pages"));
    }
    if pages.len() > MAX_FRAMES {
        return Err(DecodeError::TooManyFrames);
    }
    let mut frames = Vec::new();
    for (n, (_, page_id)) in pages.iter().enumerate() {
        if only.is_some_and(|o| o as usize != n) {
            continue;
        }
        let page = n + 1;
        let images = doc.get_page_images(*page_id).unwrap_or_default();
        // A scanned page holds one image; take the largest if there are more.
        let Some(img) = images
            .iter()
            .max_by_key(|i| i.width.saturating_mul(i.height))
        else {
            return Err(unsupported(format!(
                "page {page} holds no image (a text or vector PDF, not a scan)"
            )));
        };
        let (w, h) = (img.width.max(0) as u64, img.height.max(0) as u64);
        check_size(w, h)?;
        let filters = img.filters.clone().unwrap_or_default();
        let mut image = match filters.last().map(String::as_str) {
            Some("DCTDecode") => decode_single(img.content, Format::Jpeg)?.image,
            Some("CCITTFaxDecode") => {
                ccitt(img.content, img.origin_dict, w as u32, h as u32, page)?
            }
            None | Some("FlateDecode") => {
                let stream = doc
                    .get_object(img.id)
                    .and_then(Object::as_stream)
                    .map_err(|e| corrupt(format!("page {page}: {e}")))?;
                let data = if filters.is_empty() {
                    stream.content.clone()
                } else {
                    stream
                        .decompressed_content()
                        .map_err(|e| corrupt(format!("page {page}: {e}")))?
                };
                raw(
                    &data,
                    img.color_space.as_deref(),
                    img.bits_per_component,
                    w as u32,
                    h as u32,
                    page,
                )?
            }
            Some(other) => return Err(unsupported(format!("page {page} image uses {other}"))),
        };
        if matches!(img.color_space.as_deref(), Some("DeviceGray")) {
            image = DynamicImage::ImageLuma8(image.to_luma8());
        }
        let dpi =
            page_width_points(&doc, *page_id).map(|pt| (image.width() as f32 * 72.0 / pt).round());
        frames.push(Frame { image, dpi });
    }
    if frames.is_empty() {
        return Err(corrupt(format!(
            "page {} is missing",
            only.unwrap_or(0) + 1
        )));
    }
    Ok(frames)
}

fn page_width_points(doc: &Document, page: lopdf::ObjectId) -> Option<f32> {
    let dict = doc.get_dictionary(page).ok()?;
    let mb = dict.get(b"MediaBox").ok()?.as_array().ok()?;
    let num = |o: &Object| {
        o.as_float()
            .ok()
            .or_else(|| o.as_i64().ok().map(|v| v as f32))
    };
    let w = num(mb.get(2)?)? - num(mb.first()?)?;
    (w > 1.0).then_some(w)
}

fn ccitt(
    data: &[u8],
    dict: &lopdf::Dictionary,
    w: u32,
    h: u32,
    page: usize,
) -> Result<DynamicImage, DecodeError> {
    let parms = dict.get(b"DecodeParms").ok().and_then(|p| match p {
        Object::Array(a) => a.last().and_then(|o| o.as_dict().ok()),
        o => o.as_dict().ok(),
    });
    let get = |key: &[u8]| {
        parms
            .and_then(|p| p.get(key).ok())
            .and_then(|o| o.as_i64().ok())
    };
    let k = get(b"K").unwrap_or(0);
    if k >= 0 {
        return Err(unsupported(format!(
            "page {page} uses CCITT Group 3 (K={k}); only Group 4 is read"
        )));
    }
    let black_is_1 = parms
        .and_then(|p| p.get(b"BlackIs1").ok())
        .and_then(|o| o.as_bool().ok())
        .unwrap_or(false);
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        return Err(DecodeError::TooLarge {
            width: w as u64,
            height: h as u64,
        });
    };
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    let mut y = 0u32;
    let done = fax::decoder::decode_g4(data.iter().copied(), w16, Some(h16), |transitions| {
        if y < h {
            for (x, color) in fax::decoder::pels(transitions, w16).enumerate() {
                let black = color == fax::Color::Black;
                // PDF's default (BlackIs1 false) paints 0 bits black; the decoder
                // reports colours in that sense, so invert only for BlackIs1.
                let ink = black != black_is_1;
                if ink && (x as u32) < w {
                    img.put_pixel(x as u32, y, Luma([0]));
                }
            }
        }
        y += 1;
    });
    if done.is_none() || y < h {
        return Err(corrupt(format!(
            "page {page}: CCITT data cut short ({y} of {h} lines)"
        )));
    }
    Ok(DynamicImage::ImageLuma8(img))
}

fn raw(
    data: &[u8],
    space: Option<&str>,
    bits: Option<i64>,
    w: u32,
    h: u32,
    page: usize,
) -> Result<DynamicImage, DecodeError> {
    let channels = match space {
        Some("DeviceRGB") => 3,
        Some("DeviceGray") | None => 1,
        Some(other) => {
            return Err(unsupported(format!(
                "page {page} image colour space {other}"
            )))
        }
    };
    let short = || corrupt(format!("page {page}: image data shorter than {w}x{h}"));
    match (channels, bits.unwrap_or(8)) {
        (1, 8) => {
            let need = (w * h) as usize;
            GrayImage::from_raw(w, h, data.get(..need).ok_or_else(short)?.to_vec())
                .map(DynamicImage::ImageLuma8)
                .ok_or_else(short)
        }
        (3, 8) => {
            let need = (w * h * 3) as usize;
            RgbImage::from_raw(w, h, data.get(..need).ok_or_else(short)?.to_vec())
                .map(DynamicImage::ImageRgb8)
                .ok_or_else(short)
        }
        (1, 1) => {
            let stride = w.div_ceil(8) as usize;
            if data.len() < stride * h as usize {
                return Err(short());
            }
            Ok(DynamicImage::ImageLuma8(GrayImage::from_fn(
                w,
                h,
                |x, y| {
                    let bit = data[y as usize * stride + x as usize / 8] >> (7 - x % 8) & 1;
                    Luma([if bit == 1 { 255 } else { 0 }])
                },
            )))
        }
        (c, b) => Err(unsupported(format!(
            "page {page} image with {c} channel(s) at {b} bits"
        ))),
    }
}
