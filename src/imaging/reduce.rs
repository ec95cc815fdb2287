//! Box reduction of a page to the working resolution of the analysis.
//!
//! Reads any `DynamicImage` (grey and RGB without a full-size conversion)
//! and averages `f`x`f` blocks into a small grey plane. Must never allocate
//! a full-size copy of the page, and never panic on any size.

use image::{DynamicImage, GrayImage};

/// A small grey plane: row-major bytes.
#[derive(Debug, Clone, Default)]
pub struct Plane {
    pub w: usize,
    pub h: usize,
    pub data: Vec<u8>,
}

impl Plane {
    pub fn new(w: usize, h: usize, v: u8) -> Self {
        Plane {
            w,
            h,
            data: vec![v; w * h],
        }
    }

    #[inline]
    pub fn get(&self, x: usize, y: usize) -> u8 {
        self.data[y * self.w + x]
    }
}

/// Averages `f`x`f` blocks of `img` (luma for colour). Partial blocks at the
/// right and bottom edges are dropped unless the image is smaller than `f`.
pub fn reduce(img: &DynamicImage, f: usize) -> Plane {
    let f = f.max(1);
    match img {
        DynamicImage::ImageLuma8(g) if f == 2 => reduce2(g),
        DynamicImage::ImageLuma8(g) => {
            reduce_rows(g.width() as usize, g.height() as usize, f, |y, out| {
                let w = g.width() as usize;
                out.copy_from_slice(&g.as_raw()[y * w..(y + 1) * w]);
            })
        }
        DynamicImage::ImageRgb8(c) => {
            let w = c.width() as usize;
            reduce_rows(w, c.height() as usize, f, |y, out| {
                let row = &c.as_raw()[y * w * 3..(y + 1) * w * 3];
                for (o, p) in out.iter_mut().zip(row.chunks_exact(3)) {
                    *o = luma(p[0], p[1], p[2]);
                }
            })
        }
        DynamicImage::ImageRgba8(c) => {
            let w = c.width() as usize;
            reduce_rows(w, c.height() as usize, f, |y, out| {
                let row = &c.as_raw()[y * w * 4..(y + 1) * w * 4];
                for (o, p) in out.iter_mut().zip(row.chunks_exact(4)) {
                    *o = luma(p[0], p[1], p[2]);
                }
            })
        }
        other => {
            let g: GrayImage = other.to_luma8();
            reduce(&DynamicImage::ImageLuma8(g), f)
        }
    }
}

/// 2x2 box reduction of a grey image straight from its rows (the common
/// case: 300 dpi grey scans), in 16-bit sums the compiler vectorises.
fn reduce2(g: &GrayImage) -> Plane {
    let (w, h) = (g.width() as usize, g.height() as usize);
    if w < 2 || h < 2 {
        return reduce_rows(w, h, 1, |y, out| {
            out.copy_from_slice(&g.as_raw()[y * w..(y + 1) * w]);
        });
    }
    let (ow, oh) = (w / 2, h / 2);
    let raw = g.as_raw();
    let mut out = Plane::new(ow, oh, 0);
    // Rows are summed first, then pairs of columns: two passes that each
    // vectorise, where one pass over 2x2 blocks does not.
    let mut sums = vec![0u16; 2 * ow];
    for (oy, dst) in out.data.chunks_exact_mut(ow).enumerate() {
        let r0 = &raw[2 * oy * w..2 * oy * w + 2 * ow];
        let r1 = &raw[(2 * oy + 1) * w..(2 * oy + 1) * w + 2 * ow];
        for ((s, &a), &b) in sums.iter_mut().zip(r0).zip(r1) {
            *s = a as u16 + b as u16;
        }
        for (d, s) in dst.iter_mut().zip(sums.chunks_exact(2)) {
            *d = ((s[0] + s[1] + 2) >> 2) as u8;
        }
    }
    out
}

/// Rec. 601 luma in integer arithmetic.
#[inline]
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 77 + g as u32 * 150 + b as u32 * 29 + 128) >> 8) as u8
}

