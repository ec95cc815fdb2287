//! The page pipeline: decoded frame -> orient, deskew, crop, blank check ->
//! encoded page plus a report of what was done.
//!
//! Pure CPU work over pixel buffers: no file system, no journal, no async.
//! Callers run it on the worker pool, never on the async runtime.

use std::time::Instant;

use serde::Serialize;

use crate::codec::{self, Encoded, Frame, OutputConfig};
use crate::imaging::{self, ImagingConfig};

/// What the pipeline did to a page; the JSON shape of `sohoa process --json`.
#[derive(Debug, Clone, Serialize)]
pub struct PageReport {
    pub skew_deg: f32,
    pub confidence: f32,
    pub rotated: bool,
    pub orientation: u16,
    pub crop: [u32; 4],
    pub blank: bool,
    pub ink: f32,
    pub width: u32,
    pub height: u32,
    pub dpi: f32,
    pub bytes: usize,
    /// JPEG quality the page was stored at (the byte budget may lower it).
    pub quality: Option<u8>,
    pub ms: f64,
}

/// A processed page.
#[derive(Debug, Clone)]
pub struct Processed {
    pub encoded: Encoded,
    pub report: PageReport,
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Encode(#[from] codec::encode::EncodeError),
}

/// Analysis only: what `sohoa inspect` reports.
pub fn inspect(frame: &Frame, imaging_cfg: &ImagingConfig, output: &OutputConfig) -> PageReport {
    let start = Instant::now();
    let dpi = frame_dpi(frame, output);
    let a = imaging::analyze_image(&frame.image, imaging_cfg, dpi);
    PageReport {
        skew_deg: a.skew_deg,
        confidence: a.confidence,
        rotated: a.rotate,
        orientation: a.orientation,
        crop: a.crop,
        blank: a.blank,
        ink: a.ink,
        width: a.crop[2],
        height: a.crop[3],
        dpi,
        bytes: 0,
        quality: None,
        ms: start.elapsed().as_secs_f64() * 1e3,
    }
}

/// The whole pipeline for one page.
pub fn process(
    frame: Frame,
    imaging_cfg: &ImagingConfig,
    output: &OutputConfig,
) -> Result<Processed, PipelineError> {
    let start = Instant::now();
    let dpi = frame_dpi(&frame, output);
    let analysis = imaging::analyze_image(&frame.image, imaging_cfg, dpi);
    let (image, rotated) = imaging::correct(frame.image, &analysis, imaging_cfg);
    let encoded = codec::encode(&image, dpi, output)?;
    let report = PageReport {
        skew_deg: analysis.skew_deg,
        confidence: analysis.confidence,
        rotated,
        orientation: analysis.orientation,
        crop: analysis.crop,
        blank: analysis.blank,
        ink: analysis.ink,
        // What was stored (the output step may resample to storage_dpi).
        width: encoded.width,
        height: encoded.height,
        dpi: encoded.dpi,
        bytes: encoded.bytes.len(),
        quality: encoded.quality,
        ms: start.elapsed().as_secs_f64() * 1e3,
    };
    Ok(Processed { encoded, report })
}

fn frame_dpi(frame: &Frame, output: &OutputConfig) -> f32 {
    frame
        .dpi
        .filter(|d| *d >= 50.0 && *d <= 4800.0)
        .unwrap_or(output.default_dpi as f32)
}
