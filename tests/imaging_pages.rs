//! Orientation, border crop and blank pages on real and built pages.

mod imaging_common;
use imaging_common::*;

use image::{DynamicImage, GrayImage, Luma, Rgb, RgbImage};
use sohoa::imaging::{self, rotate, ImagingConfig};

#[test]
fn quarter_turned_pages_come_back_upright() {
    let cfg = ImagingConfig::default();
    for name in ["lucasta.1.300.tif", "feyn.tif"] {
        let (img, dpi) = load(name);
        let base = imaging::analyze_image(&img, &cfg, dpi);
        assert_eq!(base.orientation, 0, "{name} upright");
        for (turned, need) in [
            (img.rotate90(), 270),
            (img.rotate180(), 180),
            (img.rotate270(), 90),
        ] {
            let a = imaging::analyze_image(&turned, &cfg, dpi);
            assert_eq!(a.orientation, need, "{name}: {a:?}");
            let (fixed, _) = imaging::correct(turned, &a, &cfg);
            assert_eq!(
                fixed.width() > fixed.height(),
                img.width() > img.height(),
                "{name}"
            );
        }
    }
}

/// A blank sheet: paper with texture and a gentle light gradient.
fn paper(w: u32, h: u32) -> GrayImage {
    let mut seed = 12345u32;
    GrayImage::from_fn(w, h, |x, y| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = (seed >> 24) as i32 % 13 - 6;
        let grad = (x as i32 * 12 / w as i32) + (y as i32 * 8 / h as i32);
        Luma([(228 - grad + noise).clamp(0, 255) as u8])
    })
}

#[test]
fn blank_pages_with_texture_bleed_through_and_holes() {
    let cfg = ImagingConfig::default();
    let (w, h) = (1240, 1754); // A4 at 150 dpi
    let dpi = 150.0;
    let mut cases: Vec<(&str, GrayImage)> = vec![("texture", paper(w, h))];

    // Bleed-through: a mirrored text page showing faintly through.
    let (text, _) = load("lucasta.1.300.tif");
    let ghost = image::imageops::blur(&text.to_luma8(), 1.5);
    let ghost = image::imageops::resize(
        &image::imageops::flip_horizontal(&ghost),
        w - 200,
        h - 300,
        image::imageops::FilterType::Triangle,
    );
    let mut bleed = paper(w, h);
    for (x, y, p) in ghost.enumerate_pixels() {
        let q = bleed.get_pixel_mut(x + 100, y + 150);
        let dark = (255 - p.0[0] as i32) * 30 / 255; // at most 30 levels darker
        q.0[0] = (q.0[0] as i32 - dark).max(0) as u8;
    }
    cases.push(("bleed-through", bleed));

    // Punch holes (6 mm, black backing behind them) near the left edge.
    let mut holes = paper(w, h);
    let r = (3.0 / 25.4 * dpi) as i32;
    for cy in [h as i32 / 3, 2 * h as i32 / 3] {
        let cx = (12.0 / 25.4 * dpi) as i32;
        for y in cy - r..=cy + r {
            for x in cx - r..=cx + r {
                if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                    holes.put_pixel(x as u32, y as u32, Luma([12]));
                }
            }
        }
    }
    cases.push(("punch holes", holes.clone()));

    // The same sheet on black ADF backing, fed crooked.
    let mut adf = GrayImage::from_pixel(w + 160, h + 160, Luma([15]));
    image::imageops::overlay(&mut adf, &holes, 80, 80);
    let adf = rotate::rotate(DynamicImage::ImageLuma8(adf), 3.0, [15; 3]);
    cases.push(("on black backing", adf.to_luma8()));

    for (what, page) in cases {
        let img = DynamicImage::ImageLuma8(page);
        let a = imaging::analyze_image(&img, &cfg, dpi);
        assert!(a.blank, "{what}: {a:?}");
        assert!(a.ink < 0.0005, "{what}: ink {}", a.ink);
        assert!(!a.rotate, "{what}: blank pages are never rotated");
        let (_, rotated) = imaging::correct(img, &a, &cfg);
        assert!(!rotated, "{what}");
    }

    // A real text page is not blank.
    let (page, dpi) = load("lucasta.1.300.tif");
    let a = imaging::analyze_image(&page, &cfg, dpi);
    assert!(!a.blank && a.ink > 0.01, "{a:?}");
}

