//! Skew estimation by projection profiles: the differential square sum
//! (sum of squared differences of adjacent bins) of the ink's projection
//! along lines of a candidate angle peaks when those lines follow the text
//! lines or the ledger rules.
//!
//! Coarse sweep over the whole range on the coarse plane (keeping the best
//! few local maxima for a closer look), then a fine search
//! on the fine plane with linear binning (so the score is a smooth function
//! of the angle) and parabolic interpolation of the peak. Pure functions over
//! point lists; never panics on empty input.

/// Ink points of one plane: `(x, y)` pixel coordinates and the plane size.
#[derive(Debug, Clone, Default)]
pub struct Ink {
    pub w: usize,
    pub h: usize,
    pub pts: Vec<[u16; 2]>,
    /// Weight of each point (darkness); empty means 1 for every point.
    pub wts: Vec<u8>,
}

impl Ink {
    /// The same ink turned a quarter clockwise: `(x, y)` -> `(h-1-y, x)`.
    pub fn quarter_cw(&self) -> Ink {
        Ink {
            w: self.h,
            h: self.w,
            pts: self
                .pts
                .iter()
                .map(|&[x, y]| [(self.h - 1 - y as usize) as u16, x])
                .collect(),
            wts: self.wts.clone(),
        }
    }
}

/// The differential square sum of the projection of `ink` along lines of
/// `deg` (counter-clockwise on screen), with linear binning.
pub fn dss(ink: &Ink, deg: f32, hist: &mut Vec<f32>) -> f64 {
    if ink.pts.is_empty() {
        return 0.0;
    }
    let t = deg.to_radians().tan();
    // Content turned CCW by deg: a text line is y = c - x*t, so c = y + x*t.
    let off = if t < 0.0 { -t * ink.w as f32 } else { 0.0 } + 1.0;
    let n = ink.h + (t.abs() * ink.w as f32).ceil() as usize + 3;
    hist.clear();
    hist.resize(n, 0.0);
    let weighted = ink.wts.len() == ink.pts.len();
    for (i, &[x, y]) in ink.pts.iter().enumerate() {
        let c = y as f32 + x as f32 * t + off + jitter(x, y);
        let b = c as usize;
        let f = c - b as f32;
        let wt = if weighted { ink.wts[i] as f32 } else { 1.0 };
        if b + 1 < n {
            hist[b] += wt * (1.0 - f);
            hist[b + 1] += wt * f;
        }
    }
    hist.windows(2)
        .map(|w| {
            let d = (w[1] - w[0]) as f64;
            d * d
        })
        .sum()
}

/// A fixed sub-bin offset per point, spread evenly over [0, 1).
///
/// Linear binning smooths a point less the closer it falls to a bin centre.
/// Grid points projected at angles near 0 all fall near bin centres, which
/// would favour 0 degrees over the true angle; a fixed, evenly spread offset
/// gives every angle the same smoothing.
#[inline]
fn jitter(x: u16, y: u16) -> f32 {
    jitter_q8(x, y) as f32 / 256.0
}

/// `jitter` in 1/256 of a bin: a hash of the position. Not a lattice
/// (such as the fractional parts of x·a + y·b): on solid areas of ink a
/// lattice lines up at some fixed angle and makes a false peak there.
#[inline]
fn jitter_q8(x: u16, y: u16) -> u32 {
    let mut h = (x as u32).wrapping_mul(0x9E37_79B1) ^ (y as u32).wrapping_mul(0x85EB_CA77);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h & 255
}

/// Scores for every angle from `lo` to `hi` (inclusive) by `step`.
pub fn sweep(ink: &Ink, lo: f32, hi: f32, step: f32) -> Vec<(f32, f64)> {
    let mut hist = Vec::new();
    let n = ((hi - lo) / step).round() as i32;
    (0..=n)
        .map(|i| {
            let a = lo + i as f32 * step;
            (a, dss(ink, a, &mut hist))
        })
        .collect()
}

