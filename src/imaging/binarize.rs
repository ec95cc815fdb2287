//! Grey levels and ink: histogram statistics, the paper's local brightness,
//! and the ink mask (pixels clearly darker than the paper around them).
//!
//! Thresholds are relative to the local paper level, so yellowed paper,
//! uneven phone lighting, paper texture and faint bleed-through do not count
//! as ink. Pure functions over small planes; never panics on empty input.

use super::reduce::Plane;

pub fn histogram(p: &Plane) -> [u32; 256] {
    let mut h = [0u32; 256];
    for &v in &p.data {
        h[v as usize] += 1;
    }
    h
}

/// Grey level below which a fraction `q` of the pixels lie.
pub fn percentile(h: &[u32; 256], q: f32) -> u8 {
    let total: u64 = h.iter().map(|&c| c as u64).sum();
    if total == 0 {
        return 255;
    }
    let target = (total as f64 * q as f64).ceil() as u64;
    let mut acc = 0u64;
    for (v, &c) in h.iter().enumerate() {
        acc += c as u64;
        if acc >= target.max(1) {
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
    let block = block.max(4);
    let bw = p.w.div_ceil(block).max(1);
    let bh = p.h.div_ceil(block).max(1);
    let mut levels = vec![paper as f32; bw * bh];
    let mut hist = [0u32; 256];
    for by in 0..bh {
        for bx in 0..bw {
            hist.iter_mut().for_each(|c| *c = 0);
            let mut n = 0u32;
            for y in by * block..((by + 1) * block).min(p.h) {
                for x in bx * block..((bx + 1) * block).min(p.w) {
                    let i = y * p.w + x;
                    if !border[i] {
                        hist[p.data[i] as usize] += 1;
                        n += 1;
                    }
                }
            }
            if n as usize * 4 >= block * block {
                let l = percentile(&hist, 0.9);
                // Dense ink or a dark picture is not paper.
                if (l as f32) >= paper as f32 * 0.75 {
                    levels[by * bw + bx] = l as f32;
                }
            }
        }
    }
    let mut out = Plane::new(p.w, p.h, paper);
    let half = block as f32 / 2.0;
    for y in 0..p.h {
        let fy = ((y as f32 - half + 0.5) / block as f32).clamp(0.0, (bh - 1) as f32);
        let y0 = fy.floor() as usize;
        let y1 = (y0 + 1).min(bh - 1);
        let ty = fy - y0 as f32;
        for x in 0..p.w {
            let fx = ((x as f32 - half + 0.5) / block as f32).clamp(0.0, (bw - 1) as f32);
            let x0 = fx.floor() as usize;
            let x1 = (x0 + 1).min(bw - 1);
            let tx = fx - x0 as f32;
            let top = levels[y0 * bw + x0] * (1.0 - tx) + levels[y0 * bw + x1] * tx;
            let bot = levels[y1 * bw + x0] * (1.0 - tx) + levels[y1 * bw + x1] * tx;
            out.data[y * p.w + x] = (top * (1.0 - ty) + bot * ty).round() as u8;
        }
    }
    out
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
    for y in 0..a.h {
        let by = (y / 2).min(bg.h - 1);
        for x in 0..a.w {
            let bx = (x / 2).min(bg.w - 1);
            let bi = by * bg.w + bx;
            if border[bi] {
                continue;
            }
            let t = bg.data[bi] as u32 * k;
            ink[y * a.w + x] = (a.data[y * a.w + x] as u32) << 8 < t;
        }
    }
    ink
}

/// OR-reduction of a mask by 2: a coarse pixel is ink if any of its four is.
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
}
