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
    let size = (frame.image.width(), frame.image.height());
    // A page to be deskewed is brought to the storage resolution first, so
    // the rotation renders fewer pixels (at 300 -> 200 dpi, under half);
    // it is still resampled once and interpolated once. Other pages are
    // cropped first, which leaves less to resample.
    let (image, rotated, dpi) = match analysis
        .rotate
        .then(|| codec::encode::to_storage(&frame.image, dpi, output))
        .flatten()
    {
        Some((small, storage_dpi)) => {
            let a = analysis.resized(size, (small.width(), small.height()));
            let (image, rotated) = imaging::correct(small, &a, imaging_cfg);
            (image, rotated, storage_dpi)
        }
        None => {
            let (image, rotated) = imaging::correct(frame.image, &analysis, imaging_cfg);
            (image, rotated, dpi)
        }
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, GrayImage, Luma};

    /// A 300 dpi grey page of text-like lines turned 3 degrees.
    fn skewed_page() -> DynamicImage {
        let mut g = GrayImage::from_pixel(1240, 1754, Luma([235]));
        for line in 0..40u32 {
            let y = 150 + line * 36;
            for x in 120..1100u32 {
                if (x / 9 + line) % 7 != 0 {
                    for dy in 0..9 {
                        g.put_pixel(x, y + dy, Luma([30 + ((x * 13 + dy) % 40) as u8]));
                    }
                }
            }
        }
        imaging::rotate::rotate(DynamicImage::ImageLuma8(g), 3.0, [235; 3])
    }

    #[test]
    fn a_deskewed_page_resampled_first_matches_resampling_after() {
        let page = skewed_page();
        let (icfg, ocfg) = (ImagingConfig::default(), OutputConfig::default());
        let frame = Frame {
            image: page.clone(),
            dpi: Some(300.0),
        };
        let done = process(frame, &icfg, &ocfg).expect("processed");
        assert!(done.report.rotated, "{:?}", done.report);
        assert_eq!(done.encoded.dpi, 200.0);
        // The old order: rotate at the scan resolution, then resample.
        let a = imaging::analyze_image(&page, &icfg, 300.0);
        let (full, _) = imaging::correct(page, &a, &icfg);
        let old = codec::encode(&full, 300.0, &ocfg).expect("encoded");
        let (w, h) = (done.encoded.width, done.encoded.height);
        assert!(w.abs_diff(old.width) <= 2 && h.abs_diff(old.height) <= 2);
        let new_px = codec::decode(&done.encoded.bytes).expect("decodes")[0]
            .image
            .to_luma8();
        let old_px = codec::decode(&old.bytes).expect("decodes")[0]
            .image
            .to_luma8();
        // The crop is scaled outward, so the content may sit a pixel lower
        // and further right: the best alignment within a pixel counts.
        let (cw, ch) = (w.min(old.width) - 2, h.min(old.height) - 2);
        let mean_at = |ox: u32, oy: u32| {
            let mut diff = 0u64;
            for y in 1..ch {
                for x in 1..cw {
                    let o = old_px.get_pixel(x + ox - 1, y + oy - 1)[0];
                    diff += new_px.get_pixel(x, y)[0].abs_diff(o) as u64;
                }
            }
            diff as f64 / (cw as f64 * ch as f64)
        };
        let mean = (0..3)
            .flat_map(|ox| (0..3).map(move |oy| (ox, oy)))
            .map(|(ox, oy)| mean_at(ox, oy))
            .fold(f64::MAX, f64::min);
        // And the stored page is level.
        let again = imaging::analyze_image(&DynamicImage::ImageLuma8(new_px.clone()), &icfg, 200.0);
        assert!(again.skew_deg.abs() < 0.3, "{again:?}");
        assert!(mean < 6.0, "mean difference {mean:.2} grey levels");
    }
}
