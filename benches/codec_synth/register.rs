//! A synthetic A4 300 dpi colour civil-status register page, with its ground
//! truth, for the codec benchmark.
//!
//! The page: a printed header and column heads (real glyphs cut from the
//! corpus's feyn.tif scan), a ruled table, handwriting-like entries in blue
//! and black ballpoint with pen pressure varying along the stroke, faint
//! pencil ticks and notes, a signature crossed by a red round stamp, all on
//! yellowed, unevenly lit paper with fibre texture, brown stains and sensor
//! noise, seen through slightly soft scanner optics.
//!
//! The ground truth is the same ink through the same optics on pure white
//! paper: what a perfect paper flattening would give.
//!
//! Deterministic (fixed seeds); bench-only code.

use image::{GrayImage, RgbImage};

pub const W: u32 = 2480;
pub const H: u32 = 3508;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [0, 1).
    fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, a: f32, b: f32) -> f32 {
        a + (b - a) * self.f()
    }
}

/// Ink layer: transmittance per channel, 1.0 = nothing printed.
struct Ink {
    t: Vec<[f32; 3]>,
}

impl Ink {
    fn new() -> Ink {
        Ink {
            t: vec![[1.0; 3]; (W * H) as usize],
        }
    }

    /// Multiplies coverage `a` (0..1) of an ink of colour `c` at a pixel.
    fn put(&mut self, x: i32, y: i32, a: f32, c: [f32; 3]) {
        if x < 0 || y < 0 || x >= W as i32 || y >= H as i32 || a <= 0.0 {
            return;
        }
        let p = &mut self.t[(y as u32 * W + x as u32) as usize];
        for k in 0..3 {
            p[k] *= 1.0 - a.min(1.0) * (1.0 - c[k] / 255.0);
        }
    }

    /// An anti-aliased disc, combined by max coverage with what the same
    /// stroke already laid (`mask` holds this stroke's coverage).
    fn disc(&mut self, mask: &mut Stroke, cx: f32, cy: f32, r: f32) {
        let (x0, x1) = ((cx - r - 1.0).floor() as i32, (cx + r + 1.0).ceil() as i32);
        let (y0, y1) = ((cy - r - 1.0).floor() as i32, (cy + r + 1.0).ceil() as i32);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
                let a = (r + 0.5 - d).clamp(0.0, 1.0);
                if a > 0.0 {
                    mask.add(x, y, a);
                }
            }
        }
    }
}

/// Coverage of one stroke before it is laid down, so overlapping discs of
/// the same stroke do not darken each other.
struct Stroke {
    cov: std::collections::HashMap<(i32, i32), f32>,
}

impl Stroke {
    fn new() -> Stroke {
        Stroke {
            cov: std::collections::HashMap::new(),
        }
    }
    fn add(&mut self, x: i32, y: i32, a: f32) {
        let e = self.cov.entry((x, y)).or_insert(0.0);
        *e = e.max(a);
    }
    fn lay(self, ink: &mut Ink, opacity: f32, colour: [f32; 3]) {
        for ((x, y), a) in self.cov {
            ink.put(x, y, a * opacity, colour);
        }
    }
}

const BLUE: [f32; 3] = [30.0, 45.0, 135.0];
const BLACK: [f32; 3] = [25.0, 25.0, 30.0];
const PRINT: [f32; 3] = [20.0, 20.0, 20.0];
const PENCIL: [f32; 3] = [90.0, 90.0, 95.0];
const RED: [f32; 3] = [205.0, 35.0, 45.0];

/// A rectangle of solid printed ink.
fn rect(ink: &mut Ink, x0: i32, y0: i32, x1: i32, y1: i32) {
    for y in y0..y1 {
        for x in x0..x1 {
            ink.put(x, y, 0.95, PRINT);
        }
    }
}

/// Copies printed glyphs from a bilevel/grey scan region.
fn glyphs(ink: &mut Ink, text: &GrayImage, src: (u32, u32, u32, u32), at: (i32, i32)) {
    let (sx, sy, sw, sh) = src;
    for y in 0..sh {
        for x in 0..sw {
            if sx + x >= text.width() || sy + y >= text.height() {
                continue;
            }
            let a = 1.0 - text.get_pixel(sx + x, sy + y).0[0] as f32 / 255.0;
            ink.put(at.0 + x as i32, at.1 + y as i32, a * 0.95, PRINT);
        }
    }
}