/// Projection profiles of ink in vertical strips, pre-sheared by a base
/// angle: the score at a nearby angle shifts each strip as a whole (by a
/// fraction of a bin, with the same smoothing at every shift, see
/// `project`), which costs one pass over short contiguous rows instead of
/// one pass over every ink point.
#[derive(Debug, Clone)]
pub struct Strips {
    /// Strip width in pixels.
    pub sw: usize,
    /// Bins per strip.
    pub n: usize,
    /// Slack bins on each side for shifts.
    pub pad: usize,
    base_t: f32,
    /// Strip centres relative to the frame's centre.
    xs: Vec<f32>,
    data: Vec<f32>,
}

impl Strips {
    /// Builds strips of `sw` pixels from `ink`, sheared by `base_deg`, with
    /// room for shifts up to `span_deg` either way.
    pub fn new(ink: &Ink, sw: usize, base_deg: f32, span_deg: f32) -> Strips {
        Strips::many(ink, sw, &[base_deg], span_deg)
            .pop()
            .unwrap_or_else(|| Strips::empty(sw))
    }

    fn empty(sw: usize) -> Strips {
        Strips {
            sw: sw.max(1),
            n: 0,
            pad: 0,
            base_t: 0.0,
            xs: Vec::new(),
            data: Vec::new(),
        }
    }

    /// One set of strips per base angle, built in one pass over the points
    /// (each point's position and offset are worked out once).
    pub fn many(ink: &Ink, sw: usize, base_degs: &[f32], span_deg: f32) -> Vec<Strips> {
        let sw = sw.max(1);
        let ns = ink.w.div_ceil(sw).max(1);
        let cx = ink.w as f32 / 2.0;
        struct Frame {
            base_t: f32,
            pad: usize,
            n: usize,
            /// Each column's shear offset in 1/256 of a bin, and where its
            /// strip starts in `acc`.
            cols: Vec<(i64, usize)>,
            limit: i64,
            acc: Vec<u32>,
        }
        let mut frames: Vec<Frame> = base_degs
            .iter()
            .map(|&base_deg| {
                let base_t = base_deg.to_radians().tan();
                let max_t = (base_deg.abs() + span_deg.abs())
                    .min(60.0)
                    .to_radians()
                    .tan();
                let pad = (max_t * cx).ceil() as usize + 3;
                let n = ink.h + 2 * pad;
                let cols = (0..ink.w)
                    .map(|x| {
                        let off = ((x as f32 - cx) * base_t + pad as f32) * 256.0;
                        (off.round() as i64, (x / sw) * n)
                    })
                    .collect();
                Frame {
                    base_t,
                    pad,
                    n,
                    cols,
                    limit: (n as i64 - 1) << 8,
                    acc: vec![0u32; ns * n],
                }
            })
            .collect();
        let weighted = ink.wts.len() == ink.pts.len();
        for (i, &[x, y]) in ink.pts.iter().enumerate() {
            let yj = ((y as i64) << 8) + jitter_q8(x, y) as i64;
            let wt = if weighted { ink.wts[i] as u32 } else { 1 };
            for f in frames.iter_mut() {
                let Some(&(xo, at0)) = f.cols.get(x as usize) else {
                    continue;
                };
                let c = yj + xo;
                if c < 0 || c >= f.limit {
                    continue;
                }
                let (b, frac) = ((c >> 8) as usize, (c & 255) as u32);
                let at = at0 + b;
                f.acc[at] += wt * (256 - frac);
                f.acc[at + 1] += wt * frac;
            }
        }
        let xs: Vec<f32> = (0..ns)
            .map(|s| (s * sw) as f32 + sw as f32 / 2.0 - 0.5 - cx)
            .collect();
        frames
            .into_iter()
            .map(|f| Strips {
                sw,
                n: f.n,
                pad: f.pad,
                base_t: f.base_t,
                xs: xs.clone(),
                data: f.acc.iter().map(|&v| v as f32 * (1.0 / 256.0)).collect(),
            })
            .collect()
    }

    /// Number of strips.
    pub fn len(&self) -> usize {
        self.xs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.xs.is_empty()
    }

