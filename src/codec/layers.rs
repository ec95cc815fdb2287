//! Mixed raster content (MRC) for case PDFs: a colour or grey page split
//! into three layers that each compress well, the way DjVu and scanner PDF
//! tools do it.
//!
//! 1. The ink mask, bilevel (Sauvola on the luminance, plus clearly
//!    coloured pixels so stamps and coloured ink are in even where they
//!    are light), CCITT G4: the crisp edges of text. It is drawn at a finer
//!    resolution than the page's (`mask_dpi`): the threshold margins are
//!    interpolated and cut at zero, so edges fall between the pixels where
//!    the grey says they are and letters are not staircased when zoomed.
//! 2. The background at about 1/3 of the resolution, with the ink and its
//!    halo taken out and the holes filled from the paper around them, JPEG
//!    at a low quality: paper, faint strokes the mask did not take, photos.
//! 3. The ink colour at about 1/8 of the resolution: per cell the colour of
//!    the mask's pixels (darker pixels weigh more, so the stroke's core and
//!    not its anti-aliased edge sets it), spread into the cells without ink
//!    so the image is smooth, JPEG. The PDF paints it through the mask.
//!
//! On a flattened register page nearly all the bytes are the mask's; JPEG
//! alone spends them on ink edges at every quality.
//!
//! Why by hand: no maintained Rust crate does MRC; the parts (Sauvola, G4,
//! JPEG) are the project's own or crates already used.
//!
//! Pure pixel code: takes pixels, returns bytes; never touches files, never
//! panics on any size. Deterministic: the same pixels give the same bytes.

use image::{DynamicImage, GrayImage};

use super::encode::EncodeError;
use super::{g4tiff, jpeg};
use crate::imaging::border;
use crate::imaging::sauvola::{self, SauvolaParams};

/// Settings of the split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerParams {
    /// Sauvola sensitivity of the mask (lower takes fainter strokes).
    pub k: f32,
    /// Sauvola window side, millimetres.
    pub window_mm: f32,
    /// Pixels with at least this chroma (max - min of R, G, B) and a
    /// luminance under `colour_ceiling` are ink whatever Sauvola says.
    pub colour_chroma: u8,
    pub colour_ceiling: u8,
    /// Resolution of the mask, dpi; at or under the page's, the page's.
    pub mask_dpi: f32,
    /// Target resolutions of the background and foreground, dpi.
    pub bg_dpi: f32,
    pub fg_dpi: f32,
    /// JPEG qualities (luma, chroma) of the background and the foreground.
    pub bg_quality: (u8, u8),
    pub fg_quality: (u8, u8),
}

impl Default for LayerParams {
    fn default() -> Self {
        LayerParams {
            k: 0.2,
            window_mm: 4.0,
            colour_chroma: 60,
            colour_ceiling: 235,
            mask_dpi: 300.0,
            bg_dpi: 67.0,
            fg_dpi: 25.0,
            bg_quality: (30, 20),
            fg_quality: (40, 30),
        }
    }
}

/// A layer's pixels before compression: `channels` 1 (grey) or 3 (RGB).
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub pixels: Vec<u8>,
}

/// A page split into its layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The page's size in pixels.
    pub width: u32,
    pub height: u32,
    /// Ink mask at `mask_dpi` (never smaller than the page): 0 ink, 255
    /// not ink.
    pub mask: GrayImage,
    pub background: Plane,
    pub foreground: Plane,
}

/// A JPEG-compressed layer.
#[derive(Debug, Clone, PartialEq)]
pub struct JpegLayer {
    pub width: u32,
    pub height: u32,
    /// 1 grey, 3 colour.
    pub components: u8,
    pub bytes: Vec<u8>,
}

/// A compressed layered page, as it goes into a PDF.
#[derive(Debug, Clone, PartialEq)]
pub struct Layered {
    /// Painted over the whole page first.
    pub background: JpegLayer,
    /// Painted over the whole page through the mask.
    pub foreground: JpegLayer,
    /// The mask, CCITT G4 (K=-1), ink coded black, BlackIs1 false: ink
    /// decodes to 0, which a PDF image mask paints.
    pub mask_g4: Vec<u8>,
    /// The mask's size in pixels (at least the page's, see `mask_dpi`).
    pub mask_width: u32,
    pub mask_height: u32,
}

