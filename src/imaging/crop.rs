//! Border crop: the page rectangle in the corrected (upright, deskewed)
//! frame, found from the coarse border mask, widened to hold every piece of
//! ink and the configured margin.
//!
//! Never crops into content: the rectangle always contains the box of the
//! text-like ink. Works on coarse masks only; the pixels are cut by
//! `rotate`.

/// The geometry of the correction: source size, quarter turns and skew.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub src_w: u32,
    pub src_h: u32,
    /// Clockwise quarter turns applied, degrees (0, 90, 180, 270).
    pub quarter: u16,
    /// Counter-clockwise skew of the content that is removed, degrees.
    pub skew_deg: f32,
}

impl Geometry {
    /// Total clockwise rotation applied to the page, radians.
    pub fn theta(&self) -> f32 {
        (self.quarter as f32 + self.skew_deg).to_radians()
    }

    /// Size of the corrected canvas: the quarter-turned page, widened to hold
    /// the whole page when it is also deskewed.
    pub fn canvas(&self) -> (u32, u32) {
        let (wq, hq) = if self.quarter % 180 == 90 {
            (self.src_h, self.src_w)
        } else {
            (self.src_w, self.src_h)
        };
        if self.skew_deg == 0.0 {
            return (wq, hq);
        }
        let (s, c) = self.skew_deg.to_radians().sin_cos();
        let (s, c) = (s.abs(), c.abs());
        let w = (wq as f32 * c + hq as f32 * s).ceil() as u32;
        let h = (wq as f32 * s + hq as f32 * c).ceil() as u32;
        (w.max(1), h.max(1))
    }

    /// Maps a source point to the corrected canvas.
    pub fn forward(&self) -> impl Fn(f32, f32) -> (f32, f32) {
        let (s, c) = self.theta().sin_cos();
        let (cw, ch) = self.canvas();
        let (sx, sy) = (self.src_w as f32 / 2.0, self.src_h as f32 / 2.0);
        let (ox, oy) = (cw as f32 / 2.0, ch as f32 / 2.0);
        move |x, y| {
            let (dx, dy) = (x - sx, y - sy);
            (dx * c - dy * s + ox, dx * s + dy * c + oy)
        }
    }
}

/// The crop rectangle `[x, y, w, h]` on the corrected canvas.
///
/// `border` and `ink` are masks of the coarse plane (`bw` x `bh`, each pixel
/// `scale` source pixels wide). `margin` is in source pixels.
pub fn page_rect(
    geo: &Geometry,
    border: &[bool],
    ink: &[bool],
    bw: usize,
    bh: usize,
    scale: f32,
    margin: f32,
) -> [u32; 4] {
    let (cw, ch) = geo.canvas();
    let full = [0, 0, cw, ch];
    if bw == 0 || bh == 0 || scale <= 0.0 {
        return full;
    }
    let fwd = geo.forward();
    let ncol = (cw as f32 / scale).ceil() as usize + 1;
    let nrow = (ch as f32 / scale).ceil() as usize + 1;
    let mut cols = vec![0f32; ncol + 1];
    let mut rows = vec![0f32; nrow + 1];
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    // The map is affine: each row of the plane maps to a line, and a run of
    // page pixels to a segment of it, which is spread over the column and
    // row bins it crosses (one pass per run, not per pixel). The ink box
    // needs only the first and last ink pixel of each row.
    let (ax, ay) = fwd(0.5 * scale, 0.5 * scale);
    let (bx, by) = fwd(1.5 * scale, 0.5 * scale);
    let (cx, cy) = fwd(0.5 * scale, 1.5 * scale);
    let (dxx, dxy, dyx, dyy) = (bx - ax, by - ay, cx - ax, cy - ay);
    let inv = 1.0 / scale;
    let mut cdiff = vec![0f32; ncol + 2];
    let mut rdiff = vec![0f32; nrow + 2];
    for y in 0..bh {
        let (rx, ry) = (ax + y as f32 * dyx, ay + y as f32 * dyy);
        let brow = &border[y * bw..(y + 1) * bw];
        let mut x = 0;
        while x < bw {
            if brow[x] {
                x += 1;
                continue;
            }
            let start = x;
            while x < bw && !brow[x] {
                x += 1;
            }
            // Pixels start..x: centres from `start` to `x - 1`, each one
            // step long along the line.
            let (a, b) = (start as f32 - 0.5, x as f32 - 0.5);
            spread(
                &mut cols,
                &mut cdiff,
                (rx + a * dxx) * inv,
                (rx + b * dxx) * inv,
                (x - start) as f32,
            );
            spread(
                &mut rows,
                &mut rdiff,
                (ry + a * dxy) * inv,
                (ry + b * dxy) * inv,
                (x - start) as f32,
            );
        }
        let irow = &ink[y * bw..(y + 1) * bw];
        let first = irow.iter().position(|&v| v);
        let last = irow.iter().rposition(|&v| v);
        for x in first.into_iter().chain(last) {
            let (px, py) = (rx + x as f32 * dxx, ry + x as f32 * dxy);
            x0 = x0.min(px - scale);
            y0 = y0.min(py - scale);
            x1 = x1.max(px + scale);
            y1 = y1.max(py + scale);
        }
    }
    let settle = |bins: &mut [f32], diff: &[f32]| {
        let mut acc = 0f32;
        for (b, d) in bins.iter_mut().zip(diff) {
            acc += d;
            *b += acc;
        }
    };
    settle(&mut cols, &cdiff);
    settle(&mut rows, &rdiff);
    let span = |v: &[f32]| -> Option<(usize, usize)> {
        let max = v.iter().copied().fold(0f32, f32::max);
        if max <= 0.0 {
            return None;
        }
        let lo = v.iter().position(|&c| c * 2.0 >= max)?;
        let hi = v.iter().rposition(|&c| c * 2.0 >= max)?;
        Some((lo, hi))
    };
    let (Some((c0, c1)), Some((r0, r1))) = (span(&cols), span(&rows)) else {
        return full;
    };
    let mut left = c0 as f32 * scale;
    let mut top = r0 as f32 * scale;
    let mut right = (c1 + 1) as f32 * scale;
    let mut bottom = (r1 + 1) as f32 * scale;
    if x1 >= x0 {
        left = left.min(x0);
        top = top.min(y0);
        right = right.max(x1);
        bottom = bottom.max(y1);
    }
    let l = (left - margin).floor().clamp(0.0, cw as f32) as u32;
    let t = (top - margin).floor().clamp(0.0, ch as f32) as u32;
    let r = (right + margin).ceil().clamp(0.0, cw as f32) as u32;
    let b = (bottom + margin).ceil().clamp(0.0, ch as f32) as u32;
    if r <= l || b <= t {
        return full;
    }
    [l, t, r - l, b - t]
}