    /// Adds strips `range` projected at `deg` into `out` (length `n`).
    ///
    /// Each strip is shifted by its fractional offset with the quadratic
    /// B-spline's three weights rather than linear interpolation: their
    /// spread (variance 1/4 bin²) is the same for every fraction, so no
    /// angle is smoothed less than another. Linear interpolation leaves the
    /// profile unsmoothed at the strips' own base angle and would make a
    /// false narrow peak there on pages whose true peak is broad.
    pub fn project(&self, deg: f32, range: std::ops::Range<usize>, out: &mut [f32]) {
        let dt = deg.to_radians().tan() - self.base_t;
        let n = self.n;
        for s in range {
            let d = self.xs[s] * dt;
            let r = d.round();
            let u = d - r;
            let r = r as isize;
            let src = &self.data[s * n..(s + 1) * n];
            // out[k + r - 1] += w0 src[k]; out[k + r] += w1 src[k]; out[k + r + 1] += w2 src[k]
            let lo = (1 - r).max(0) as usize;
            let hi = (n as isize - 1 - r).clamp(0, n as isize) as usize;
            if lo >= hi {
                continue;
            }
            let (w0, w1, w2) = (
                0.5 * (0.5 - u) * (0.5 - u),
                0.75 - u * u,
                0.5 * (0.5 + u) * (0.5 + u),
            );
            let o0 = (lo as isize + r - 1) as usize;
            let Some(dst) = out.get_mut(o0..o0 + (hi - lo) + 2) else {
                continue;
            };
            let src = &src[lo..hi];
            let m = src.len();
            if m < 2 {
                for (k, &v) in src.iter().enumerate() {
                    dst[k] += w0 * v;
                    dst[k + 1] += w1 * v;
                    dst[k + 2] += w2 * v;
                }
                continue;
            }
            // One pass over dst: dst[j] += w0 src[j] + w1 src[j-1] + w2 src[j-2].
            dst[0] += w0 * src[0];
            dst[1] += w0 * src[1] + w1 * src[0];
            for (d, ((&a, &b), &c)) in dst[2..m]
                .iter_mut()
                .zip(src[2..].iter().zip(&src[1..]).zip(src))
            {
                *d += w0 * a + w1 * b + w2 * c;
            }
            dst[m] += w1 * src[m - 1] + w2 * src[m - 2];
            dst[m + 1] += w2 * src[m - 1];
        }
    }

    /// Differential square sum of the whole projection at `deg`.
    pub fn score(&self, deg: f32, buf: &mut Vec<f32>) -> f64 {
        buf.clear();
        buf.resize(self.n, 0.0);
        self.project(deg, 0..self.len(), buf);
        buf.windows(2)
            .map(|w| {
                let d = (w[1] - w[0]) as f64;
                d * d
            })
            .sum()
    }
}

/// Scores for every angle from `lo` to `hi` (inclusive) by `step`.
pub fn sweep_strips(st: &Strips, lo: f32, hi: f32, step: f32) -> Vec<(f32, f64)> {
    let mut buf = Vec::new();
    let n = ((hi - lo) / step).round() as i32;
    (0..=n)
        .map(|i| {
            let a = lo + i as f32 * step;
            (a, st.score(a, &mut buf))
        })
        .collect()
}

/// Strip widths (pixels) of the coarse and the fine search. Within a strip
/// the shear is the base angle's; the coarse sweep uses one set of strips
/// per band of `BAND_DEG`, so a point is off by at most
/// `COARSE_STRIP / 2 * tan(BAND_DEG / 2)`, under a pixel. At the fine level
/// the residual is under 0.1 pixel.
const COARSE_STRIP: usize = 16;
const BAND_DEG: f32 = 12.5;
const FINE_STRIP: usize = 16;
/// Local maxima of the coarse sweep that are looked at more closely.
const CANDIDATES: usize = 3;
/// Peaks closer than this (degrees) are the same peak.
const SAME_PEAK_DEG: f32 = 2.0;

/// The outcome of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub deg: f32,
    /// Best score divided by the median score of the sweep.
    pub ratio: f32,
    pub score: f64,
    /// Score of the best peak at least `SAME_PEAK_DEG` away, divided by the
    /// best score: near 1 when two angles compete.
    pub rival: f32,
}

