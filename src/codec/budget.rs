//! Picking the JPEG quality of a page from a byte budget: the configured
//! quality when the page fits, otherwise the highest quality down to a
//! floor that does, found with a few encodes (never more than
//! `MAX_ENCODES`). A page that does not fit even at the floor is stored at
//! the floor: the floor keeps text crisp, the budget is only a cap.
//!
//! Pure arithmetic around an encode callback; never writes files, never
//! encodes more than `MAX_ENCODES` times.

/// At most this many encodes per page (the first one at the configured
/// quality, the way every page was encoded before budgets).
pub const MAX_ENCODES: usize = 4;

/// Square inches of an A4 sheet (210 x 297 mm).
const A4_SQ_IN: f64 = (210.0 / 25.4) * (297.0 / 25.4);

/// JPEG size grows about linearly with the logarithm of the quality on
/// document pages: between q20 and q50, size(q) ~ size(50) * (1 + 0.35 *
/// ln(q / 50)) on the benchmark's register page and corpus colour pages
/// (slopes 0.33 to 0.4). Used for the first guess only.
const LOG_SLOPE: f64 = 0.35;

/// The byte budget of a page of `width` x `height` pixels at `dpi`, for
/// `page_kb` kilobytes per A4 area; `None` when budgets are off (0).
pub fn page_budget(page_kb: u32, width: u32, height: u32, dpi: f32) -> Option<usize> {
    if page_kb == 0 || !(dpi.is_finite() && dpi > 0.0) {
        return None;
    }
    let area = width as f64 * height as f64 / (dpi as f64 * dpi as f64);
    Some(((page_kb as f64 * 1024.0 * area / A4_SQ_IN).round() as usize).max(1))
}

/// Rows per band, and one band in `PROBE_EVERY`, of the size probe: a
/// JPEG's size is close to the sum of its MCU rows', so a quarter of the
/// page in whole 16-row bands, spread over its height, predicts the whole.
pub const PROBE_BAND: usize = 16;
pub const PROBE_EVERY: usize = 4;

/// The rows of the size probe out of a `height`-row image whose rows are
/// `row_bytes` long; with the number of rows taken.
pub fn probe_rows(px: &[u8], row_bytes: usize, height: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(px.len() / PROBE_EVERY + row_bytes * PROBE_BAND);
    let mut rows = 0;
    for band in (0..height).step_by(PROBE_BAND * PROBE_EVERY) {
        let end = (band + PROBE_BAND).min(height);
        if let Some(b) = px.get(band * row_bytes..end * row_bytes) {
            out.extend_from_slice(b);
            rows += end - band;
        }
    }
    (out, rows)
}

/// The quality to try first, from the probe's size estimate of the page
/// at `max_q`: `max_q` when it should fit, else the model's guess (down
/// to `min_q`), so that a page far over its budget costs one encode at
/// the floor instead of two or more.
pub fn start_quality(max_q: u8, min_q: u8, budget: usize, estimate: usize) -> u8 {
    let max_q = max_q.clamp(1, 100);
    let min_q = min_q.clamp(1, max_q);
    if estimate <= budget {
        return max_q;
    }
    let ratio = budget as f64 / estimate.max(1) as f64;
    let guess = (max_q as f64 * ((ratio - 1.0) / LOG_SLOPE).exp()).floor();
    guess.clamp(min_q as f64, max_q as f64) as u8
}

/// What the search settled on.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub bytes: Vec<u8>,
    pub quality: u8,
    /// How many encodes it took.
    pub encodes: usize,
}

