//! Scanner background and dark borders: dark regions connected to the image
//! edge (ADF black backing, book edges, the table under a phone photo).
//!
//! Works on the coarse plane only; it marks pixels, it never decides crops
//! or skew by itself.

use super::reduce::Plane;

/// Background and borders: regions connected to the edge where no paper
/// shows within `r` pixels (the `2r+1` square maximum is below `t`), grown
/// back by `r + 1` pixels. Text never qualifies: paper shows between its
/// strokes; a black backing, a book edge or a table does.
pub fn find(p: &Plane, t: u8, r: usize) -> Vec<bool> {
    let m = max_filter(p, r);
    let mask = border_mask(&m, t);
    dilate(&mask, p.w, p.h, r + 1)
}

/// Square maximum filter of radius `r` (separable; the vertical pass runs
/// over whole rows so it stays in cache and vectorises).
pub fn max_filter(p: &Plane, r: usize) -> Plane {
    let (w, h) = (p.w, p.h);
    let mut tmp = Plane::new(w, h, 0);
    for y in 0..h {
        let row = &p.data[y * w..(y + 1) * w];
        let out = &mut tmp.data[y * w..(y + 1) * w];
        out.copy_from_slice(row);
        // Shifted slices: each pass is a plain element-wise max.
        for d in 1..=r.min(w.saturating_sub(1)) {
            for (o, &v) in out[..w - d].iter_mut().zip(&row[d..]) {
                *o = (*o).max(v);
            }
            for (o, &v) in out[d..].iter_mut().zip(&row[..w - d]) {
                *o = (*o).max(v);
            }
        }
    }
    let mut out = Plane::new(w, h, 0);
    for y in 0..h {
        let lo = y.saturating_sub(r);
        let hi = (y + r + 1).min(h);
        let dst = &mut out.data[y * w..(y + 1) * w];
        for yy in lo..hi {
            let src = &tmp.data[yy * w..(yy + 1) * w];
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = (*d).max(s);
            }
        }
    }
    out
}

/// Widens a mask by `r` pixels (square), in time independent of `r`.
pub fn dilate(mask: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    if r == 0 || w == 0 || h == 0 || !mask.iter().any(|&m| m) {
        return mask.to_vec();
    }
    let far = u32::MAX / 2;
    let r32 = r as u32;
    let mut tmp = vec![false; w * h];
    for y in 0..h {
        let row = &mask[y * w..(y + 1) * w];
        let out = &mut tmp[y * w..(y + 1) * w];
        let mut last = usize::MAX / 2;
        for x in 0..w {
            if row[x] {
                last = x;
            }
            out[x] = x.wrapping_sub(last) <= r;
        }
        let mut next = usize::MAX / 2;
        for x in (0..w).rev() {
            if row[x] {
                next = x;
            }
            out[x] |= next.wrapping_sub(x) <= r;
        }
    }
    let mut out = vec![false; w * h];
    let mut since = vec![far; w];
    for y in 0..h {
        let src = &tmp[y * w..(y + 1) * w];
        let dst = &mut out[y * w..(y + 1) * w];
        for ((s, &t), d) in since.iter_mut().zip(src).zip(dst.iter_mut()) {
            *s = if t { 0 } else { (*s + 1).min(far) };
            *d = *s <= r32;
        }
    }
    since.iter_mut().for_each(|s| *s = far);
    for y in (0..h).rev() {
        let src = &tmp[y * w..(y + 1) * w];
        let dst = &mut out[y * w..(y + 1) * w];
        for ((s, &t), d) in since.iter_mut().zip(src).zip(dst.iter_mut()) {
            *s = if t { 0 } else { (*s + 1).min(far) };
            *d |= *s <= r32;
        }
    }
    out
}

/// Pixels darker than `t` that are 4-connected to the edge of the plane.
pub fn border_mask(p: &Plane, t: u8) -> Vec<bool> {
    let (w, h) = (p.w, p.h);
    let mut mask = vec![false; w * h];
    if w == 0 || h == 0 {
        return mask;
    }
    let mut stack: Vec<usize> = Vec::new();
    let seed = |i: usize, mask: &mut Vec<bool>, stack: &mut Vec<usize>| {
        if !mask[i] && p.data[i] < t {
            mask[i] = true;
            stack.push(i);
        }
    };
    for x in 0..w {
        seed(x, &mut mask, &mut stack);
        seed((h - 1) * w + x, &mut mask, &mut stack);
    }
    for y in 0..h {
        seed(y * w, &mut mask, &mut stack);
        seed(y * w + w - 1, &mut mask, &mut stack);
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        if x > 0 {
            seed(i - 1, &mut mask, &mut stack);
        }
        if x + 1 < w {
            seed(i + 1, &mut mask, &mut stack);
        }
        if y > 0 {
            seed(i - w, &mut mask, &mut stack);
        }
        if y + 1 < h {
            seed(i + w, &mut mask, &mut stack);
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_only_edge_connected_dark() {
        let mut p = Plane::new(10, 10, 200);
        for y in 0..10 {
            p.data[y * 10] = 10; // left border column
        }
        p.data[5 * 10 + 5] = 10; // isolated ink
        let m = border_mask(&p, 100);
        assert!(m[3 * 10]);
        assert!(!m[5 * 10 + 5]);
        assert_eq!(m.iter().filter(|&&b| b).count(), 10);
    }

    #[test]
    fn text_touching_the_edge_is_not_border() {
        // Thin dark strokes with paper between them, touching the left edge.
        let mut p = Plane::new(30, 30, 220);
        for y in (2..28).step_by(3) {
            for x in 0..20 {
                p.data[y * 30 + x] = 20;
            }
        }
        assert!(find(&p, 120, 2).iter().all(|&b| !b));
        // A solid dark band along the top is.
        for x in 0..30 {
            for y in 0..8 {
                p.data[y * 30 + x] = 20;
            }
        }
        let m = find(&p, 120, 2);
        assert!(m[30 + 15] && !m[20 * 30 + 25]);
    }

    #[test]
    fn dilate_grows_a_square() {
        let mut m = vec![false; 9 * 9];
        m[4 * 9 + 4] = true;
        let d = dilate(&m, 9, 9, 2);
        assert_eq!(d.iter().filter(|&&b| b).count(), 25);
        assert!(d[2 * 9 + 2] && d[6 * 9 + 6] && !d[1 * 9 + 4]);
    }
}
