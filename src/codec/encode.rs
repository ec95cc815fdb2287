//! Encoding of processed pages per the output profile (`[output]` in the
//! config): optional resampling to the storage resolution, paper background
//! normalisation, the choice between colour, grey and bilevel (profile
//! `auto`), then JPEG or CCITT G4 TIFF.
//!
//! Encoders take pixels and return bytes; they never write files.

use std::borrow::Cow;

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, RgbImage};
use serde::{Deserialize, Serialize};

use super::layers::LayerParams;
use super::{budget, g4tiff, jpeg, resample};
use crate::imaging::background::{self, NormalizeParams, PageStats};
use crate::imaging::sauvola::{self, SauvolaParams};

/// Name written into TIFF and PDF files.
pub const SOFTWARE: &str = concat!("sohoa ", env!("CARGO_PKG_VERSION"));

/// How processed pages are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// colour (the national guidance asks for colour scans), grey, bilevel
    /// (CCITT G4), or auto: bilevel for plain dark text on light paper,
    /// colour when there is coloured ink, grey otherwise.
    pub profile: Profile,
    /// JPEG quality, 1 to 100.
    pub jpeg_quality: u8,
    /// JPEG quality of the colour (chroma) channels, 1 to 100.
    pub jpeg_chroma_quality: u8,
    /// Byte budget of a JPEG page, kilobytes per A4 area (scaled by the
    /// page's area); a page over it is stored at a lower quality, down to
    /// `min_quality`. 0 turns budgets off.
    pub page_kb: u32,
    /// Lowest JPEG quality the budget may go to (1 to `jpeg_quality`);
    /// the chroma quality follows in proportion.
    pub min_quality: u8,
    /// Resolution written when the source does not say, dots per inch.
    pub default_dpi: u32,
    /// Resolution pages are stored at, dots per inch; pages scanned finer
    /// are resampled down. 0 keeps the scan resolution.
    pub storage_dpi: u32,
    /// Flatten yellowed, uneven paper to white before encoding.
    pub normalize_background: bool,
    /// Ratio to the local paper level from which a pixel is pure white
    /// (0.5 to 1.0); lower cleans more texture, higher keeps fainter strokes.
    pub white_point: f32,
    /// Sauvola sensitivity for bilevel pages (0.01 to 0.5); lower keeps
    /// fainter strokes.
    pub bilevel_k: f32,
    /// Sauvola window side for bilevel pages, millimetres (1 to 50).
    pub bilevel_window_mm: f32,
    /// Also write one multi-page G4 TIFF per case when all its pages are bilevel.
    pub case_tiff: bool,
    /// How colour and grey pages go into case PDFs: `embed` (the stored
    /// JPEG as it is), `layered` (ink mask, background and ink colour, see
    /// `layers`: about a third of the bytes) or `auto` (embedded when the
    /// JPEG fits `page_kb`, layered when it does not). Bilevel pages are
    /// always embedded as they are.
    pub pdf_pages: PdfPages,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self {
            profile: Profile::Colour,
            jpeg_quality: 50,
            jpeg_chroma_quality: 30,
            page_kb: 100,
            min_quality: 35,
            default_dpi: 300,
            storage_dpi: 200,
            normalize_background: true,
            white_point: NormalizeParams::default().white_point,
            bilevel_k: 0.2,
            bilevel_window_mm: 4.0,
            case_tiff: false,
            pdf_pages: PdfPages::Auto,
        }
    }
}

