//! Pure pixel code: skew, orientation, rotation, border crop, blank pages.
//!
//! Everything here is a function over in-memory pixel buffers. It must never
//! touch the file system, the journal or the clock, and never panic on any
//! image size (including 0x0 or 1xN).
//!
//! `analyze` works on two small planes: the fine plane (about 150 dpi, box
//! reduced) and the coarse plane (half of it). Border, paper level, ink and
//! components come from the coarse plane; the fine skew search and the
//! orientation test read the fine ink. `correct` then renders the upright,
//! deskewed, cropped page from the original pixels in one pass.

pub mod binarize;
pub mod blank;
pub mod border;
pub mod components;
pub mod crop;
pub mod orient;
pub mod reduce;
pub mod rotate;
pub mod skew;

pub mod background;
pub mod sauvola;

use image::{DynamicImage, GrayImage};
use serde::{Deserialize, Serialize};

use crop::Geometry;
use reduce::Plane;
use skew::Ink;

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
    /// What to do with blank pages: "flag" keeps them and marks them; "drop"
    /// also leaves them out of the case PDFs at finish (they keep their
    /// numbers and files) and out of `sohoa process` output.
    pub blank: BlankAction,
    /// A page with less ink than this share of its area (percent) is blank.
    pub blank_ink_percent: f32,
    /// Skew below this many degrees is left alone.
    pub deskew_min_deg: f32,
    /// Skew estimates less sure than this (0..1) are not applied.
    pub deskew_min_confidence: f32,
}

