//! Grey levels and ink: histogram statistics, the paper's local brightness,
//! and the ink mask (pixels clearly darker than the paper around them).
//!
//! Thresholds are relative to the local paper level, so yellowed paper,
//! uneven phone lighting, paper texture and faint bleed-through do not count
//! as ink. Pure functions over small planes; never panics on empty input.

use super::reduce::Plane;

pub fn histogram(p: &Plane) -> [u32; 256] {
    // Four histograms in turn (see `background`), summed.
    let mut hs = [[0u32; 256]; 4];
    let mut quads = p.data.chunks_exact(4);
    for q in &mut quads {
        for (h, &v) in hs.iter_mut().zip(q) {
            h[v as usize] += 1;
        }
    }
    for &v in quads.remainder() {
        hs[0][v as usize] += 1;
    }
    std::array::from_fn(|k| hs[0][k] + hs[1][k] + hs[2][k] + hs[3][k])
}

/// Grey level below which a fraction `q` of the pixels lie.
pub fn percentile(h: &[u32; 256], q: f32) -> u8 {
    percentile_of(h, h.iter().map(|&c| c as u64).sum(), q)
}

/// `percentile` of a histogram whose count is known to be `total`. Upper
/// percentiles are found from the top, where paper is: a few bins, not 256.
fn percentile_of(h: &[u32; 256], total: u64, q: f32) -> u8 {
    if total == 0 {
        return 255;
    }
    let target = ((total as f64 * q as f64).ceil() as u64).max(1);
    if q >= 0.5 {
        // The lowest level whose count at or below it reaches the target:
        // walk down while the level below still does.
        let (mut v, mut above) = (255usize, 0u64);
        while v > 0 {
            let next = above + h[v] as u64;
            if total.saturating_sub(next) < target {
                break;
            }
            above = next;
            v -= 1;
        }
        return v as u8;
    }
    let mut acc = 0u64;
    for (v, &c) in h.iter().enumerate() {
        acc += c as u64;
        if acc >= target {
            return v as u8;
        }
    }
    255
}