#[test]
fn page_on_black_backing_is_cropped_to_its_edge() {
    let cfg = ImagingConfig::default();
    let (page, dpi) = load("lucasta.1.300.tif");
    let (pw, ph) = (page.width(), page.height());
    let pad = 150;
    let mut canvas = RgbImage::from_pixel(pw + 2 * pad, ph + 2 * pad, Rgb([10, 10, 10]));
    image::imageops::overlay(&mut canvas, &page.to_rgb8(), pad as i64, pad as i64);
    let fed = rotate::rotate(DynamicImage::ImageRgb8(canvas), -4.0, [10; 3]);
    let a = imaging::analyze_image(&fed, &cfg, dpi);
    assert!(a.rotate && (a.skew_deg - 4.0).abs() < 0.5, "{a:?}");
    let margin = cfg.crop_margin_mm / 25.4 * dpi;
    let [_, _, w, h] = a.crop;
    // The page plus the margin each side, within a few coarse pixels.
    let tol = 12.0;
    assert!(
        (w as f32 - (pw as f32 + 2.0 * margin)).abs() < tol,
        "width {w} vs page {pw}: {a:?}"
    );
    assert!(
        (h as f32 - (ph as f32 + 2.0 * margin)).abs() < tol,
        "height {h} vs page {ph}: {a:?}"
    );
    let (out, rotated) = imaging::correct(fed, &a, &cfg);
    assert!(rotated);
    assert_eq!((out.width(), out.height()), (w, h));
    // Inside the margin the output is page, not backing: sample the middle
    // of each side just inside the page edge.
    let g = out.to_luma8();
    let m = margin as u32 + 6;
    for (x, y) in [
        (m, h / 2),
        (w - 1 - m, h / 2),
        (w / 2, m),
        (w / 2, h - 1 - m),
    ] {
        assert!(g.get_pixel(x, y).0[0] > 150, "backing left at {x},{y}");
    }
}

#[test]
fn dark_bordered_scans_lose_their_border_not_their_text() {
    let cfg = ImagingConfig::default();
    let no_crop = ImagingConfig {
        crop: false,
        ..cfg.clone()
    };
    for name in ["cat.007.jpg", "1555.003.jpg"] {
        let (img, dpi) = load(name);
        let a = imaging::analyze_image(&img, &cfg, dpi);
        let full = imaging::analyze_image(&img, &no_crop, dpi);
        let [x, y, w, h] = a.crop;
        let [_, _, fw, fh] = full.crop;
        assert!(
            x + w <= fw && y + h <= fh,
            "{name}: crop {:?} outside {:?}",
            a.crop,
            full.crop
        );
        // Never into content: the cropped page, analysed again, holds most
        // of the whole one's ink (the rest is dark book edge the whole page
        // counts as ink; the exact page-edge check is the backing test).
        let (cropped, _) = imaging::correct(img.clone(), &a, &cfg);
        let (whole, _) = imaging::correct(img, &full, &no_crop);
        let inked = |i: &DynamicImage| {
            let r = imaging::analyze_image(i, &no_crop, dpi);
            r.ink as f64 * i.width() as f64 * i.height() as f64
        };
        let (ic, iw) = (inked(&cropped), inked(&whole));
        assert!(ic > iw * 0.75, "{name}: ink {ic} after crop vs {iw}");
        let area = (w as f64 * h as f64) / (fw as f64 * fh as f64);
        assert!(area > 0.6, "{name}: crop keeps only {area:.2} of the page");
        assert_eq!((cropped.width(), cropped.height()), (w, h));
        assert_eq!((whole.width(), whole.height()), (fw, fh));
    }
    // cat.007 has a dark band down its left side: it must go.
    let (img, dpi) = load("cat.007.jpg");
    let a = imaging::analyze_image(&img, &cfg, dpi);
    let full = imaging::analyze_image(&img, &no_crop, dpi);
    assert!(
        a.crop[2] < full.crop[2] * 97 / 100,
        "{:?} vs {:?}",
        a.crop,
        full.crop
    );
}