impl Layered {
    pub fn len(&self) -> usize {
        self.background.bytes.len() + self.foreground.bytes.len() + self.mask_g4.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Luminance the way `image` converts RGB to grey (Rec. 709 weights).
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((2126 * r as u32 + 7152 * g as u32 + 722 * b as u32 + 5000) / 10000) as u8
}

/// Reduction factor from `dpi` to about `target` dpi (at least 1).
fn factor(dpi: f32, target: f32) -> usize {
    let dpi = if dpi.is_finite() && dpi > 0.0 {
        dpi
    } else {
        300.0
    };
    (dpi / target.max(1.0)).round().clamp(1.0, 64.0) as usize
}

/// Splits a page into mask, background and foreground. Grey images give
/// grey layers, everything else RGB.
pub fn split(image: &DynamicImage, dpi: f32, p: &LayerParams) -> Split {
    let grey_source = matches!(
        image,
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA8(_)
    );
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (px, channels) = if grey_source {
        (image.to_luma8().into_raw(), 1usize)
    } else {
        (image.to_rgb8().into_raw(), 3usize)
    };
    let lum: Vec<u8> = if channels == 1 {
        px.clone()
    } else {
        px.chunks_exact(3).map(|c| luma(c[0], c[1], c[2])).collect()
    };
    let gray = GrayImage::from_raw(w as u32, h as u32, lum).unwrap_or_default();
    let sp = SauvolaParams::for_dpi(dpi, p.k, p.window_mm);
    let mut ink: Vec<bool> = sauvola::sauvola(&gray, &sp)
        .as_raw()
        .iter()
        .map(|&v| v < 128)
        .collect();
    if channels == 3 {
        for ((i, c), &l) in ink.iter_mut().zip(px.chunks_exact(3)).zip(gray.as_raw()) {
            let chroma = c[0].max(c[1]).max(c[2]) - c[0].min(c[1]).min(c[2]);
            if chroma >= p.colour_chroma && l < p.colour_ceiling {
                *i = true;
            }
        }
    }
    let margins = edge_margins(gray.as_raw(), &ink, w, h);
    let mask = upsample_mask(&margins, w, h, dpi, p.mask_dpi);

    // Background: every pixel away from ink (the halo too, where JPEG and
    // optics smear the stroke), averaged per cell, holes filled.
    let halo = ((dpi / 150.0).round() as usize).clamp(1, 4);
    let near_ink = border::dilate(&ink, w, h, halo);
    let bf = factor(dpi, p.bg_dpi);
    let background = reduce(&px, channels, w, h, bf, |i| if near_ink[i] { 0 } else { 1 });
    // Foreground: the colour of the ink, darker pixels weighing more.
    let ff = factor(dpi, p.fg_dpi);
    let lum = gray.as_raw();
    let foreground = reduce(&px, channels, w, h, ff, |i| {
        if ink[i] {
            (256 - lum[i] as u32).pow(2)
        } else {
            0
        }
    });
    Split {
        width: w as u32,
        height: h as u32,
        mask,
        background,
        foreground,
    }
}

/// Where each pixel lies against the edge of the ink, for drawing the
/// edge between pixels: the sign is the binarisation's (negative is ink,
/// never 0), the size how far the grey lies from the midpoint of the
/// darkest and lightest pixel within 2 pixels, the level an anti-aliased
/// edge crosses where the stroke really ends. (Sauvola's threshold sits
/// well above that midpoint, so interpolating against it would fatten
/// every stroke.) Inside a stroke or on open paper the size is 1.
fn edge_margins(gray: &[u8], ink: &[bool], w: usize, h: usize) -> Vec<i16> {
    let lo = extreme(gray, w, h, 2, u8::min);
    let hi = extreme(gray, w, h, 2, u8::max);
    gray.iter()
        .zip(ink)
        .zip(lo.iter().zip(&hi))
        .map(|((&v, &ink), (&lo, &hi))| {
            let m = 2 * v as i16 - lo as i16 - hi as i16;
            if ink {
                m.min(-1)
            } else {
                m.max(1)
            }
        })
        .collect()
}

/// Minimum or maximum (`pick`) over the (2r+1)x(2r+1) square around each
/// pixel, clipped to the page: a pass along the rows, then the columns.
fn extreme(px: &[u8], w: usize, h: usize, r: usize, pick: impl Fn(u8, u8) -> u8) -> Vec<u8> {
    if w == 0 || px.len() < w * h {
        return px.to_vec();
    }
    let mut rows = vec![0u8; px.len()];
    for (src, dst) in px.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        for (x, d) in dst.iter_mut().enumerate() {
            let window = &src[x.saturating_sub(r)..(x + r + 1).min(w)];
            *d = window.iter().fold(src[x], |a, &b| pick(a, b));
        }
    }
    let mut out = rows.clone();
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let dst = &mut out[y * w..(y + 1) * w];
        for yy in y0..y1 {
            for (d, &s) in dst.iter_mut().zip(&rows[yy * w..(yy + 1) * w]) {
                *d = pick(*d, s);
            }
        }
    }
    out
}

