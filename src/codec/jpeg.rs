//! JPEG encoding of grey and colour pages with the resolution in the JFIF
//! header, and reading back the few header facts a PDF needs.
//!
//! Encoder: the `jpeg-encoder` crate (pure Rust, AVX2 paths, writes JFIF
//! density, optimised Huffman tables, own quantisation tables, so a lower
//! chroma quality). Alternatives looked at: `image`'s own JPEG encoder (about
//! 3x slower on colour, 2x on grey, no optimised tables), its progressive
//! mode (no smaller here, slower), `mozjpeg` and
//! `turbojpeg` (C libraries to build and link; mozjpeg is smaller per
//! quality but several times slower). `benches/codec.rs` compares against
//! libjpeg-turbo's `cjpeg` on the same pixels at the same quality.
//!
//! Never writes files; never panics on hostile bytes.

use jpeg_encoder::{
    ChromaSubsamplingMethod, ColorType, Encoder, PixelDensity, QuantizationTableType,
    SamplingFactor,
};

use super::encode::EncodeError;

/// Largest side a baseline JPEG can hold.
pub const MAX_SIDE: u32 = 65_535;

/// Encoder settings beyond the quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JpegSettings {
    /// Luminance quality, 1 to 100.
    pub quality: u8,
    /// Chrominance quality, 1 to 100 (colour only). Ink and stamp colours
    /// need little detail once chroma is halved (4:2:0), so this can sit
    /// well below `quality`.
    pub chroma_quality: u8,
    /// Two passes for Huffman tables fitted to the page (about 8% smaller,
    /// slower). Colour only together with `progressive`, see `encode_with`.
    pub optimize: bool,
    /// Progressive JPEG (spectral selection scans): smaller again with
    /// optimised tables, slower to write.
    pub progressive: bool,
}

impl JpegSettings {
    pub fn new(quality: u8) -> Self {
        JpegSettings {
            quality,
            chroma_quality: quality,
            optimize: true,
            progressive: false,
        }
    }
}

/// Encodes 8-bit grey (`channels` 1) or RGB (`channels` 3) pixels.
pub fn encode(
    pixels: &[u8],
    width: u32,
    height: u32,
    channels: u8,
    quality: u8,
    dpi: f32,
) -> Result<Vec<u8>, EncodeError> {
    encode_with(
        pixels,
        width,
        height,
        channels,
        &JpegSettings::new(quality),
        dpi,
    )
}

/// The IJG (JPEG standard Annex K) chrominance table.
const STD_CHROMA: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// The chrominance table scaled to a quality the IJG way (what the encoder
/// does for its own tables), in the encoder's natural (row-major) order.
fn chroma_table(quality: u8) -> Box<[u16; 64]> {
    let q = quality.clamp(1, 100) as u32;
    let scale = if q < 50 { 5000 / q } else { 200 - q * 2 };
    Box::new(STD_CHROMA.map(|v| ((v as u32 * scale + 50) / 100).clamp(1, 255) as u16))
}

/// Encodes 8-bit grey (`channels` 1) or RGB (`channels` 3) pixels.
pub fn encode_with(
    pixels: &[u8],
    width: u32,
    height: u32,
    channels: u8,
    s: &JpegSettings,
    dpi: f32,
) -> Result<Vec<u8>, EncodeError> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(EncodeError::new(format!(
            "a JPEG page must be 1 to {MAX_SIDE} pixels per side, not {width}x{height}"
        )));
    }
    let color = match channels {
        1 => ColorType::Luma,
        3 => ColorType::Rgb,
        n => {
            return Err(EncodeError::new(format!(
                "{n} channels cannot be stored as JPEG"
            )))
        }
    };
    if pixels.len() != width as usize * height as usize * channels as usize {
        return Err(EncodeError::new(
            "pixel buffer does not match the page size",
        ));
    }
    let quality = s.quality.clamp(1, 100);
    let mut out = Vec::with_capacity(pixels.len() / 20);
    let mut enc = Encoder::new(&mut out, quality);
    enc.set_density(PixelDensity::dpi(dpi_u16(dpi)));
    enc.set_sampling_factor(SamplingFactor::F_2_2);
    if channels == 3 {
        enc.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
        if s.chroma_quality != quality {
            enc.set_quantization_tables(
                QuantizationTableType::Default,
                QuantizationTableType::Custom(chroma_table(s.chroma_quality)),
            );
        }
    }
    // Optimised Huffman tables make jpeg-encoder write one baseline scan per
    // component; zune-jpeg 0.5 (the `image` crate's decoder, so ours)
    // decodes such non-interleaved 4:2:0 scans to garbage (zune-image
    // issue 419), while libjpeg reads them. So baseline colour keeps the
    // standard tables (one interleaved scan); a grey JPEG has one scan
    // anyway, and progressive colour is read right by both.
    enc.set_optimized_huffman_tables(s.optimize && (channels == 1 || s.progressive));
    enc.set_progressive(s.progressive);
    enc.encode(pixels, width as u16, height as u16, color)
        .map_err(|e| EncodeError::new(format!("JPEG encoder: {e}")))?;
    Ok(out)
}