impl OutputConfig {
    /// Reports every bad value as `output.KEY: problem`.
    pub fn validate(&self, errors: &mut Vec<String>) {
        if !(1..=100).contains(&self.jpeg_quality) {
            errors.push(format!(
                "output.jpeg_quality: {} is out of range (1 to 100)",
                self.jpeg_quality
            ));
        }
        if !(1..=100).contains(&self.jpeg_chroma_quality) {
            errors.push(format!(
                "output.jpeg_chroma_quality: {} is out of range (1 to 100)",
                self.jpeg_chroma_quality
            ));
        }
        if self.page_kb != 0 && !(10..=100_000).contains(&self.page_kb) {
            errors.push(format!(
                "output.page_kb: {} is out of range (0 for no budget, or 10 to 100000)",
                self.page_kb
            ));
        }
        if !(1..=100).contains(&self.min_quality) {
            errors.push(format!(
                "output.min_quality: {} is out of range (1 to 100)",
                self.min_quality
            ));
        } else if self.min_quality > self.jpeg_quality && (1..=100).contains(&self.jpeg_quality) {
            errors.push(format!(
                "output.min_quality: {} is above output.jpeg_quality ({})",
                self.min_quality, self.jpeg_quality
            ));
        }
        if !(50..=2400).contains(&self.default_dpi) {
            errors.push(format!(
                "output.default_dpi: {} is out of range (50 to 2400)",
                self.default_dpi
            ));
        }
        if self.storage_dpi != 0 && !(72..=1200).contains(&self.storage_dpi) {
            errors.push(format!(
                "output.storage_dpi: {} is out of range (0 to keep the scan resolution, or 72 to 1200)",
                self.storage_dpi
            ));
        }
        if !(0.5..=1.0).contains(&self.white_point) {
            errors.push(format!(
                "output.white_point: {} is out of range (0.5 to 1.0)",
                self.white_point
            ));
        }
        if !(0.01..=0.5).contains(&self.bilevel_k) {
            errors.push(format!(
                "output.bilevel_k: {} is out of range (0.01 to 0.5)",
                self.bilevel_k
            ));
        }
        if !(1.0..=50.0).contains(&self.bilevel_window_mm) {
            errors.push(format!(
                "output.bilevel_window_mm: {} is out of range (1 to 50 mm)",
                self.bilevel_window_mm
            ));
        }
    }

    /// Encoder settings at luma quality `quality`, the chroma quality
    /// scaled in proportion (the configured pair at `jpeg_quality`).
    fn jpeg_settings(&self, quality: u8) -> jpeg::JpegSettings {
        let q = quality.clamp(1, 100) as u32;
        let chroma = (self.jpeg_chroma_quality as u32 * q + self.jpeg_quality.max(1) as u32 / 2)
            / self.jpeg_quality.max(1) as u32;
        jpeg::JpegSettings {
            quality: q as u8,
            chroma_quality: chroma.clamp(1, 100) as u8,
            optimize: true,
            progressive: false,
        }
    }

    /// Settings of the layered PDF pages.
    pub fn layer_params(&self) -> LayerParams {
        LayerParams {
            k: self.bilevel_k,
            window_mm: self.bilevel_window_mm,
            ..LayerParams::default()
        }
    }

    fn normalize_params(&self) -> NormalizeParams {
        NormalizeParams {
            white_point: self.white_point,
            ..NormalizeParams::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Colour,
    Grey,
    Bilevel,
    Auto,
}

/// How colour and grey pages are put into case PDFs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PdfPages {
    /// The stored JPEG when it fits the page budget, else layered when
    /// that is smaller.
    Auto,
    /// Split into an ink mask (G4), a low-resolution background and the ink
    /// colour (JPEG): about a third of the bytes of a JPEG page.
    Layered,
    /// The stored JPEG, byte for byte.
    Embed,
}

/// How a page ended up stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    /// Colour JPEG.
    Colour,
    /// Grey JPEG.
    Grey,
    /// CCITT G4 TIFF.
    Bilevel,
}

/// An encoded page, ready to be filed.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// File name extension without the dot.
    pub ext: &'static str,
    pub kind: PageKind,
    /// Stored size in pixels (after any resampling).
    pub width: u32,
    pub height: u32,
    /// Stored resolution, dots per inch.
    pub dpi: f32,
    /// JPEG (luma) quality used; `None` for bilevel pages.
    pub quality: Option<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("could not encode the page: {0}")]
pub struct EncodeError(String);

impl EncodeError {
    pub fn new(msg: impl Into<String>) -> Self {
        EncodeError(msg.into())
    }
}

/// A page after resampling and normalisation, before compression.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub kind: PageKind,
    /// Colour pages are RGB; grey and bilevel pages are Luma (bilevel: 0 or 255).
    pub image: DynamicImage,
    pub dpi: f32,
}

/// Encodes a processed page.
pub fn encode(image: &DynamicImage, dpi: f32, cfg: &OutputConfig) -> Result<Encoded, EncodeError> {
    let prepared = prepare(image, dpi, cfg)?;
    compress(&prepared, cfg)
}