/// One handwritten word: a cursive trochoid with random letter heights,
/// slant and pen pressure. Returns the x where the word ends.
fn word(
    ink: &mut Ink,
    rng: &mut Rng,
    x: f32,
    base: f32,
    letters: usize,
    colour: [f32; 3],
    scale: f32,
) -> f32 {
    let mut s = Stroke::new();
    let mut px = x;
    let slant = 0.25;
    let steps = 40;
    let mut prev: Option<(f32, f32, f32)> = None;
    for _ in 0..letters {
        let kind = rng.f();
        let h = scale
            * if kind < 0.2 {
                48.0 // ascender
            } else if kind < 0.3 {
                -30.0 // descender
            } else {
                22.0 + 6.0 * rng.f()
            };
        let adv = scale * rng.range(16.0, 26.0);
        let loop_r = scale * rng.range(4.0, 9.0);
        for i in 0..steps {
            let t = i as f32 / steps as f32;
            let ph = t * std::f32::consts::TAU;
            // Up and back down with a small loop.
            let yy = base - h * (ph * 0.5).sin();
            let xx = px + adv * t - loop_r * ph.sin() + slant * (base - yy);
            let pressure = 0.75 + 0.35 * (ph * 0.5).sin() + 0.1 * rng.f();
            let r = (scale * 1.8 * pressure).max(0.8);
            // Discs every half pixel along the path: a continuous stroke.
            let (x0, y0, r0) = prev.unwrap_or((xx, yy, r));
            let n = (((xx - x0).powi(2) + (yy - y0).powi(2)).sqrt() * 2.0)
                .ceil()
                .max(1.0) as usize;
            for k in 1..=n {
                let f = k as f32 / n as f32;
                ink.disc(
                    &mut s,
                    x0 + (xx - x0) * f,
                    y0 + (yy - y0) * f,
                    r0 + (r - r0) * f,
                );
            }
            prev = Some((xx, yy, r));
        }
        px += adv;
    }
    s.lay(ink, 0.92, colour);
    px
}

fn hline(ink: &mut Ink, x0: i32, x1: i32, y: i32, th: i32) {
    rect(ink, x0, y, x1, y + th);
}

fn vline(ink: &mut Ink, x: i32, y0: i32, y1: i32, th: i32) {
    rect(ink, x, y0, x + th, y1);
}

/// Pencil: thin, light, grainy.
fn pencil_line(ink: &mut Ink, rng: &mut Rng, x0: f32, y0: f32, x1: f32, y1: f32) {
    let n = ((x1 - x0).abs() + (y1 - y0).abs()) as usize * 2;
    let mut s = Stroke::new();
    for i in 0..n {
        let t = i as f32 / n as f32;
        let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
        s.add(x as i32, y as i32, rng.range(0.3, 1.0));
        s.add(x as i32, y as i32 + 1, rng.range(0.0, 0.6));
    }
    s.lay(ink, 0.35, PENCIL);
}

/// The red round stamp: two rings, a band of "letters", a star.
fn stamp(ink: &mut Ink, rng: &mut Rng, cx: f32, cy: f32) {
    let mut s = Stroke::new();
    let r_out = 210.0;
    for y in (cy - r_out - 10.0) as i32..(cy + r_out + 10.0) as i32 {
        for x in (cx - r_out - 10.0) as i32..(cx + r_out + 10.0) as i32 {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let d = (dx * dx + dy * dy).sqrt();
            let ang = dy.atan2(dx);
            let ring = (7.0 - (d - 200.0).abs()).clamp(0.0, 1.0)
                + (3.5 - (d - 150.0).abs()).clamp(0.0, 1.0);
            // Letters: short radial dashes between the rings.
            let band = d > 160.0 && d < 190.0 && ((ang * 40.0).sin() > 0.4);
            let star = d < 70.0 && ((ang * 5.0).cos() * 45.0 + 25.0 > d);
            let a = (ring + if band || star { 1.0 } else { 0.0 }).min(1.0);
            if a > 0.0 {
                s.add(x, y, a * rng.range(0.6, 1.0));
            }
        }
    }
    s.lay(ink, 0.8, RED);
}

fn blur_rgb(img: &RgbImage, sigma: f32) -> RgbImage {
    image::imageops::blur(img, sigma)
}