/// The mask at `mask_dpi` from the margins at `dpi` (negative is ink):
/// bilinear interpolation of the margins, ink where the result is
/// negative, so a stroke's edge runs where the grey crosses its threshold
/// and not along pixel borders. At the page's resolution (or finer pages)
/// simply the sign.
fn upsample_mask(margins: &[i16], w: usize, h: usize, dpi: f32, mask_dpi: f32) -> GrayImage {
    // Finer by at most 4, and never wider than G4 allows.
    let cap = (g4tiff::MAX_WIDTH as f32 / w.max(1) as f32).min(65_535.0 / h.max(1) as f32);
    let scale = if dpi.is_finite() && dpi > 0.0 && mask_dpi.is_finite() {
        (mask_dpi / dpi).clamp(1.0, 4.0).min(cap)
    } else {
        1.0
    };
    let (mw, mh) = if scale < 1.01 {
        (w, h)
    } else {
        (
            ((w as f32 * scale).round() as usize).max(w),
            ((h as f32 * scale).round() as usize).max(h),
        )
    };
    if (mw, mh) == (w, h) {
        let px = margins
            .iter()
            .map(|&m| if m < 0 { 0 } else { 255 })
            .collect();
        return GrayImage::from_raw(w as u32, h as u32, px).unwrap_or_default();
    }
    // Source position of a mask pixel's centre, as a cell and a weight in
    // 1/256ths of the next one.
    let taps = |n: usize, from: usize| -> Vec<(usize, usize, i32)> {
        (0..n)
            .map(|i| {
                let s = ((i as f32 + 0.5) * from as f32 / n as f32 - 0.5).max(0.0);
                let i0 = (s as usize).min(from - 1);
                let f = ((s - i0 as f32) * 256.0).round() as i32;
                (i0, (i0 + 1).min(from - 1), f.clamp(0, 256))
            })
            .collect()
    };
    let (xs, ys) = (taps(mw, w), taps(mh, h));
    let mut out = vec![255u8; mw * mh];
    // |margin| <= 510, so times 2^16 stays inside i32.
    let mut row = vec![0i32; w];
    for (line, &(y0, y1, fy)) in out.chunks_exact_mut(mw).zip(&ys) {
        let (a, b) = (
            &margins[y0 * w..(y0 + 1) * w],
            &margins[y1 * w..(y1 + 1) * w],
        );
        for ((r, &a), &b) in row.iter_mut().zip(a).zip(b) {
            *r = a as i32 * (256 - fy) + b as i32 * fy;
        }
        for (o, &(x0, x1, fx)) in line.iter_mut().zip(&xs) {
            if row[x0] * (256 - fx) + row[x1] * fx < 0 {
                *o = 0;
            }
        }
    }
    GrayImage::from_raw(mw as u32, mh as u32, out).unwrap_or_default()
}