/// Resampling, background normalisation and the profile choice.
pub fn prepare(
    image: &DynamicImage,
    dpi: f32,
    cfg: &OutputConfig,
) -> Result<Prepared, EncodeError> {
    if image.width() == 0 || image.height() == 0 {
        return Err(EncodeError::new("the page has no pixels"));
    }
    let dpi = if dpi.is_finite() && dpi > 0.0 {
        dpi
    } else {
        cfg.default_dpi as f32
    };
    let is_grey_source = grey_source(image);
    // A page that is already pure black and white stays so, unresampled.
    if may_stay_bilevel(image, cfg) {
        let g = image.to_luma8();
        if sauvola::is_bilevel(&g) {
            return Ok(Prepared {
                kind: PageKind::Bilevel,
                image: DynamicImage::ImageLuma8(g),
                dpi,
            });
        }
    }
    let (image, dpi) = resample(image, dpi, cfg.storage_dpi);
    let norm = cfg.normalize_params();
    let want_colour = !is_grey_source && matches!(cfg.profile, Profile::Colour | Profile::Auto);
    if want_colour {
        let mut rgb = image.to_rgb8();
        if cfg.normalize_background {
            rgb = background::normalize_rgb(&rgb, dpi, &norm);
        }
        let kind = match cfg.profile {
            Profile::Auto => choose(&background::rgb_stats(&rgb)),
            _ => PageKind::Colour,
        };
        return Ok(match kind {
            PageKind::Colour => Prepared {
                kind,
                image: DynamicImage::ImageRgb8(rgb),
                dpi,
            },
            _ => finish_grey(gray_of(&rgb), kind, dpi, cfg),
        });
    }
    let mut g = image.to_luma8();
    if cfg.normalize_background {
        g = background::normalize_gray(&g, dpi, &norm);
    }
    let kind = match cfg.profile {
        Profile::Bilevel => PageKind::Bilevel,
        Profile::Auto => match choose(&background::gray_stats(&g)) {
            PageKind::Colour => PageKind::Grey,
            k => k,
        },
        _ => PageKind::Grey,
    };
    Ok(finish_grey(g, kind, dpi, cfg))
}

fn finish_grey(g: GrayImage, kind: PageKind, dpi: f32, cfg: &OutputConfig) -> Prepared {
    let g = if kind == PageKind::Bilevel {
        let p = SauvolaParams::for_dpi(dpi, cfg.bilevel_k, cfg.bilevel_window_mm);
        sauvola::sauvola(&g, &p)
    } else {
        g
    };
    Prepared {
        kind,
        image: DynamicImage::ImageLuma8(g),
        dpi,
    }
}

fn gray_of(rgb: &RgbImage) -> GrayImage {
    DynamicImage::ImageRgb8(rgb.clone()).to_luma8()
}

/// The `auto` profile: colour when there is coloured ink (stamps, blue pen),
/// bilevel when the page is dark ink on light paper with few mid-tones,
/// grey otherwise (photos, pencil, faded writing).
pub fn choose(s: &PageStats) -> PageKind {
    let ink = s.dark + s.mid;
    if s.colour * 2000 > s.samples && s.colour * 20 > ink {
        PageKind::Colour
    } else if s.mid * 10 <= s.dark * 6 {
        PageKind::Bilevel
    } else {
        PageKind::Grey
    }
}

/// The page at the storage resolution, when `prepare` would resample it
/// (and is sure to: pages that may be kept as they are, pure black-and-white
/// ones under the auto and bilevel profiles, give `None`). Lets the pipeline
/// resample before a rotation instead of after it, so the rotation renders
/// fewer pixels.
pub fn to_storage(
    image: &DynamicImage,
    dpi: f32,
    cfg: &OutputConfig,
) -> Option<(DynamicImage, f32)> {
    if !dpi.is_finite() || image.width() == 0 || image.height() == 0 {
        return None;
    }
    if may_stay_bilevel(image, cfg) {
        return None;
    }
    match resample(image, dpi, cfg.storage_dpi) {
        (Cow::Owned(small), dpi) => Some((small, dpi)),
        (Cow::Borrowed(_), _) => None,
    }
}

fn grey_source(image: &DynamicImage) -> bool {
    matches!(
        image,
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA8(_)
    )
}

/// Whether `prepare` keeps the page as it is when it is pure black and
/// white: grey sources under the auto and bilevel profiles.
fn may_stay_bilevel(image: &DynamicImage, cfg: &OutputConfig) -> bool {
    grey_source(image) && matches!(cfg.profile, Profile::Auto | Profile::Bilevel)
}

