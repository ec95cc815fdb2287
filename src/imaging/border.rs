//! Scanner background and dark borders: dark regions connected to the image
//! edge (ADF black backing, book edges, the table under a phone photo).
//!
//! Works on the coarse plane only; it marks pixels, it never decides crops
//! or skew by itself.

use super::reduce::Plane;

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

/// Widens a mask by one pixel (8-neighbourhood), so the soft edge between a
/// border and the paper does not read as ink.
pub fn dilate(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut out = mask.to_vec();
    for y in 0..h {
        for x in 0..w {
            if mask[y * w + x] {
                for ny in y.saturating_sub(1)..(y + 2).min(h) {
                    for nx in x.saturating_sub(1)..(x + 2).min(w) {
                        out[ny * w + nx] = true;
                    }
                }
            }
        }
    }
    out
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
}