/// Returns (scanned page, ground truth). `printed` is a text scan whose
/// glyphs stand in for the printed form (feyn.tif).
pub fn page(printed: &GrayImage) -> (RgbImage, RgbImage) {
    let mut ink = Ink::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Printed header: two text bands and a title rule.
    glyphs(&mut ink, printed, (300, 430, 1900, 120), (290, 140));
    glyphs(&mut ink, printed, (300, 700, 1900, 90), (290, 300));
    hline(&mut ink, 200, 2280, 430, 4);
    // The table.
    let (tx0, tx1, ty0, ty1) = (160, 2320, 520, 3380);
    let cols = [160, 330, 820, 1180, 1520, 1900, 2320];
    let head = 640;
    hline(&mut ink, tx0, tx1, ty0, 5);
    hline(&mut ink, tx0, tx1, head, 3);
    hline(&mut ink, tx0, tx1, ty1, 5);
    for (i, &c) in cols.iter().enumerate() {
        let th = if i == 0 || i == cols.len() - 1 { 5 } else { 2 };
        vline(&mut ink, c, ty0, ty1, th);
    }
    // Column heads: small printed glyphs.
    for w in cols.windows(2) {
        let wd = (w[1] - w[0] - 30).max(10) as u32;
        let sy = 900 + (rng.f() * 900.0) as u32;
        glyphs(
            &mut ink,
            printed,
            (400, sy, wd.min(1700), 80),
            (w[0] + 15, ty0 + 25),
        );
    }
    // Rows with entries.
    let row_h = 210;
    let mut y = head;
    let mut r = 0;
    while y + row_h <= ty1 {
        if y > head {
            hline(&mut ink, tx0, tx1, y, 2);
        }
        let colour = if r % 3 == 2 { BLACK } else { BLUE };
        // Number, names, dates, places, notes: 1-2 lines per cell.
        for w in cols.windows(2) {
            let lines = if w[1] - w[0] > 300 { 2 } else { 1 };
            for l in 0..lines {
                let base = (y + 80 + l * 85) as f32;
                let mut x = w[0] as f32 + 25.0;
                let end = w[1] as f32 - 40.0;
                while x < end - 60.0 {
                    let n = 2 + (rng.f() * 6.0) as usize;
                    let nx = word(&mut ink, &mut rng, x, base, n, colour, 1.0);
                    if nx > end {
                        break;
                    }
                    x = nx + rng.range(22.0, 40.0);
                }
            }
        }
        // Faint pencil tick in the first column, now and then.
        if r % 2 == 0 {
            let (bx, by) = (cols[0] as f32 + 40.0, y as f32 + 150.0);
            pencil_line(&mut ink, &mut rng, bx, by, bx + 20.0, by + 25.0);
            pencil_line(
                &mut ink,
                &mut rng,
                bx + 20.0,
                by + 25.0,
                bx + 70.0,
                by - 40.0,
            );
        }
        y += row_h;
        r += 1;
    }
    // Pencil note in the margin.
    for i in 0..6 {
        let x = 60.0 + i as f32 * 14.0;
        pencil_line(&mut ink, &mut rng, x, 1200.0, x + 8.0, 1500.0);
    }
    // Signature and stamp over the last rows.
    let mut sx = 1700.0;
    for _ in 0..2 {
        sx = word(&mut ink, &mut rng, sx, 3240.0, 5, BLUE, 1.6) + 20.0;
    }
    stamp(&mut ink, &mut rng, 1850.0, 3150.0);

    // Optics: the ink through a slightly soft lens.
    let truth = RgbImage::from_fn(W, H, |x, y| {
        let t = ink.t[(y * W + x) as usize];
        image::Rgb(t.map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8))
    });
    drop(ink);
    let truth = blur_rgb(&truth, 0.8);

    // Paper: yellowed, lit unevenly, with stains and fibre texture.
    let fibres = {
        let mut r2 = Rng(77);
        let n = GrayImage::from_fn(W / 2, H / 2, |_, _| image::Luma([(r2.f() * 255.0) as u8]));
        let n = image::imageops::blur(&n, 1.2);
        image::imageops::resize(&n, W, H, image::imageops::FilterType::Triangle)
    };
    let stains: Vec<(f32, f32, f32, f32)> = (0..7)
        .map(|_| {
            (
                rng.range(0.0, W as f32),
                rng.range(0.0, H as f32),
                rng.range(80.0, 400.0),
                rng.range(0.04, 0.12),
            )
        })
        .collect();
    let mut noise = Rng(4242);
    let scan = RgbImage::from_fn(W, H, |x, y| {
        let (fx, fy) = (x as f32 / W as f32, y as f32 / H as f32);
        let light = 0.84 + 0.16 * (1.0 - (fx - 0.35).abs())
            - 0.07 * fy
            - 0.05 * (fx * 9.0).sin().abs() * fy;
        let mut stain = 0.0;
        for &(sx, sy, r, a) in &stains {
            let d2 = ((x as f32 - sx).powi(2) + (y as f32 - sy).powi(2)) / (r * r);
            if d2 < 9.0 {
                stain += a * (-d2).exp();
            }
        }
        let fib = (fibres.get_pixel(x, y).0[0] as f32 - 128.0) / 128.0 * 0.035;
        let paper = [
            234.0 * light * (1.0 - 0.5 * stain + fib),
            219.0 * light * (1.0 - 1.0 * stain + fib),
            176.0 * light * (1.0 - 1.8 * stain + fib),
        ];
        let t = truth.get_pixel(x, y).0;
        let mut px = [0u8; 3];
        for c in 0..3 {
            let n = (noise.f() + noise.f() - 1.0) * 5.0;
            px[c] = (paper[c] * t[c] as f32 / 255.0 + n)
                .round()
                .clamp(0.0, 255.0) as u8;
        }
        image::Rgb(px)
    });
    (scan, truth)
}