impl Peak {
    fn none() -> Peak {
        Peak {
            deg: 0.0,
            ratio: 1.0,
            score: 0.0,
            rival: 1.0,
        }
    }
}

/// Best angle in `-range..=range` by a sweep at `step`, then a closer look
/// (steps of `step/2` and `step/4`) at the few best local maxima, so a peak
/// that falls between two sweep angles is not lost to a lesser one.
pub fn coarse(ink: &Ink, range: f32, step: f32) -> Peak {
    if ink.pts.is_empty() || step <= 0.0 || range <= 0.0 {
        return Peak::none();
    }
    let nb = (2.0 * range / BAND_DEG).ceil().max(1.0) as usize;
    let band = 2.0 * range / nb as f32;
    let centres: Vec<f32> = (0..nb).map(|k| -range + band * (k as f32 + 0.5)).collect();
    let strips = Strips::many(ink, COARSE_STRIP, &centres, band / 2.0 + step);
    let which = |a: f32| (((a + range) / band).floor().max(0.0) as usize).min(nb - 1);
    let mut buf = Vec::new();
    let mut score = |a: f32| strips[which(a)].score(a, &mut buf);
    let n = (2.0 * range / step).round() as usize;
    let sweep: Vec<(f32, f64)> = (0..=n)
        .map(|i| {
            let a = -range + i as f32 * step;
            (a, score(a))
        })
        .collect();
    let mut v: Vec<f64> = sweep.iter().map(|p| p.1).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    let median = v[v.len() / 2];
    // Local maxima, best first.
    let mut maxima: Vec<(f32, f64)> = (0..sweep.len())
        .filter(|&i| {
            let s = sweep[i].1;
            (i == 0 || sweep[i - 1].1 <= s) && (i + 1 == sweep.len() || sweep[i + 1].1 < s)
        })
        .map(|i| sweep[i])
        .collect();
    maxima.sort_by(|a, b| b.1.total_cmp(&a.1));
    maxima.truncate(CANDIDATES);
    let mut refined: Vec<(f32, f64)> = maxima
        .iter()
        .map(|&(a, s)| {
            let mut best = (a, s);
            for h in [step / 2.0, step / 4.0] {
                let c = best.0;
                for x in [c - h, c + h] {
                    let sx = score(x);
                    if sx > best.1 {
                        best = (x, sx);
                    }
                }
            }
            best
        })
        .collect();
    refined.sort_by(|a, b| b.1.total_cmp(&a.1));
    let Some(&(deg, best)) = refined.first() else {
        return Peak::none();
    };
    let rival_score = refined
        .iter()
        .skip(1)
        .find(|r| (r.0 - deg).abs() >= SAME_PEAK_DEG)
        .map_or(0.0, |r| r.1);
    let (ratio, rival) = if best > 0.0 {
        let ratio = if median > 0.0 { best / median } else { 1.0 };
        (ratio as f32, (rival_score / best) as f32)
    } else {
        (1.0, 1.0)
    };
    Peak {
        deg,
        ratio,
        score: best,
        rival,
    }
}

/// Step of the fine scan, degrees.
const FINE_STEP: f32 = 0.05;

/// Refines an angle known to within `span` degrees: a scan by `FINE_STEP`
/// over `start ± span` (moved along if the best angle lies at its end),
/// then the centroid of the peak's upper half.
///
/// The centroid, rather than the top of a parabola, because real pages are
/// rarely one angle: a photographed page has curved lines, a woodcut's frame
/// and the text beside it differ by tenths of a degree. Their peaks merge
/// into one broad, lumpy peak; its top jumps from lump to lump as the page
/// turns, its centroid does not.
pub fn refine(ink: &Ink, start: f32, span: f32) -> f32 {
    if ink.pts.is_empty() {
        return start;
    }
    let span = span.max(2.0 * FINE_STEP);
    let k = (span / FINE_STEP).round() as i32;
    let mut centre = start;
    for _ in 0..3 {
        let st = Strips::new(ink, FINE_STRIP, centre, span + FINE_STEP);
        let mut hist = Vec::new();
        let scan: Vec<(f32, f64)> = (-k..=k)
            .map(|i| {
                let a = centre + i as f32 * FINE_STEP;
                (a, st.score(a, &mut hist))
            })
            .collect();
        let Some(top) = (0..scan.len()).max_by(|&i, &j| scan[i].1.total_cmp(&scan[j].1)) else {
            return start;
        };
        if (top == 0 || top + 1 == scan.len()) && scan.len() > 2 {
            // The peak lies beyond the scan: move there and look again.
            centre = scan[top].0;
            continue;
        }
        return peak_centroid(&scan, top);
    }
    centre
}

