//! Pure pixel code: skew, orientation, rotation, border crop, blank pages.
//!
//! Everything here is a function over in-memory pixel buffers. It must never
//! touch the file system, the journal or the clock, and never panic on any
//! image size (including 0x0 or 1xN).

pub mod background;
pub mod binarize;

use image::{DynamicImage, GrayImage};
use serde::{Deserialize, Serialize};

/// Settings for the analysis and correction steps (`[imaging]` in the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImagingConfig {
    /// Straighten skewed pages.
    pub deskew: bool,
    /// Turn pages fed sideways or upside down upright.
    pub orient: bool,
    /// Crop scanner background and black borders.
    pub crop: bool,
    /// Margin kept around the page when cropping, in millimetres.
    pub crop_margin_mm: f32,
    /// What to do with blank pages: "flag" keeps them and marks them, "drop" leaves them out.
    pub blank: BlankAction,
}

impl Default for ImagingConfig {
    fn default() -> Self {
        Self {
            deskew: true,
            orient: true,
            crop: true,
            crop_margin_mm: 2.0,
            blank: BlankAction::Flag,
        }
    }
}

impl ImagingConfig {
    /// Reports every bad value as `imaging.KEY: problem`.
    pub fn validate(&self, errors: &mut Vec<String>) {
        if !(0.0..=50.0).contains(&self.crop_margin_mm) {
            errors.push(format!(
                "imaging.crop_margin_mm: {} is out of range (0 to 50 mm)",
                self.crop_margin_mm
            ));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlankAction {
    Flag,
    Drop,
}

/// What analysis found on a page, before any correction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Counter-clockwise rotation of the content as seen on screen, degrees.
    pub skew_deg: f32,
    /// 0..1: how sure the skew estimate is.
    pub confidence: f32,
    /// Clockwise quarter turns (0, 90, 180, 270) that make the page upright.
    pub orientation: u16,
    /// Page area to keep, `[x, y, w, h]` in the pixels of the upright, deskewed page.
    pub crop: [u32; 4],
    /// Fraction of the page covered by ink, 0..1.
    pub ink: f32,
    pub blank: bool,
}

/// Analyses a grey page. Placeholder until the imaging issue lands: no skew,
/// upright, whole page kept, never blank.
pub fn analyze(gray: &GrayImage, _cfg: &ImagingConfig, _dpi: f32) -> Analysis {
    Analysis {
        skew_deg: 0.0,
        confidence: 0.0,
        orientation: 0,
        crop: [0, 0, gray.width(), gray.height()],
        ink: 0.0,
        blank: false,
    }
}

/// Applies an analysis to the page: orientation, deskew, crop. Returns
/// whether the page was rotated by a non-quarter angle.
pub fn correct(
    image: DynamicImage,
    _analysis: &Analysis,
    _cfg: &ImagingConfig,
) -> (DynamicImage, bool) {
    (image, false)
}