fn dpi_u16(dpi: f32) -> u16 {
    if dpi.is_finite() {
        dpi.round().clamp(1.0, 65_535.0) as u16
    } else {
        300
    }
}

/// What a PDF needs to embed a JPEG as it is (DCTDecode).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JpegInfo {
    pub width: u32,
    pub height: u32,
    /// 1 grey, 3 colour (4 CMYK is reported, callers may refuse it).
    pub components: u8,
    /// Resolution from the JFIF header, if it says.
    pub dpi: Option<f32>,
    /// Baseline, extended or progressive Huffman JPEG: what PDF readers take.
    pub pdf_compatible: bool,
}

/// Reads the frame header (SOFn) and JFIF density of a JPEG.
pub fn info(bytes: &[u8]) -> Option<JpegInfo> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return None;
    }
    let mut pos = 2;
    let mut dpi = None;
    while pos + 4 <= bytes.len() {
        if bytes[pos] != 0xFF {
            return None;
        }
        let marker = bytes[pos + 1];
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        if marker == 0xD8 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            pos += 2;
            continue;
        }
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        let seg = bytes.get(pos + 4..pos + 2 + len)?;
        match marker {
            0xE0 if seg.len() >= 12 && &seg[0..5] == b"JFIF\0" => {
                let x = u16::from_be_bytes([seg[8], seg[9]]) as f32;
                dpi = match seg[7] {
                    1 if x > 0.0 => Some(x),
                    2 if x > 0.0 => Some(x * 2.54),
                    _ => None,
                };
            }
            0xC0..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => {
                if seg.len() < 6 {
                    return None;
                }
                let height = u16::from_be_bytes([seg[1], seg[2]]) as u32;
                let width = u16::from_be_bytes([seg[3], seg[4]]) as u32;
                return Some(JpegInfo {
                    width,
                    height,
                    components: seg[5],
                    dpi,
                    pdf_compatible: matches!(marker, 0xC0..=0xC2) && seg[0] == 8 && height > 0,
                });
            }
            0xDA | 0xD9 => return None,
            _ => {}
        }
        pos += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_density_and_reads_header_back() {
        let px: Vec<u8> = (0..40 * 30 * 3).map(|i| (i % 251) as u8).collect();
        let jpg = encode(&px, 40, 30, 3, 80, 200.0).unwrap();
        let i = info(&jpg).unwrap();
        assert_eq!((i.width, i.height, i.components), (40, 30, 3));
        assert_eq!(i.dpi, Some(200.0));
        assert!(i.pdf_compatible);
        assert!(info(&jpg[..10]).is_none());
        assert!(encode(&px, 0, 30, 3, 80, 200.0).is_err());
        assert!(encode(&px[1..], 40, 30, 3, 80, 200.0).is_err());
    }

    #[test]
    fn our_decoder_reads_what_we_write() {
        let (w, h) = (200u32, 150u32);
        for channels in [1u8, 3] {
            let px: Vec<u8> = (0..w * h * channels as u32)
                .map(|i| {
                    let (x, y) = ((i / channels as u32) % w, (i / channels as u32) / w);
                    (((x / 9 + y / 7) % 2) * 150 + 50 + (i % channels as u32) * 20) as u8
                })
                .collect();
            let jpg = encode(&px, w, h, channels, 85, 300.0).unwrap();
            let img = crate::codec::decode(&jpg).unwrap().remove(0).image;
            let back = if channels == 1 {
                img.to_luma8().into_raw()
            } else {
                img.to_rgb8().into_raw()
            };
            let mad = back
                .iter()
                .zip(&px)
                .map(|(a, b)| a.abs_diff(*b) as u64)
                .sum::<u64>()
                / px.len() as u64;
            assert!(mad < 8, "{channels} channels: mean error {mad}");
        }
    }
}