/// Centroid of the samples around `top` above half the peak's height over
/// the lowest sample, weighted by their height above that half.
fn peak_centroid(scan: &[(f32, f64)], top: usize) -> f32 {
    let max = scan[top].1;
    let min = scan.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    let half = min + 0.5 * (max - min);
    let mut lo = top;
    while lo > 0 && scan[lo - 1].1 > half {
        lo -= 1;
    }
    let mut hi = top;
    while hi + 1 < scan.len() && scan[hi + 1].1 > half {
        hi += 1;
    }
    let (mut sw, mut sa) = (0f64, 0f64);
    for &(a, s) in &scan[lo..=hi] {
        let w = s - half;
        sw += w;
        sa += w * a as f64;
    }
    if sw > 0.0 {
        (sa / sw) as f32
    } else {
        scan[top].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Horizontal lines of points turned by `deg` CCW on screen.
    fn lines(deg: f32) -> Ink {
        let (s, c) = deg.to_radians().sin_cos();
        let mut pts = Vec::new();
        for row in 0..12 {
            for x in 0..300 {
                for dy in 0..3 {
                    let (px, py) = (x as f32 - 150.0, (row * 20 + dy) as f32 - 120.0);
                    // CCW on screen with y down: (x, y) -> (x c + y s, -x s + y c)
                    let (rx, ry) = (px * c + py * s + 200.0, -px * s + py * c + 200.0);
                    pts.push([rx.round() as u16, ry.round() as u16]);
                }
            }
        }
        Ink {
            w: 400,
            h: 400,
            pts,
            wts: Vec::new(),
        }
    }

    #[test]
    fn finds_synthetic_angles() {
        for deg in [-22.1f32, -12.3, -3.0, 0.0, 0.7, 9.9, 20.3] {
            let ink = lines(deg);
            let p = coarse(&ink, 25.0, 1.0);
            let fine = refine(&ink, p.deg, 0.25);
            assert!((fine - deg).abs() < 0.25, "{deg} -> {fine}");
            assert!(p.ratio > 2.0);
        }
    }

    #[test]
    fn no_angle_is_favoured_by_the_strips_base() {
        // Ink with no lines: the strips' own base angle must not stand out.
        let pts: Vec<[u16; 2]> = (0..20_000u32)
            .map(|i| {
                let h = i.wrapping_mul(0x9E37_79B1) ^ (i >> 7).wrapping_mul(0x85EB_CA77);
                [(h % 400) as u16, ((h >> 12) % 400) as u16]
            })
            .collect();
        let ink = Ink {
            w: 400,
            h: 400,
            pts,
            wts: Vec::new(),
        };
        let st = Strips::new(&ink, FINE_STRIP, 0.0, 1.0);
        let mut buf = Vec::new();
        let scores: Vec<f64> = (-10..=10)
            .map(|i| st.score(i as f32 * 0.05, &mut buf))
            .collect();
        // Random ink's score drifts slowly with the angle; a spike at the
        // base angle would stand above both neighbours.
        assert!(scores[10] < 1.01 * scores[9].max(scores[11]), "{scores:?}");
    }

    #[test]
    fn empty_is_harmless() {
        let p = coarse(&Ink::default(), 25.0, 1.0);
        assert_eq!(p.ratio, 1.0);
        assert_eq!(refine(&Ink::default(), 0.0, 0.5), 0.0);
    }
}
