//! Skew estimation by projection profiles: the differential square sum
//! (sum of squared differences of adjacent bins) of the ink's projection
//! along lines of a candidate angle peaks when those lines follow the text
//! lines or the ledger rules.
//!
//! Coarse sweep over the whole range on the coarse plane, then a fine search
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
    pub wts: Vec<f32>,
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

    /// The points of every k-th column, about `max_pts` in all, so a sweep
    /// over dense pages stays cheap. Whole columns keep every line's profile
    /// intact; picking points in raster order or at random would favour
    /// rows (a bias toward 0 degrees) or add noise to the score.
    pub fn thinned(&self, max_pts: usize) -> Ink {
        if self.pts.len() <= max_pts || max_pts == 0 {
            return self.clone();
        }
        let k = self.pts.len().div_ceil(max_pts) as u16;
        let weighted = self.wts.len() == self.pts.len();
        let mut out = Ink {
            w: self.w,
            h: self.h,
            pts: Vec::with_capacity(max_pts + max_pts / 8),
            wts: Vec::new(),
        };
        for (i, &[x, y]) in self.pts.iter().enumerate() {
            if x % k == 0 {
                out.pts.push([x, y]);
                if weighted {
                    out.wts.push(self.wts[i]);
                }
            }
        }
        out
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
        let wt = if weighted { ink.wts[i] } else { 1.0 };
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
    let v = x as f32 * 0.618_034 + y as f32 * 0.754_877_7;
    v - v.floor()
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
/// angle: the score at a nearby angle shifts each strip as a whole (with
/// linear interpolation), which costs one pass over short contiguous rows
/// instead of one pass over every ink point.
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
        let sw = sw.max(1);
        let ns = ink.w.div_ceil(sw).max(1);
        let base_t = base_deg.to_radians().tan();
        let cx = ink.w as f32 / 2.0;
        let max_t = (base_deg.abs() + span_deg.abs())
            .min(60.0)
            .to_radians()
            .tan();
        let pad = (max_t * cx).ceil() as usize + 3;
        let n = ink.h + 2 * pad;
        let xs = (0..ns)
            .map(|s| (s * sw) as f32 + sw as f32 / 2.0 - 0.5 - cx)
            .collect();
        let mut data = vec![0f32; ns * n];
        let weighted = ink.wts.len() == ink.pts.len();
        for (i, &[x, y]) in ink.pts.iter().enumerate() {
            let s = x as usize / sw;
            let c = y as f32 + (x as f32 - cx) * base_t + pad as f32 + jitter(x, y);
            if c < 0.0 {
                continue;
            }
            let b = c as usize;
            let f = c - b as f32;
            let wt = if weighted { ink.wts[i] } else { 1.0 };
            if s < ns && b + 1 < n {
                data[s * n + b] += wt * (1.0 - f);
                data[s * n + b + 1] += wt * f;
            }
        }
        Strips {
            sw,
            n,
            pad,
            base_t,
            xs,
            data,
        }
    }

    /// Number of strips.
    pub fn len(&self) -> usize {
        self.xs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.xs.is_empty()
    }

    /// Adds strips `range` projected at `deg` into `out` (length `n`).
    pub fn project(&self, deg: f32, range: std::ops::Range<usize>, out: &mut [f32]) {
        let dt = deg.to_radians().tan() - self.base_t;
        let n = self.n;
        for s in range {
            let d = self.xs[s] * dt;
            let i0 = d.floor();
            let f = d - i0;
            let i0 = i0 as isize;
            let src = &self.data[s * n..(s + 1) * n];
            // out[k + i0] += (1-f) src[k]; out[k + i0 + 1] += f src[k]
            let lo = (-i0).max(0) as usize;
            let hi = (n as isize - i0 - 1).clamp(0, n as isize) as usize;
            if lo >= hi {
                continue;
            }
            let a = 1.0 - f;
            let o0 = (lo as isize + i0) as usize;
            let dst = &mut out[o0..o0 + (hi - lo) + 1];
            let src = &src[lo..hi];
            for (k, &v) in src.iter().enumerate() {
                dst[k] += a * v;
            }
            for (k, &v) in src.iter().enumerate() {
                dst[k + 1] += f * v;
            }
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
/// the shear is the base angle's; at the coarse level that blurs lines a
/// little at large angles (fine for finding the peak), at the fine level the
/// residual is under 0.1 pixel.
const COARSE_STRIP: usize = 4;
const FINE_STRIP: usize = 16;

/// The outcome of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub deg: f32,
    /// Best score divided by the median score of the sweep.
    pub ratio: f32,
    pub score: f64,
}

/// Best angle of a coarse sweep, with its sharpness.
pub fn coarse(ink: &Ink, range: f32, step: f32) -> Peak {
    let st = Strips::new(ink, COARSE_STRIP, 0.0, range + step);
    let s = sweep_strips(&st, -range, range, step);
    let Some(&(deg, score)) = s.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        return Peak {
            deg: 0.0,
            ratio: 1.0,
            score: 0.0,
        };
    };
    let mut v: Vec<f64> = s.iter().map(|p| p.1).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    let median = v[v.len() / 2];
    let ratio = if median > 0.0 {
        (score / median) as f32
    } else {
        1.0
    };
    Peak { deg, ratio, score }
}

/// Refines an angle known to within `span` degrees: a scan by `span/3`,
/// then two rounds of parabolic interpolation with shrinking steps.
pub fn refine(ink: &Ink, start: f32, span: f32) -> f32 {
    let st = Strips::new(ink, FINE_STRIP, start, 3.0 * span);
    let mut hist = Vec::new();
    let mut f = |a: f32| st.score(a, &mut hist);
    let step = span / 3.0;
    let mut best = (start, f(start));
    for i in -3..=3 {
        if i == 0 {
            continue;
        }
        let a = start + i as f32 * step;
        let s = f(a);
        if s > best.1 {
            best = (a, s);
        }
    }
    let mut center = best.0;
    let mut c_score = best.1;
    let mut h = step;
    for _ in 0..3 {
        let l = f(center - h);
        let r = f(center + h);
        if l > c_score || r > c_score {
            // Not bracketed: move toward the better side and keep the step.
            let (a, s) = if l > r {
                (center - h, l)
            } else {
                (center + h, r)
            };
            center = a;
            c_score = s;
            continue;
        }
        let denom = l - 2.0 * c_score + r;
        let shift = if denom < 0.0 {
            (0.5 * (l - r) / denom) as f32
        } else {
            0.0
        };
        center += shift.clamp(-0.5, 0.5) * h;
        c_score = f(center);
        h /= 3.0;
    }
    center
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
        for deg in [-12.3f32, -3.0, 0.0, 0.7, 9.9] {
            let ink = lines(deg);
            let p = coarse(&ink, 15.0, 0.5);
            let fine = refine(&ink, p.deg, 0.5);
            assert!((fine - deg).abs() < 0.25, "{deg} -> {fine}");
            assert!(p.ratio > 2.0);
        }
    }

    #[test]
    fn empty_is_harmless() {
        let p = coarse(&Ink::default(), 15.0, 0.5);
        assert_eq!(p.ratio, 1.0);
        assert_eq!(refine(&Ink::default(), 0.0, 0.5), 0.0);
    }
}