impl Default for ImagingConfig {
    fn default() -> Self {
        Self {
            deskew: true,
            orient: true,
            crop: true,
            crop_margin_mm: 2.0,
            blank: BlankAction::Flag,
            blank_ink_percent: 0.05,
            deskew_min_deg: 0.1,
            deskew_min_confidence: 0.3,
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
        if !(0.0..=10.0).contains(&self.blank_ink_percent) {
            errors.push(format!(
                "imaging.blank_ink_percent: {} is out of range (0 to 10 %)",
                self.blank_ink_percent
            ));
        }
        if !(0.0..=5.0).contains(&self.deskew_min_deg) {
            errors.push(format!(
                "imaging.deskew_min_deg: {} is out of range (0 to 5 degrees)",
                self.deskew_min_deg
            ));
        }
        if !(0.0..=1.0).contains(&self.deskew_min_confidence) {
            errors.push(format!(
                "imaging.deskew_min_confidence: {} is out of range (0 to 1)",
                self.deskew_min_confidence
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
    /// Whether `correct` will rotate the page by `skew_deg` (confident,
    /// above the threshold, not blank, deskew enabled).
    pub rotate: bool,
    /// Clockwise quarter turns (0, 90, 180, 270) that make the page upright.
    pub orientation: u16,
    /// Page area to keep, `[x, y, w, h]` in the pixels of the upright, deskewed page.
    pub crop: [u32; 4],
    /// Fraction of the page covered by ink, 0..1.
    pub ink: f32,
    pub blank: bool,
    /// Paper colour (RGB), used to fill what rotation uncovers.
    pub paper: [u8; 3],
}

impl Analysis {
    /// The same analysis for the page resampled from `from` to `to` pixels
    /// (width, height): the crop rectangle is scaled outward, so it never
    /// cuts more than it did at the analysed size.
    pub fn resized(&self, from: (u32, u32), to: (u32, u32)) -> Analysis {
        let ratio = |t: u32, f: u32| if f == 0 { 1.0 } else { t as f64 / f as f64 };
        let (sw, sh) = (ratio(to.0, from.0), ratio(to.1, from.1));
        // Canvas x runs along the source height after a quarter turn.
        let (sx, sy) = if self.orientation % 180 == 90 {
            (sh, sw)
        } else {
            (sw, sh)
        };
        let [x, y, w, h] = self.crop.map(f64::from);
        let (x0, y0) = ((x * sx).floor(), (y * sy).floor());
        let (x1, y1) = (((x + w) * sx).ceil(), ((y + h) * sy).ceil());
        Analysis {
            crop: [x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32],
            ..self.clone()
        }
    }

    /// The geometry `correct` applies to a source of `w` x `h` pixels.
    pub fn geometry(&self, w: u32, h: u32) -> Geometry {
        Geometry {
            src_w: w,
            src_h: h,
            quarter: self.orientation,
            skew_deg: if self.rotate { self.skew_deg } else { 0.0 },
        }
    }
}

/// Analyses a grey page.
pub fn analyze(gray: &GrayImage, cfg: &ImagingConfig, dpi: f32) -> Analysis {
    // The clone is cheap next to the analysis and keeps one code path.
    analyze_image(&DynamicImage::ImageLuma8(gray.clone()), cfg, dpi)
}

/// Skew range searched, degrees either way: the ±15 degrees a page may be
/// fed crooked, plus the skew of the print on the page itself.
const SKEW_RANGE: f32 = 25.0;
/// Coarse sweep step, degrees.
const COARSE_STEP: f32 = 1.0;
/// Ink is this much darker than the local paper.
const INK_CONTRAST: f32 = 0.3;
/// Peak-to-median ratios of the coarse sweep that count as no confidence
/// and as full confidence. Text and ruled pages score 7 to 100; pictures,
/// a few large blurred letters and noise score 2 to 3.5.
const NO_CONFIDENCE_RATIO: f32 = 2.5;
const FULL_CONFIDENCE_RATIO: f32 = 6.5;
/// Lines must run down the page this much more strongly before it is
/// turned a quarter.
const QUARTER_MARGIN: f64 = 1.25;
/// Up/down asymmetry needed before turning a page over.
const UPDOWN_MIN: f32 = 0.08;

/// Analyses a page of any pixel type without converting it at full size.
pub fn analyze_image(img: &DynamicImage, cfg: &ImagingConfig, dpi: f32) -> Analysis {
    let (w, h) = (img.width(), img.height());
    let dpi = if dpi.is_finite() && dpi > 10.0 {
        dpi
    } else {
        300.0
    };
    let mut out = Analysis {
        skew_deg: 0.0,
        confidence: 0.0,
        rotate: false,
        orientation: 0,
        crop: [0, 0, w, h],
        ink: 0.0,
        blank: true,
        paper: [255; 3],
    };
    let Some(pl) = Planes::new(img, dpi) else {
        return out;
    };
    let Planes {
        a,
        b,
        scale_b,
        bg,
        border_raw,
        border,
        keep_b,
        coarse_ink,
        paper,
        fa,
    } = pl;
    out.paper = paper_colour(img, &b, &border, paper, scale_b);
    let (fine_ink, inked) = fine_points(&a, &bg, &coarse_ink);

    let page_px = border.iter().filter(|&&v| !v).count() as u64 * 4;
    out.ink = blank::share(inked, page_px);
    out.blank = blank::is_blank(out.ink, cfg.blank_ink_percent / 100.0);

    if !out.blank {
        let rows = skew::coarse(&coarse_ink, SKEW_RANGE, COARSE_STEP);
        let (mut peak, mut fine, mut quarter) = (rows, fine_ink, 0u16);
        if cfg.orient {
            let turned = coarse_ink.quarter_cw();
            let cols = skew::coarse(&turned, SKEW_RANGE, COARSE_STEP);
            if cols.score > rows.score * QUARTER_MARGIN && cols.ratio > rows.ratio {
                peak = cols;
                fine = fine.quarter_cw();
                quarter = 90;
            }
        }
        let deg = skew::refine(&fine, peak.deg, COARSE_STEP / 2.0);
        out.skew_deg = (deg * 100.0).round() / 100.0;
        out.confidence = confidence(&peak);
        if cfg.orient && out.confidence >= cfg.deskew_min_confidence {
            let strip = (1.2 * dpi / fa as f32) as usize;
            if orient::upside_down(&fine, deg, strip, UPDOWN_MIN) {
                quarter += 180;
            }
            out.orientation = quarter;
        }
        out.rotate = cfg.deskew
            && out.confidence >= cfg.deskew_min_confidence
            && out.skew_deg.abs() >= cfg.deskew_min_deg;
    }
    let geo = out.geometry(w, h);
    let (cw, ch) = geo.canvas();
    out.crop = if cfg.crop {
        let margin = cfg.crop_margin_mm / 25.4 * dpi;
        crop::page_rect(&geo, &border_raw, &keep_b, b.w, b.h, scale_b, margin)
    } else {
        [0, 0, cw, ch]
    };
    out
}

/// How sure a skew peak is, 0..1: its height over the sweep's median, less
/// when another angle scores nearly as high (down to half when it ties).
fn confidence(peak: &skew::Peak) -> f32 {
    let height = ((peak.ratio - NO_CONFIDENCE_RATIO)
        / (FULL_CONFIDENCE_RATIO - NO_CONFIDENCE_RATIO))
        .clamp(0.0, 1.0);
    let tie = ((peak.rival - 0.5) / 0.5).clamp(0.0, 1.0);
    height * (1.0 - 0.5 * tie)
}

/// The working planes of one analysis; public for diagnostics.
pub struct Planes {
    /// Fine plane (about 150 dpi).
    pub a: Plane,
    /// Coarse plane, half of `a`.
    pub b: Plane,
    /// Source pixels per coarse pixel.
    pub scale_b: f32,
    /// Reduction factor of the fine plane.
    pub fa: usize,
    /// Local paper level on the coarse plane.
    pub bg: Plane,
    /// Border (coarse), and the same widened by a pixel.
    pub border_raw: Vec<bool>,
    pub border: Vec<bool>,
    /// Text-like ink on the coarse plane, as a mask and as points.
    pub keep_b: Vec<bool>,
    pub coarse_ink: skew::Ink,
    /// Page-wide paper grey level.
    pub paper: u8,
}

impl Planes {
    /// Reduces the page and finds paper, border and ink. `None` for pages
    /// too small to analyse.
    pub fn new(img: &DynamicImage, dpi: f32) -> Option<Planes> {
        let (w, h) = (img.width(), img.height());
        if w < 16 || h < 16 {
            return None;
        }
        // Fine plane near 150 dpi, but never coarser than ~1500 px on the long side.
        let long = w.max(h) as f32;
        let by_dpi = (dpi / 150.0).round().max(1.0);
        let by_size = (long / 1500.0).floor().max(1.0);
        let fa = by_dpi.min(by_size) as usize;
        let a = reduce::reduce(img, fa);
        let (b, b_min) = reduce::half_min(&a);
        if b.w < 8 || b.h < 8 {
            return None;
        }
        let scale_b = (2 * fa) as f32;
        let dpi_b = dpi / scale_b;
        let hist = binarize::histogram(&b);
        let paper = binarize::percentile(&hist, 0.95).max(1);
        let dark = binarize::otsu(&hist).min((paper as f32 * 0.7) as u8);
        let border_r = (1.5 / 25.4 * dpi_b).round().max(1.0) as usize;
        let border_raw = border::find(&b, dark, border_r);
        let border = border::dilate(&border_raw, b.w, b.h, 1);
        let bg = binarize::background(&b, &border, paper, (dpi_b * 0.5).round() as usize);
        // A coarse pixel is ink when any of its fine pixels is: its darkest
        // one is darker than the threshold.
        let ink_b = binarize::ink_mask_same(&b_min, &bg, &border, INK_CONTRAST);
        let (runs, comps) = components::label_runs(&ink_b, b.w, b.h);
        let speck = 2;
        let blob = (4.0 / 25.4 * dpi_b).round().max(3.0) as u32;
        let text_like: Vec<bool> = comps
            .iter()
            .map(|c| components::is_text_like(c, speck, blob))
            .collect();
        // Ink in a band along the image edge is left out: scanner edges and
        // shadows there run with the image axes and pull skew toward 0.
        let band = (3.0 / 25.4 * dpi_b).round().max(2.0) as usize;
        let mut keep_b = vec![false; b.w * b.h];
        let mut coarse_ink = skew::Ink {
            w: b.w,
            h: b.h,
            pts: Vec::new(),
            wts: Vec::new(),
        };
        if b.w > 2 * band && b.h > 2 * band {
            let (lo, hi) = (band as u32, (b.w - band) as u32);
            for r in &runs {
                let y = r.y as usize;
                if y < band || y + band >= b.h || !text_like[r.comp as usize] {
                    continue;
                }
                let (x0, x1) = (r.x0.max(lo) as usize, r.x1.min(hi) as usize);
                if x0 < x1 {
                    keep_b[y * b.w + x0..y * b.w + x1].fill(true);
                    coarse_ink
                        .pts
                        .extend((x0..x1).map(|x| [x as u16, y as u16]));
                }
            }
        }
        Some(Planes {
            a,
            b,
            scale_b,
            fa,
            bg,
            border_raw,
            border,
            keep_b,
            coarse_ink,
            paper,
        })
    }
}

/// Points of the fine plane under text-like coarse ink that are darker than
/// the paper, weighted by how much darker: the grey edges of strokes carry
/// sub-pixel position, which binary ink would lose. Also counts the fine
/// pixels dark enough to be ink (for the blank test). Visits only the fine
/// pixels under kept coarse ink.
fn fine_points(a: &Plane, bg: &Plane, kept: &Ink) -> (Ink, u64) {
    let mut pts = Vec::with_capacity(kept.pts.len() * 3);
    let mut wts = Vec::with_capacity(kept.pts.len() * 3);
    let mut inked = 0u64;
    let k = ((1.0 - INK_CONTRAST) * 256.0) as i32;
    let (fw, fh) = (a.w.min(2 * kept.w), a.h.min(2 * kept.h));
    for &[bx, by] in &kept.pts {
        let (bx, by) = (bx as usize, by as usize);
        let Some(&p) = bg.data.get(by * bg.w + bx) else {
            continue;
        };
        let p = p as i32;
        for y in [2 * by, 2 * by + 1] {
            for x in [2 * bx, 2 * bx + 1] {
                if x >= fw || y >= fh {
                    continue;
                }
                let v = a.data[y * a.w + x] as i32;
                let d = p - v;
                if d * 10 > p {
                    pts.push([x as u16, y as u16]);
                    wts.push(d as u8);
                }
                if (v << 8) < p * k {
                    inked += 1;
                }
            }
        }
    }
    let ink = Ink {
        w: a.w,
        h: a.h,
        pts,
        wts,
    };
    (ink, inked)
}

/// Mean colour of paper-bright pixels, sampled on a grid of every other
/// coarse pixel.
fn paper_colour(img: &DynamicImage, b: &Plane, border: &[bool], paper: u8, scale: f32) -> [u8; 3] {
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    let lo = paper.saturating_sub(12);
    // Every fourth coarse pixel each way (some 30 000 on an A4 page) is
    // plenty for a mean colour; each costs a cache miss in the page.
    for y in (0..b.h).step_by(4) {
        for x in (0..b.w).step_by(4) {
            let i = y * b.w + x;
            if border[i] || b.data[i] < lo {
                continue;
            }
            let sx = ((x as f32 + 0.5) * scale) as u32;
            let sy = ((y as f32 + 0.5) * scale) as u32;
            if sx >= img.width() || sy >= img.height() {
                continue;
            }
            let p = match img {
                DynamicImage::ImageLuma8(g) => {
                    let v = g.get_pixel(sx, sy).0[0];
                    [v, v, v]
                }
                DynamicImage::ImageRgb8(c) => c.get_pixel(sx, sy).0,
                other => {
                    let v = b.data[i];
                    if other.color().has_color() {
                        let p = image::GenericImageView::get_pixel(other, sx, sy).0;
                        [p[0], p[1], p[2]]
                    } else {
                        [v, v, v]
                    }
                }
            };
            for k in 0..3 {
                sum[k] += p[k] as u64;
            }
            n += 1;
        }
    }
    if n == 0 {
        return [paper; 3];
    }
    [(sum[0] / n) as u8, (sum[1] / n) as u8, (sum[2] / n) as u8]
}

/// Applies an analysis to the page: orientation, deskew, crop. Returns
/// whether the page was rotated by a non-quarter angle.
pub fn correct(
    image: DynamicImage,
    analysis: &Analysis,
    _cfg: &ImagingConfig,
) -> (DynamicImage, bool) {
    let geo = analysis.geometry(image.width(), image.height());
    let rotated = geo.skew_deg != 0.0;
    (
        rotate::render(image, &geo, analysis.crop, analysis.paper),
        rotated,
    )
}