fn resample(image: &DynamicImage, dpi: f32, storage_dpi: u32) -> (Cow<'_, DynamicImage>, f32) {
    let target = storage_dpi as f32;
    if storage_dpi == 0 || dpi <= target * 1.02 {
        return (Cow::Borrowed(image), dpi);
    }
    let scale = target / dpi;
    let w = ((image.width() as f32 * scale).round() as u32).max(1);
    let h = ((image.height() as f32 * scale).round() as u32).max(1);
    let (sw, sh) = (image.width() as usize, image.height() as usize);
    let out = match image {
        DynamicImage::ImageLuma8(g) => {
            resample::resample(g.as_raw(), sw, sh, 1, w as usize, h as usize)
                .and_then(|px| GrayImage::from_raw(w, h, px))
                .map(DynamicImage::ImageLuma8)
        }
        DynamicImage::ImageRgb8(rgb) => {
            resample::resample(rgb.as_raw(), sw, sh, 3, w as usize, h as usize)
                .and_then(|px| RgbImage::from_raw(w, h, px))
                .map(DynamicImage::ImageRgb8)
        }
        _ => None,
    };
    let out = out.unwrap_or_else(|| image.resize_exact(w, h, FilterType::Triangle));
    (Cow::Owned(out), target)
}

/// Compresses a prepared page: JPEG for colour and grey (within the page's
/// byte budget when it can, see `budget`), G4 TIFF for bilevel.
pub fn compress(p: &Prepared, cfg: &OutputConfig) -> Result<Encoded, EncodeError> {
    let (width, height) = (p.image.width(), p.image.height());
    let limit = budget::page_budget(cfg.page_kb, width, height, p.dpi);
    let jpeg_fit = |px: &[u8], channels: u8| {
        let start = match limit.filter(|_| height > 0) {
            Some(b) => {
                let row = width as usize * channels as usize;
                let (sample, rows) = budget::probe_rows(px, row, height as usize);
                let probe = jpeg::encode_with(
                    &sample,
                    width,
                    rows as u32,
                    channels,
                    &cfg.jpeg_settings(cfg.jpeg_quality),
                    p.dpi,
                )?;
                let estimate = probe.len() * height as usize / rows.max(1);
                budget::start_quality(cfg.jpeg_quality, cfg.min_quality, b, estimate)
            }
            None => cfg.jpeg_quality,
        };
        budget::fit(start, cfg.min_quality, limit, |q| {
            jpeg::encode_with(px, width, height, channels, &cfg.jpeg_settings(q), p.dpi)
        })
    };
    let (bytes, ext, quality) = match (p.kind, &p.image) {
        (PageKind::Colour, DynamicImage::ImageRgb8(rgb)) => {
            let c = jpeg_fit(rgb.as_raw(), 3)?;
            (c.bytes, "jpg", Some(c.quality))
        }
        (PageKind::Bilevel, img) => {
            let page = g4tiff::encode_g4(&img.to_luma8(), p.dpi)?;
            (g4tiff::tiff(&[page], SOFTWARE)?, "tif", None)
        }
        (_, DynamicImage::ImageLuma8(g)) => {
            let c = jpeg_fit(g.as_raw(), 1)?;
            (c.bytes, "jpg", Some(c.quality))
        }
        (_, img) => {
            let c = jpeg_fit(img.to_luma8().as_raw(), 1)?;
            (c.bytes, "jpg", Some(c.quality))
        }
    };
    Ok(Encoded {
        bytes,
        ext,
        kind: p.kind,
        width,
        height,
        dpi: p.dpi,
        quality,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb};

    #[test]
    fn validation_names_every_bad_key() {
        let cfg = OutputConfig {
            jpeg_quality: 0,
            jpeg_chroma_quality: 101,
            page_kb: 5,
            min_quality: 0,
            storage_dpi: 20,
            white_point: 2.0,
            bilevel_k: 0.0,
            bilevel_window_mm: 0.0,
            ..OutputConfig::default()
        };
        let mut errors = Vec::new();
        cfg.validate(&mut errors);
        for key in [
            "jpeg_quality",
            "jpeg_chroma_quality",
            "page_kb",
            "min_quality",
            "storage_dpi",
            "white_point",
            "bilevel_k",
            "bilevel_window_mm",
        ] {
            assert!(
                errors
                    .iter()
                    .any(|e| e.starts_with(&format!("output.{key}:"))),
                "{key}: {errors:?}"
            );
        }
        let mut none = Vec::new();
        OutputConfig::default().validate(&mut none);
        assert!(none.is_empty(), "{none:?}");
    }

    fn text_page(ink: [u8; 3]) -> RgbImage {
        RgbImage::from_fn(800, 600, |x, y| {
            if (y % 40) < 4 && (x % 30) < 20 {
                Rgb(ink)
            } else {
                Rgb([230, 215, 170])
            }
        })
    }

    #[test]
    fn auto_picks_bilevel_for_black_text_and_colour_for_blue_ink() {
        let cfg = OutputConfig {
            profile: Profile::Auto,
            ..OutputConfig::default()
        };
        let black = encode(
            &DynamicImage::ImageRgb8(text_page([25, 25, 25])),
            300.0,
            &cfg,
        )
        .unwrap();
        assert_eq!((black.kind, black.ext), (PageKind::Bilevel, "tif"));
        let blue = encode(
            &DynamicImage::ImageRgb8(text_page([30, 40, 160])),
            300.0,
            &cfg,
        )
        .unwrap();
        assert_eq!((blue.kind, blue.ext), (PageKind::Colour, "jpg"));
        // Stored at the default storage resolution.
        assert_eq!(jpeg::info(&blue.bytes).unwrap().dpi, Some(200.0));
    }

    #[test]
    fn storage_dpi_resamples() {
        let cfg = OutputConfig {
            profile: Profile::Grey,
            storage_dpi: 200,
            ..OutputConfig::default()
        };
        let img = DynamicImage::ImageLuma8(GrayImage::from_pixel(300, 150, Luma([128])));
        let e = encode(&img, 300.0, &cfg).unwrap();
        assert_eq!(
            (e.width, e.height, e.dpi, e.kind),
            (200, 100, 200.0, PageKind::Grey)
        );
        assert!(encode(&DynamicImage::ImageLuma8(GrayImage::new(0, 0)), 300.0, &cfg).is_err());
    }

    #[test]
    fn page_budget_caps_jpeg_pages_and_reports_the_quality() {
        // Dense blue "writing" over the whole page.
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(1200, 900, |x, y| {
            if (x / 3 + y / 7) % 4 == 0 && y % 30 < 24 {
                Rgb([30, 40, 150])
            } else {
                Rgb([235, 225, 190])
            }
        }));
        let off = OutputConfig {
            page_kb: 0,
            ..OutputConfig::default()
        };
        let full = encode(&img, 200.0, &off).unwrap();
        assert_eq!(full.quality, Some(off.jpeg_quality));
        let limit = budget::page_budget(100, 1200, 900, 200.0).unwrap();
        assert!(
            full.bytes.len() > limit,
            "test page too light: {}",
            full.bytes.len()
        );
        // A budget between the floor and the full size is met.
        let floor = encode(
            &img,
            200.0,
            &OutputConfig {
                jpeg_quality: 35,
                jpeg_chroma_quality: 21,
                ..off.clone()
            },
        )
        .unwrap();
        let kb = ((floor.bytes.len() + full.bytes.len()) / 2) as f64 / 1024.0
            * budget::page_budget(1, 1200, 900, 200.0)
                .map(|b| 1024.0 / b as f64)
                .unwrap();
        let cfg = OutputConfig {
            page_kb: kb.round() as u32,
            ..OutputConfig::default()
        };
        let fit = encode(&img, 200.0, &cfg).unwrap();
        let want = budget::page_budget(cfg.page_kb, 1200, 900, 200.0).unwrap();
        assert!(fit.bytes.len() <= want, "{} > {want}", fit.bytes.len());
        let q = fit.quality.unwrap();
        assert!(q > cfg.min_quality && q < cfg.jpeg_quality, "q{q}");
        // Out of reach: stored at the floor, over the budget.
        let tight = OutputConfig {
            page_kb: 10,
            ..OutputConfig::default()
        };
        let e = encode(&img, 200.0, &tight).unwrap();
        assert_eq!(e.quality, Some(tight.min_quality));
        assert_eq!(e.bytes.len(), floor.bytes.len());
        // Bilevel pages have no JPEG quality.
        let bi = OutputConfig {
            profile: Profile::Bilevel,
            ..OutputConfig::default()
        };
        assert_eq!(encode(&img, 200.0, &bi).unwrap().quality, None);
    }

    #[test]
    fn min_quality_above_jpeg_quality_is_refused() {
        let cfg = OutputConfig {
            jpeg_quality: 40,
            min_quality: 60,
            ..OutputConfig::default()
        };
        let mut errors = Vec::new();
        cfg.validate(&mut errors);
        assert!(
            errors.iter().any(|e| e.starts_with("output.min_quality:")),
            "{errors:?}"
        );
    }
}
