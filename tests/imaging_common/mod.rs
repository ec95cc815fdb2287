//! Shared helpers for the imaging tests (included with `mod`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use image::DynamicImage;

pub fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(name)
}

/// Loads a corpus page and its resolution.
pub fn load(name: &str) -> (DynamicImage, f32) {
    let bytes = std::fs::read(corpus(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let frame = sohoa::codec::decode(&bytes).expect("decode").remove(0);
    let dpi = frame.dpi.unwrap_or(300.0);
    (fix_inverted(frame.image), dpi)
}

/// The codec currently decodes G4 WhiteIsZero TIFFs inverted; a bilevel
/// page that is mostly black is such a page. (No-op once that is fixed.)
pub fn fix_inverted(img: DynamicImage) -> DynamicImage {
    if let DynamicImage::ImageLuma8(mut g) = img {
        let raw = g.as_raw();
        let bilevel = raw.iter().all(|&v| v == 0 || v == 255);
        let black = raw.iter().filter(|&&v| v == 0).count();
        if bilevel && black * 2 > raw.len() {
            image::imageops::invert(&mut g);
        }
        DynamicImage::ImageLuma8(g)
    } else {
        img
    }
}

/// Median colour of the outermost pixels.
pub fn edge_colour(img: &DynamicImage) -> [u8; 3] {
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    let mut ch: [Vec<u8>; 3] = Default::default();
    for (x, y, p) in rgb.enumerate_pixels() {
        if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
            for k in 0..3 {
                ch[k].push(p.0[k]);
            }
        }
    }
    let mut out = [0u8; 3];
    for k in 0..3 {
        ch[k].sort_unstable();
        out[k] = ch[k][ch[k].len() / 2];
    }
    out
}

/// Whether a system tool runs. Missing: skip loudly, or fail under CI=true.
pub fn have_tool(tool: &str, package: &str) -> bool {
    let ok = std::process::Command::new(tool)
        .arg("-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("`{tool}` is missing: install the Debian package {package}");
        }
        eprintln!("SKIPPED: `{tool}` is missing (Debian package {package})");
    }
    ok
}