/// Adds `mass`, spread evenly over the segment from `a` to `b`, to the bins
/// it crosses: partly covered end bins directly, wholly covered ones
/// through the running-sum array `diff` (one entry per bin, plus one).
fn spread(bins: &mut [f32], diff: &mut [f32], a: f32, b: f32, mass: f32) {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let n = bins.len();
    if n == 0 || !(lo.is_finite() && hi.is_finite()) || hi < 0.0 || lo >= n as f32 {
        return;
    }
    let len = hi - lo;
    let (i0, i1) = (lo.floor(), hi.floor());
    if len < 1e-6 || i0 == i1 {
        if let Some(v) = bins.get_mut(i0.max(0.0) as usize) {
            *v += mass;
        }
        return;
    }
    let density = mass / len;
    let mut add = |i: f32, m: f32| {
        if i >= 0.0 {
            if let Some(v) = bins.get_mut(i as usize) {
                *v += m;
            }
        }
    };
    add(i0, (i0 + 1.0 - lo) * density);
    add(i1, (hi - i1) * density);
    // Whole bins i0+1 ..= i1-1, clipped to the array.
    let first = (i0 + 1.0).max(0.0) as usize;
    let last = (i1 as usize).min(n);
    if first < last {
        diff[first] += density;
        diff[last] -= density;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_the_mass_and_spreads_it_evenly() {
        let mut bins = vec![0f32; 6];
        let mut diff = vec![0f32; 7];
        spread(&mut bins, &mut diff, 0.5, 4.5, 8.0);
        spread(&mut bins, &mut diff, 5.2, 5.2, 1.0);
        let mut acc = 0.0;
        for (b, d) in bins.iter_mut().zip(&diff) {
            acc += d;
            *b += acc;
        }
        assert_eq!(bins, vec![1.0, 2.0, 2.0, 2.0, 1.0, 1.0]);
    }

    #[test]
    fn crops_dark_frame_keeps_ink() {
        // 20x20 coarse plane, border 3 px all round, ink blob at (5..7, 5..7).
        let (w, h) = (20, 20);
        let mut border = vec![false; w * h];
        let mut ink = vec![false; w * h];
        for y in 0..h {
            for x in 0..w {
                border[y * w + x] = x < 3 || y < 3 || x >= 17 || y >= 17;
                ink[y * w + x] = (5..7).contains(&x) && (5..7).contains(&y);
            }
        }
        let geo = Geometry {
            src_w: 80,
            src_h: 80,
            quarter: 0,
            skew_deg: 0.0,
        };
        let r = page_rect(&geo, &border, &ink, w, h, 4.0, 0.0);
        assert_eq!(r, [12, 12, 56, 56]);
        let quarter = Geometry { quarter: 90, ..geo };
        assert_eq!(quarter.canvas(), (80, 80));
        assert_eq!(
            page_rect(&geo, &border, &ink, 0, 0, 4.0, 0.0),
            [0, 0, 80, 80]
        );
    }
}