/// Weighted mean per `f`x`f` cell of the pixels with a weight, then cells
/// without any filled from the coarser levels of a pyramid (pull-push).
fn reduce(
    px: &[u8],
    channels: usize,
    w: usize,
    h: usize,
    f: usize,
    weight: impl Fn(usize) -> u32,
) -> Plane {
    let (cw, ch) = (w.div_ceil(f).max(1), h.div_ceil(f).max(1));
    let mut sums = vec![0u64; cw * ch * channels];
    let mut wts = vec![0u64; cw * ch];
    for y in 0..h {
        let cy = y / f;
        for x in 0..w {
            let i = y * w + x;
            let wt = weight(i);
            if wt == 0 {
                continue;
            }
            let c = cy * cw + x / f;
            wts[c] += wt as u64;
            for k in 0..channels {
                sums[c * channels + k] += wt as u64 * px[i * channels + k] as u64;
            }
        }
    }
    let pixels = pull_push(&sums, &wts, cw, ch, channels);
    Plane {
        width: cw as u32,
        height: ch as u32,
        channels: channels as u8,
        pixels,
    }
}

/// Fills cells of zero weight: the weighted means of a pyramid of 2x2
/// sums give every empty cell the mean of the nearest level that has
/// data above it. Cells without data anywhere (an empty page) are white.
fn pull_push(sums: &[u64], wts: &[u64], w: usize, h: usize, channels: usize) -> Vec<u8> {
    // Pull: coarser levels of sums.
    let mut levels: Vec<(usize, usize, Vec<u64>, Vec<u64>)> =
        vec![(w, h, sums.to_vec(), wts.to_vec())];
    while let Some((lw, lh, ls, lwt)) = levels.last() {
        if *lw <= 1 && *lh <= 1 {
            break;
        }
        let (nw, nh) = (lw.div_ceil(2), lh.div_ceil(2));
        let mut ns = vec![0u64; nw * nh * channels];
        let mut nwt = vec![0u64; nw * nh];
        for y in 0..*lh {
            for x in 0..*lw {
                let (s, d) = (y * lw + x, (y / 2) * nw + x / 2);
                nwt[d] += lwt[s];
                for k in 0..channels {
                    ns[d * channels + k] += ls[s * channels + k];
                }
            }
        }
        levels.push((nw, nh, ns, nwt));
    }
    // Push: from the coarsest level down, each level's means, empty cells
    // taking their parent's.
    let mut parent: Vec<u8> = Vec::new();
    let mut parent_w = 0;
    for (lw, lh, ls, lwt) in levels.iter().rev() {
        let mut out = vec![255u8; lw * lh * channels];
        for y in 0..*lh {
            for x in 0..*lw {
                let c = y * lw + x;
                for k in 0..channels {
                    let mean = ls[c * channels + k]
                        .checked_add(lwt[c] / 2)
                        .and_then(|v| v.checked_div(lwt[c]));
                    out[c * channels + k] = match mean {
                        Some(v) => v.min(255) as u8,
                        None if parent.is_empty() => 255,
                        None => parent[((y / 2) * parent_w + x / 2) * channels + k],
                    };
                }
            }
        }
        parent = out;
        parent_w = *lw;
    }
    parent
}

/// Compresses the layers of a page at `dpi`.
pub fn compress(s: &Split, dpi: f32, p: &LayerParams) -> Result<Layered, EncodeError> {
    let (mw, mh) = s.mask.dimensions();
    let mask_dpi = dpi * mw as f32 / s.width.max(1) as f32;
    let mask = g4tiff::encode_g4(&s.mask, mask_dpi)?;
    let layer = |pl: &Plane, (q, cq): (u8, u8)| -> Result<JpegLayer, EncodeError> {
        let settings = jpeg::JpegSettings {
            quality: q,
            chroma_quality: cq,
            optimize: true,
            progressive: false,
        };
        let ldpi = dpi * pl.width as f32 / s.width.max(1) as f32;
        Ok(JpegLayer {
            width: pl.width,
            height: pl.height,
            components: pl.channels,
            bytes: jpeg::encode_with(
                &pl.pixels,
                pl.width,
                pl.height,
                pl.channels,
                &settings,
                ldpi,
            )?,
        })
    };
    Ok(Layered {
        background: layer(&s.background, p.bg_quality)?,
        foreground: layer(&s.foreground, p.fg_quality)?,
        mask_g4: mask.data,
        mask_width: mw,
        mask_height: mh,
    })
}

/// Splits and compresses a page.
pub fn build(image: &DynamicImage, dpi: f32, p: &LayerParams) -> Result<Layered, EncodeError> {
    if image.width() == 0 || image.height() == 0 {
        return Err(EncodeError::new("the page has no pixels"));
    }
    compress(&split(image, dpi, p), dpi, p)
}