/// Encodes at `max_q`; when that exceeds `budget` bytes, searches the
/// highest quality in `min_q..max_q` that fits, or settles on `min_q`.
/// `encode(q)` must return the file for quality `q`.
pub fn fit<E>(
    max_q: u8,
    min_q: u8,
    budget: Option<usize>,
    mut encode: impl FnMut(u8) -> Result<Vec<u8>, E>,
) -> Result<Choice, E> {
    let max_q = max_q.clamp(1, 100);
    let min_q = min_q.clamp(1, max_q);
    let first = encode(max_q)?;
    let budget = match budget {
        Some(b) if first.len() > b && min_q < max_q => b,
        _ => {
            return Ok(Choice {
                bytes: first,
                quality: max_q,
                encodes: 1,
            })
        }
    };
    // Bracket: `hi` is the lowest quality known to be over the budget,
    // `lo` the best known to fit (with its file), if any.
    let mut hi = (max_q, first.len());
    let mut lo: Option<(u8, Vec<u8>)> = None;
    let mut encodes = 1;
    // A guess from the log model, then secants between the bracket ends.
    let ratio = budget as f64 / hi.1 as f64;
    let mut guess = (max_q as f64 * ((ratio - 1.0) / LOG_SLOPE).exp()).floor();
    while encodes < MAX_ENCODES {
        let floor_q = lo.as_ref().map_or(min_q, |(q, _)| q + 1);
        if floor_q >= hi.0 {
            break;
        }
        let q = if lo.is_none() && encodes == MAX_ENCODES - 1 {
            // Last try and nothing fits yet: the floor, the smallest file allowed.
            min_q
        } else {
            guess.clamp(floor_q as f64, (hi.0 - 1) as f64) as u8
        };
        let bytes = encode(q)?;
        encodes += 1;
        let size = bytes.len();
        if size <= budget {
            lo = Some((q, bytes));
        } else {
            hi = (q, size);
            if q == min_q {
                // Over the budget at the floor: the floor it is.
                return Ok(Choice {
                    bytes,
                    quality: q,
                    encodes,
                });
            }
        }
        guess = match &lo {
            // Interpolate ln(q) between the bracket ends.
            Some((lq, lb)) => {
                let (l1, l2) = ((*lq as f64).ln(), (hi.0 as f64).ln());
                let (s1, s2) = (lb.len() as f64, hi.1 as f64);
                let t = if s2 > s1 {
                    (budget as f64 - s1) / (s2 - s1)
                } else {
                    0.0
                };
                (l1 + t.clamp(0.0, 1.0) * (l2 - l1)).exp().floor()
            }
            // Still over: extrapolate from the last point with the model.
            None => (hi.0 as f64 * ((budget as f64 / hi.1 as f64 - 1.0) / LOG_SLOPE).exp()).floor(),
        };
    }
    match lo {
        Some((quality, bytes)) => Ok(Choice {
            bytes,
            quality,
            encodes,
        }),
        // Out of encodes with nothing under the budget: the floor, which
        // is the smallest file allowed.
        None => {
            let bytes = encode(min_q)?;
            Ok(Choice {
                bytes,
                quality: min_q,
                encodes: encodes + 1,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_takes_one_band_in_four_and_start_follows_the_estimate() {
        // 70 rows of 2 bytes, each row filled with its number.
        let px: Vec<u8> = (0..70u8).flat_map(|r| [r, r]).collect();
        let (sample, rows) = probe_rows(&px, 2, 70);
        assert_eq!(rows, 16 + 6); // rows 0..16 and 64..70
        assert_eq!(sample.len(), rows * 2);
        assert_eq!(sample[32], 64);
        // Fits: the configured quality. Far over: the floor. Slightly over:
        // in between.
        assert_eq!(start_quality(50, 35, 1000, 900), 50);
        assert_eq!(start_quality(50, 35, 1000, 5000), 35);
        let q = start_quality(50, 20, 1000, 1100);
        assert!(q > 20 && q < 50, "q{q}");
    }
    use crate::codec::jpeg;

    /// A dense text-like colour page: strokes, a stamp colour, noise.
    fn page(w: u32, h: u32) -> Vec<u8> {
        let mut seed = 7u32;
        let mut px = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let n = (seed % 9) as u8;
                let stroke = (x / 3 + y / 11) % 5 == 0 || (x * 7 + y * 3) % 23 < 3;
                let p = if stroke && y % 37 < 30 {
                    if x > w / 2 {
                        [200, 40 + n, 50]
                    } else {
                        [30 + n, 40, 140]
                    }
                } else {
                    [250 - n, 252 - n, 255 - n]
                };
                px.extend_from_slice(&p);
            }
        }
        px
    }

    fn encoder(px: &[u8], w: u32, h: u32) -> impl FnMut(u8) -> Result<Vec<u8>, String> + '_ {
        move |q| {
            let s = jpeg::JpegSettings {
                quality: q,
                chroma_quality: (q as u32 * 3 / 5).max(1) as u8,
                optimize: true,
                progressive: false,
            };
            jpeg::encode_with(px, w, h, 3, &s, 200.0).map_err(|e| e.to_string())
        }
    }

    #[test]
    fn budget_scales_with_the_page_area() {
        // A4 at 200 dpi: 1654 x 2339 pixels.
        let a4 = page_budget(100, 1654, 2339, 200.0).unwrap();
        assert!((102_000..=102_800).contains(&a4), "{a4}");
        let a5 = page_budget(100, 1654, 1169, 200.0).unwrap();
        assert!((a4 / 2).abs_diff(a5) < 200, "{a4} {a5}");
        // Same paper at 300 dpi: same budget.
        let a4_300 = page_budget(100, 2481, 3508, 300.0).unwrap();
        assert!(a4.abs_diff(a4_300) < 200, "{a4} {a4_300}");
        assert_eq!(page_budget(0, 1654, 2339, 200.0), None);
        assert_eq!(page_budget(100, 1654, 2339, 0.0), None);
    }

    #[test]
    fn fits_the_budget_when_reachable_with_the_best_quality_it_can() {
        let (w, h) = (480, 360);
        let px = page(w, h);
        let mut enc = encoder(&px, w, h);
        let at = |q: u8, enc: &mut dyn FnMut(u8) -> Result<Vec<u8>, String>| enc(q).unwrap().len();
        let (s50, s30) = (at(50, &mut enc), at(30, &mut enc));
        assert!(s30 < s50, "{s30} {s50}");
        let budget = (s30 + s50) / 2;
        let mut calls = 0;
        let c = fit(50, 30, Some(budget), |q| {
            calls += 1;
            enc(q)
        })
        .unwrap();
        assert!(c.bytes.len() <= budget, "{} > {budget}", c.bytes.len());
        assert!(c.quality > 30 && c.quality < 50, "q{}", c.quality);
        assert!(calls <= MAX_ENCODES && calls == c.encodes, "{calls}");
        // The reported quality is the one of the file.
        assert_eq!(enc(c.quality).unwrap(), c.bytes);
        // Close to the best: a few qualities up is over the budget.
        let up = (c.quality + 4).min(50);
        assert!(
            up == 50 || at(up, &mut enc) > budget,
            "q{} too low",
            c.quality
        );
    }

    #[test]
    fn keeps_the_floor_when_the_budget_is_out_of_reach() {
        let (w, h) = (480, 360);
        let px = page(w, h);
        let mut enc = encoder(&px, w, h);
        let floor = enc(30).unwrap();
        let c = fit(50, 30, Some(floor.len() / 3), &mut enc).unwrap();
        assert_eq!(c.quality, 30);
        assert_eq!(c.bytes, floor);
        assert!(c.encodes <= MAX_ENCODES);
    }

    #[test]
    fn a_page_that_fits_is_encoded_once_at_the_configured_quality() {
        let (w, h) = (480, 360);
        let px = page(w, h);
        let mut enc = encoder(&px, w, h);
        let full = enc(50).unwrap();
        let c = fit(50, 30, Some(full.len()), &mut enc).unwrap();
        assert_eq!((c.quality, c.encodes), (50, 1));
        let off = fit(50, 30, None, &mut enc).unwrap();
        assert_eq!((off.quality, off.bytes.len()), (50, full.len()));
        // A floor above the quality is the quality.
        let c = fit(50, 80, Some(10), &mut enc).unwrap();
        assert_eq!((c.quality, c.encodes), (50, 1));
    }
}