/// Generic row-fed box reduction: `row(y, buf)` fills one source row of grey.
fn reduce_rows(w: usize, h: usize, f: usize, mut row: impl FnMut(usize, &mut [u8])) -> Plane {
    if w == 0 || h == 0 {
        return Plane::default();
    }
    let f = f.min(w).min(h).max(1);
    let ow = w / f;
    let oh = h / f;
    let mut out = Plane::new(ow, oh, 0);
    let mut buf = vec![0u8; w];
    let mut acc = vec![0u32; ow];
    let div = (f * f) as u32;
    for oy in 0..oh {
        acc.iter_mut().for_each(|a| *a = 0);
        for dy in 0..f {
            row(oy * f + dy, &mut buf);
            match f {
                1 => add_blocks::<1>(&mut acc, &buf),
                2 => add_blocks::<2>(&mut acc, &buf),
                3 => add_blocks::<3>(&mut acc, &buf),
                4 => add_blocks::<4>(&mut acc, &buf),
                _ => {
                    for (a, chunk) in acc.iter_mut().zip(buf.chunks_exact(f)) {
                        *a += chunk.iter().map(|&v| v as u32).sum::<u32>();
                    }
                }
            }
        }
        let orow = &mut out.data[oy * ow..(oy + 1) * ow];
        for (o, a) in orow.iter_mut().zip(&acc) {
            *o = ((a + div / 2) / div) as u8;
        }
    }
    out
}

/// Adds the sums of blocks of `F` bytes of `row` to `acc` (fixed `F` lets
/// the compiler unroll and vectorise).
#[inline]
fn add_blocks<const F: usize>(acc: &mut [u32], row: &[u8]) {
    for (a, chunk) in acc.iter_mut().zip(row.chunks_exact(F)) {
        let mut s = 0u32;
        for &v in chunk {
            s += v as u32;
        }
        *a += s;
    }
}

/// Halves a plane by 2x2 averaging.
pub fn half(p: &Plane) -> Plane {
    let ow = p.w / 2;
    let oh = p.h / 2;
    let mut out = Plane::new(ow, oh, 0);
    for y in 0..oh {
        let r0 = &p.data[2 * y * p.w..];
        let r1 = &p.data[(2 * y + 1) * p.w..];
        for x in 0..ow {
            let s =
                r0[2 * x] as u32 + r0[2 * x + 1] as u32 + r1[2 * x] as u32 + r1[2 * x + 1] as u32;
            out.data[y * ow + x] = ((s + 2) / 4) as u8;
        }
    }
    out
}

/// Halves a plane by 2x2 blocks: the mean and the darkest pixel of each
/// (the darkest keeps thin strokes that the mean fades).
pub fn half_min(p: &Plane) -> (Plane, Plane) {
    let ow = p.w / 2;
    let oh = p.h / 2;
    let mut mean = Plane::new(ow, oh, 0);
    let mut min = Plane::new(ow, oh, 0);
    if ow == 0 || oh == 0 {
        return (mean, min);
    }
    // Down the rows first, then across pairs of columns (see `reduce2`).
    let mut sums = vec![0u16; 2 * ow];
    let mut mins = vec![0u8; 2 * ow];
    for y in 0..oh {
        let r0 = &p.data[2 * y * p.w..2 * y * p.w + 2 * ow];
        let r1 = &p.data[(2 * y + 1) * p.w..(2 * y + 1) * p.w + 2 * ow];
        for (((s, m), &a), &b) in sums.iter_mut().zip(mins.iter_mut()).zip(r0).zip(r1) {
            *s = a as u16 + b as u16;
            *m = a.min(b);
        }
        let dm = &mut mean.data[y * ow..(y + 1) * ow];
        for (d, s) in dm.iter_mut().zip(sums.chunks_exact(2)) {
            *d = ((s[0] + s[1] + 2) >> 2) as u8;
        }
        let dn = &mut min.data[y * ow..(y + 1) * ow];
        for (d, m) in dn.iter_mut().zip(mins.chunks_exact(2)) {
            *d = m[0].min(m[1]);
        }
    }
    (mean, min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduces_any_size() {
        for (w, h) in [(0, 0), (1, 1), (1, 7), (7, 1), (9, 9)] {
            let img = DynamicImage::ImageLuma8(GrayImage::new(w, h));
            let p = reduce(&img, 4);
            assert!(p.data.len() == p.w * p.h);
            let _ = half(&p);
        }
    }

    #[test]
    fn averages_blocks() {
        let mut g = GrayImage::new(4, 2);
        g.put_pixel(0, 0, image::Luma([255]));
        g.put_pixel(1, 1, image::Luma([255]));
        let p = reduce(&DynamicImage::ImageLuma8(g), 2);
        assert_eq!((p.w, p.h), (2, 1));
        assert_eq!(p.data, vec![128, 0]);
        let (m, n) = half_min(&Plane {
            w: 2,
            h: 2,
            data: vec![10, 20, 30, 40],
        });
        assert_eq!((m.data[0], n.data[0]), (25, 10));
    }
}