/// Paints the layers back into pixels at the mask's size, the way a PDF
/// reader does without interpolation (each low-resolution pixel covers its
/// cell): for measurements and tests.
pub fn compose(s: &Split) -> DynamicImage {
    let (w, h) = s.mask.dimensions();
    let c = s.background.channels as usize;
    let sample = |pl: &Plane, x: u32, y: u32, k: usize| {
        let px = ((x as u64 * pl.width as u64) / w.max(1) as u64) as usize;
        let py = ((y as u64 * pl.height as u64) / h.max(1) as u64) as usize;
        pl.pixels
            .get((py * pl.width as usize + px) * c + k)
            .copied()
            .unwrap_or(255)
    };
    let mut out = vec![0u8; w as usize * h as usize * c];
    for y in 0..h {
        for x in 0..w {
            let ink = s.mask.get_pixel(x, y).0[0] < 128;
            let layer = if ink { &s.foreground } else { &s.background };
            for k in 0..c {
                out[(y as usize * w as usize + x as usize) * c + k] = sample(layer, x, y, k);
            }
        }
    }
    if c == 1 {
        DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, out).unwrap_or_default())
    } else {
        DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, out).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb, RgbImage};

    /// Cream paper, black print, blue handwriting, a red stamp.
    fn page() -> RgbImage {
        RgbImage::from_fn(600, 400, |x, y| {
            let d = ((x as f32 - 450.0).powi(2) + (y as f32 - 250.0).powi(2)).sqrt();
            if (d - 80.0).abs() < 5.0 {
                Rgb([200, 40, 40])
            } else if (40..44).contains(&(y % 60)) && x < 300 {
                Rgb([20, 20, 20])
            } else if (y % 50) < 3 && (300..420).contains(&x) {
                Rgb([35, 50, 160])
            } else {
                Rgb([250, 248, 240])
            }
        })
    }

    #[test]
    fn ink_is_in_the_mask_with_its_colour_and_paper_is_not() {
        let img = DynamicImage::ImageRgb8(page());
        let s = split(&img, 200.0, &LayerParams::default());
        // The mask at 300 dpi: page pixel (x, y) is mask pixel 1.5 (x, y).
        assert_eq!(s.mask.dimensions(), (900, 600));
        let at = |x: u32, y: u32| (x * 3 / 2 + 1, y * 3 / 2 + 1);
        let ink = |x, y| {
            let (x, y) = at(x, y);
            s.mask.get_pixel(x, y).0[0] == 0
        };
        assert!(ink(100, 41), "print");
        assert!(ink(350, 101), "blue ink");
        assert!(ink(530, 250), "stamp");
        assert!(!ink(100, 20) && !ink(350, 120), "paper");
        let back = compose(&s).to_rgb8();
        let px = |x, y| {
            let (x, y) = at(x, y);
            back.get_pixel(x, y).0
        };
        let [r, g, b] = px(530, 250);
        assert!(r > 150 && g < 90 && b < 90, "stamp {:?}", px(530, 250));
        let [r, g, b] = px(350, 101);
        assert!(b > 120 && r < 80 && g < 90, "blue {:?}", px(350, 101));
        assert!(px(100, 41).iter().all(|&v| v < 60), "{:?}", px(100, 41));
        // Paper between the lines keeps the paper colour, no ink ghost.
        for (x, y) in [(100, 20), (350, 120), (450, 250)] {
            let p = px(x, y);
            assert!(p[0] > 235 && p[1] > 235 && p[2] > 225, "({x},{y}) {:?}", p);
        }
        // Reductions: 200 dpi -> 3 and 8.
        assert_eq!((s.background.width, s.background.height), (200, 134));
        assert_eq!((s.foreground.width, s.foreground.height), (75, 50));
    }

    /// A dark disc of radius `r` with anti-aliased edges (the pixel's
    /// coverage, from 8x8 samples) on light paper.
    fn disc(size: u32, r: f32) -> GrayImage {
        let c = size as f32 / 2.0;
        GrayImage::from_fn(size, size, |x, y| {
            let mut inside = 0;
            for sy in 0..8 {
                for sx in 0..8 {
                    let dx = x as f32 + (sx as f32 + 0.5) / 8.0 - c;
                    let dy = y as f32 + (sy as f32 + 0.5) / 8.0 - c;
                    inside += (dx * dx + dy * dy <= r * r) as u32;
                }
            }
            Luma([(240 - (240 - 30) * inside / 64) as u8])
        })
    }

    #[test]
    fn the_fine_mask_follows_the_true_edge_between_pixels() {
        // Radius 20.3 page pixels; the mask at twice the resolution.
        let (size, r) = (64u32, 20.3f32);
        let img = DynamicImage::ImageLuma8(disc(size, r));
        let p = LayerParams {
            mask_dpi: 400.0,
            ..LayerParams::default()
        };
        let s = split(&img, 200.0, &p);
        assert_eq!(s.mask.dimensions(), (2 * size, 2 * size));
        // Every edge pixel of the fine mask (ink with a paper neighbour)
        // lies on the true circle, in mask pixels, within 0.75 (0.6 here);
        // a mask enlarged from the page's pixels is off by 1.04.
        let c = size as f32;
        let (mut worst, mut n) = (0f32, 0);
        let ink = |x: u32, y: u32| s.mask.get_pixel(x, y).0[0] == 0;
        for y in 1..2 * size - 1 {
            for x in 1..2 * size - 1 {
                if ink(x, y)
                    && [(0, 1), (2, 1), (1, 0), (1, 2)]
                        .iter()
                        .any(|&(dx, dy)| !ink(x + dx - 1, y + dy - 1))
                {
                    let (dx, dy) = (x as f32 + 0.5 - c, y as f32 + 0.5 - c);
                    // Edge pixels sit just inside the circle: half a pixel.
                    let off = (dx.hypot(dy) + 0.5 - 2.0 * r).abs();
                    worst = worst.max(off);
                    n += 1;
                }
            }
        }
        assert!(n > 150, "{n} edge pixels");
        assert!(worst < 0.75, "edge off the circle by {worst} mask pixels");
        // The ink area is the disc's, within 2 %.
        let area = s.mask.as_raw().iter().filter(|&&v| v == 0).count() as f32;
        let want = std::f32::consts::PI * (2.0 * r).powi(2);
        assert!((area / want - 1.0).abs() < 0.02, "{area} vs {want}");
    }

    #[test]
    fn grey_pages_give_grey_layers_and_compress() {
        let img = DynamicImage::ImageLuma8(GrayImage::from_fn(300, 200, |x, y| {
            Luma([if (y % 20) < 3 && x > 30 { 30 } else { 245 }])
        }));
        let p = LayerParams::default();
        let s = split(&img, 150.0, &p);
        assert_eq!((s.background.channels, s.foreground.channels), (1, 1));
        let l = compress(&s, 150.0, &p).unwrap();
        assert_eq!(l.background.components, 1);
        assert_eq!(
            jpeg::info(&l.foreground.bytes).map(|i| (i.width, i.height)),
            Some((s.foreground.width, s.foreground.height))
        );
        // Same pixels, same bytes.
        assert_eq!(build(&img, 150.0, &p).unwrap(), l);
    }

    #[test]
    fn fill_spreads_known_cells_and_an_empty_page_is_white() {
        let sums = [0u64, 0, 0, 0, 40 * 2, 0, 0, 0, 0];
        let wts = [0u64, 0, 0, 0, 2, 0, 0, 0, 0];
        let out = pull_push(&sums, &wts, 3, 3, 1);
        assert_eq!(out, vec![40; 9]);
        assert_eq!(pull_push(&[0; 6], &[0; 2], 2, 1, 3), vec![255; 6]);
    }

    #[test]
    fn degenerate_pages_do_not_panic() {
        let p = LayerParams::default();
        for (w, h) in [(1, 1), (1, 9), (9, 1), (7, 5)] {
            let img = DynamicImage::ImageRgb8(RgbImage::new(w, h));
            let l = build(&img, 200.0, &p).unwrap();
            assert!(!l.is_empty());
            build(&img, f32::NAN, &p).unwrap();
        }
        assert!(build(&DynamicImage::ImageRgb8(RgbImage::new(0, 0)), 200.0, &p).is_err());
    }
}