/// Otsu's threshold: the level that best splits the histogram in two.
pub fn otsu(h: &[u32; 256]) -> u8 {
    let total: f64 = h.iter().map(|&c| c as f64).sum();
    if total == 0.0 {
        return 128;
    }
    let sum_all: f64 = h
        .iter()
        .enumerate()
        .map(|(v, &c)| v as f64 * c as f64)
        .sum();
    let (mut w0, mut sum0, mut best, mut best_t) = (0.0, 0.0, -1.0, 128u8);
    for (t, &c) in h.iter().enumerate() {
        w0 += c as f64;
        sum0 += t as f64 * c as f64;
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let m0 = sum0 / w0;
        let m1 = (sum_all - sum0) / w1;
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

/// The paper's brightness around every pixel of `p`: the 90th percentile of
/// blocks of `block` pixels (border excluded), bilinearly interpolated.
/// Blocks that are mostly border or solid ink borrow the page-wide `paper`.
pub fn background(p: &Plane, border: &[bool], paper: u8, block: usize) -> Plane {
    if p.w == 0 || p.h == 0 || border.len() < p.w * p.h {
        return Plane::new(p.w, p.h, paper);
    }
    let block = block.max(4);
    let bw = p.w.div_ceil(block).max(1);
    let bh = p.h.div_ceil(block).max(1);
    let mut levels = vec![paper as f32; bw * bh];
    let mut valid = vec![false; bw * bh];
    // Four histograms filled in turn, summed at the end: paper pixels all
    // land in a few bins, and one histogram would make every increment wait
    // for the one before.
    let mut hists = [[0u32; 256]; 4];
    let mut hist = [0u32; 256];
    for by in 0..bh {
        for bx in 0..bw {
            hists.iter_mut().for_each(|h| h.fill(0));
            let (x0, x1) = (bx * block, ((bx + 1) * block).min(p.w));
            for y in by * block..((by + 1) * block).min(p.h) {
                let row = y * p.w;
                let (px, bd) = (&p.data[row + x0..row + x1], &border[row + x0..row + x1]);
                let (mut pq, mut bq) = (px.chunks_exact(4), bd.chunks_exact(4));
                for (v, b) in (&mut pq).zip(&mut bq) {
                    for ((h, &v), &b) in hists.iter_mut().zip(v).zip(b) {
                        h[v as usize] += !b as u32;
                    }
                }
                for (&v, &b) in pq.remainder().iter().zip(bq.remainder()) {
                    hists[0][v as usize] += !b as u32;
                }
            }
            let mut n = 0u32;
            for (k, c) in hist.iter_mut().enumerate() {
                *c = hists[0][k] + hists[1][k] + hists[2][k] + hists[3][k];
                n += *c;
            }
            if n as usize * 4 >= block * block {
                let l = percentile_of(&hist, n as u64, 0.9);
                // Dense ink or a dark picture is not paper; dim paper
                // (uneven light on a photo) still is.
                if (l as f32) >= paper as f32 * 0.45 {
                    levels[by * bw + bx] = l as f32;
                    valid[by * bw + bx] = true;
                }
            }
        }
    }
    fill_gaps(&mut levels, &mut valid, bw, bh);
    // Bilinear interpolation between block centres: the two rows of block
    // levels above and below are spread across the page once per block
    // row, then every pixel row is a blend of those two (which vectorises).
    let mut out = Plane::new(p.w, p.h, paper);
    let half = block as f32 / 2.0;
    let coord = |i: usize, n: usize| -> (usize, usize, f32) {
        let f = ((i as f32 - half + 0.5) / block as f32).clamp(0.0, (n - 1) as f32);
        let i0 = f as usize;
        (i0, (i0 + 1).min(n - 1), f - i0 as f32)
    };
    let xs: Vec<(usize, usize, f32)> = (0..p.w).map(|x| coord(x, bw)).collect();
    let spread = |by: usize, dst: &mut [f32]| {
        let lv = &levels[by * bw..(by + 1) * bw];
        for (d, &(x0, x1, tx)) in dst.iter_mut().zip(&xs) {
            *d = lv[x0] + (lv[x1] - lv[x0]) * tx;
        }
    };
    let (mut above, mut below) = (vec![0f32; p.w], vec![0f32; p.w]);
    let mut spread_rows = None;
    for (y, dst) in out.data.chunks_exact_mut(p.w).enumerate() {
        let (y0, y1, ty) = coord(y, bh);
        if spread_rows != Some((y0, y1)) {
            spread(y0, &mut above);
            spread(y1, &mut below);
            spread_rows = Some((y0, y1));
        }
        for ((d, &a), &b) in dst.iter_mut().zip(&above).zip(&below) {
            *d = (a + (b - a) * ty + 0.5).clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// Gives blocks without a paper level the mean of their valid neighbours,
/// growing inward from the known blocks; what stays unknown keeps `paper`.
fn fill_gaps(levels: &mut [f32], valid: &mut [bool], bw: usize, bh: usize) {
    for _ in 0..bw.max(bh) {
        let mut changed = false;
        let snapshot = valid.to_vec();
        for y in 0..bh {
            for x in 0..bw {
                if snapshot[y * bw + x] {
                    continue;
                }
                let (mut sum, mut n) = (0f32, 0);
                for ny in y.saturating_sub(1)..(y + 2).min(bh) {
                    for nx in x.saturating_sub(1)..(x + 2).min(bw) {
                        if snapshot[ny * bw + nx] {
                            sum += levels[ny * bw + nx];
                            n += 1;
                        }
                    }
                }
                if n > 0 {
                    levels[y * bw + x] = sum / n as f32;
                    valid[y * bw + x] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// Ink on the fine plane `a` (twice the size of `bg` and `border`): pixels
/// darker than `(1 - contrast)` times the local paper level, outside the
/// border.
pub fn ink_mask(a: &Plane, bg: &Plane, border: &[bool], contrast: f32) -> Vec<bool> {
    let mut ink = vec![false; a.w * a.h];
    if bg.w == 0 || bg.h == 0 {
        return ink;
    }
    let k = ((1.0 - contrast).clamp(0.0, 1.0) * 256.0) as u32;
    // Threshold per coarse pixel, 0 on the border (nothing is below it).
    let t: Vec<u32> = bg
        .data
        .iter()
        .zip(border)
        .map(|(&v, &b)| if b { 0 } else { v as u32 * k })
        .collect();
    for y in 0..a.h {
        let by = (y / 2).min(bg.h - 1);
        let trow = &t[by * bg.w..(by + 1) * bg.w];
        let src = &a.data[y * a.w..(y + 1) * a.w];
        let dst = &mut ink[y * a.w..(y + 1) * a.w];
        for (x, (d, &v)) in dst.iter_mut().zip(src).enumerate() {
            *d = ((v as u32) << 8) < trow[(x / 2).min(bg.w - 1)];
        }
    }
    ink
}

/// OR-reduction of a mask by 2: a coarse pixel is ink if any of its four is.
/// Ink mask of a plane of the same size as the paper level `bg`: darker
/// than the local paper by the share `contrast`, never on the border.
pub fn ink_mask_same(p: &Plane, bg: &Plane, border: &[bool], contrast: f32) -> Vec<bool> {
    let k = ((1.0 - contrast).clamp(0.0, 1.0) * 256.0) as u32;
    p.data
        .iter()
        .zip(&bg.data)
        .zip(border)
        .map(|((&v, &l), &b)| !b && ((v as u32) << 8) < l as u32 * k)
        .collect()
}

pub fn or_half(m: &[bool], w: usize, h: usize, ow: usize, oh: usize) -> Vec<bool> {
    let mut out = vec![false; ow * oh];
    for y in 0..oh.min(h.div_ceil(2)) {
        for x in 0..ow.min(w.div_ceil(2)) {
            let mut any = false;
            for dy in 0..2 {
                for dx in 0..2 {
                    let (sx, sy) = (2 * x + dx, 2 * y + dy);
                    if sx < w && sy < h && m[sy * w + sx] {
                        any = true;
                    }
                }
            }
            out[y * ow + x] = any;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otsu_splits_two_levels() {
        let mut h = [0u32; 256];
        h[30] = 100;
        h[220] = 900;
        let t = otsu(&h);
        assert!((30..220).contains(&t));
        assert_eq!(percentile(&h, 0.5), 220);
        assert_eq!(percentile(&[0; 256], 0.5), 255);
    }

    #[test]
    fn background_of_empty_planes_is_empty() {
        for (w, h) in [(0, 0), (0, 5), (5, 0)] {
            let p = Plane::new(w, h, 200);
            assert_eq!(background(&p, &[], 230, 8).data.len(), 0);
        }
        let p = Plane::new(3, 2, 200);
        // Too few pixels for a block of its own: the page-wide paper level.
        assert_eq!(background(&p, &[false; 6], 230, 8).data, vec![230; 6]);
    }

    #[test]
    fn percentiles_from_the_top_match_a_count_from_the_bottom() {
        let naive = |h: &[u32; 256], q: f32| {
            let total: u64 = h.iter().map(|&c| c as u64).sum();
            let target = ((total as f64 * q as f64).ceil() as u64).max(1);
            let mut acc = 0;
            (0..256)
                .find(|&v| {
                    acc += h[v] as u64;
                    acc >= target
                })
                .unwrap_or(255) as u8
        };
        let mut seed = 7u32;
        for case in 0..200 {
            let mut h = [0u32; 256];
            for _ in 0..case % 40 + 1 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                h[(seed >> 8) as usize % 256] += (seed >> 20) % 50;
            }
            for q in [0.0, 0.3, 0.5, 0.9, 0.95, 0.999, 1.0] {
                if h.iter().any(|&c| c > 0) {
                    assert_eq!(percentile(&h, q), naive(&h, q), "case {case} q {q}");
                }
            }
        }
        let mut one = [0u32; 256];
        one[0] = 5;
        assert_eq!(percentile(&one, 0.9), 0);
        one[255] = 5;
        assert_eq!(percentile(&one, 0.5), 0);
        assert_eq!(percentile(&one, 0.51), 255);
    }
}
