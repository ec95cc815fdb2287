//! Encoding of processed pages per the output profile (`[output]` in the
//! config).
//!
//! Encoders take pixels and return bytes; they never write files.

use std::io::Cursor;

use image::{DynamicImage, ImageEncoder};
use serde::{Deserialize, Serialize};

/// How processed pages are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// colour, grey, bilevel or auto.
    pub profile: Profile,
    /// JPEG quality, 1 to 100.
    pub jpeg_quality: u8,
    /// Resolution written when the source does not say, dots per inch.
    pub default_dpi: u32,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self {
            profile: Profile::Auto,
            jpeg_quality: 75,
            default_dpi: 300,
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
        if !(50..=2400).contains(&self.default_dpi) {
            errors.push(format!(
                "output.default_dpi: {} is out of range (50 to 2400)",
                self.default_dpi
            ));
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

/// An encoded page, ready to be filed.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// File name extension without the dot.
    pub ext: &'static str,
}

#[derive(Debug, thiserror::Error)]
#[error("could not encode the page: {0}")]
pub struct EncodeError(String);

/// Encodes a processed page.
pub fn encode(image: &DynamicImage, _dpi: f32, cfg: &OutputConfig) -> Result<Encoded, EncodeError> {
    let err = |e: image::ImageError| EncodeError(e.to_string());
    let mut bytes = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(
        Cursor::new(&mut bytes),
        cfg.jpeg_quality,
    );
    match (cfg.profile, image) {
        (Profile::Grey | Profile::Bilevel, img)
        | (Profile::Auto, img @ DynamicImage::ImageLuma8(_)) => {
            let g = img.to_luma8();
            enc.write_image(
                g.as_raw(),
                g.width(),
                g.height(),
                image::ExtendedColorType::L8,
            )
            .map_err(err)?;
        }
        (_, img) => {
            let c = img.to_rgb8();
            enc.write_image(
                c.as_raw(),
                c.width(),
                c.height(),
                image::ExtendedColorType::Rgb8,
            )
            .map_err(err)?;
        }
    }
    Ok(Encoded { bytes, ext: "jpg" })
}
