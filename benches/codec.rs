//! Codec benchmark: `cargo bench --bench codec`.
//!
//! 1. JPEG speed and size against libjpeg-turbo's `cjpeg` (Debian package
//!    libjpeg-turbo-progs), same pixels, same quality, same 4:2:0 baseline
//!    settings, in the same run; prints the ratios.
//! 2. Per page and per profile over `../shared/corpus` plus one A4 300 dpi
//!    colour "register" page made from a real scanned text page (feyn.tif)
//!    put on yellowed, unevenly lit paper with a red stamp and blue ink:
//!    stored bytes, the same scaled to an A4 page at the stored resolution,
//!    time, and PSNR of the decoded file against (a) the prepared page
//!    (codec loss only) and (b) the source luminance (includes the paper
//!    flattening, which changes the paper on purpose).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, Rgb, RgbImage};
use sohoa::codec::encode::{self, OutputConfig, PageKind, Profile};
use sohoa::codec::jpeg;
use sohoa::imaging::background::{self, NormalizeParams};
use sohoa::imaging::sauvola::{self, SauvolaParams};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

fn median_ms(mut f: impl FnMut(), runs: usize) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t[t.len() / 2]
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| {
            let d = *x as f64 - *y as f64;
            d * d
        })
        .sum::<f64>()
        / a.len().max(1) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// An A4 300 dpi colour register-like page from a real bilevel text scan.
fn register_page() -> Option<(RgbImage, f32)> {
    let bytes = std::fs::read(corpus().join("feyn.tif")).ok()?;
    let text = sohoa::codec::decode(&bytes)
        .ok()?
        .remove(0)
        .image
        .to_luma8();
    let (w, h) = (2480u32, 3508u32);
    // Soften the 1-bit text like a scanner's optics would.
    let text = image::imageops::blur(&text, 0.9);
    let mut seed = 12345u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed % 13) as f32 - 6.0
    };
    let img = RgbImage::from_fn(w, h, |x, y| {
        let light =
            0.82 + 0.18 * (1.0 - (x as f32 / w as f32 - 0.3).abs()) - 0.08 * (y as f32 / h as f32);
        let paper = [236.0 * light, 221.0 * light, 178.0 * light];
        let t = if x < text.width() && y < text.height() {
            text.get_pixel(x, y).0[0] as f32 / 255.0
        } else {
            1.0
        };
        let mut px = paper.map(|p| p * (0.12 + 0.88 * t));
        // Blue ballpoint "handwriting" lines in the lower part.
        let (fx, fy) = (x as f32, y as f32);
        if y > 2800
            && y < 3300
            && ((fy - 2820.0 - 18.0 * (fx / 37.0).sin()) % 90.0).abs() < 3.0
            && x > 200
            && x < 2200
        {
            px = [40.0, 55.0, 150.0];
        }
        // A red stamp ring.
        let d = ((fx - 1900.0).powi(2) + (fy - 3000.0).powi(2)).sqrt();
        if (d - 220.0).abs() < 14.0 || (d < 150.0 && (fx as u32 / 9 + fy as u32 / 9) % 4 == 0) {
            px = [px[0].max(190.0) * 0.95, px[1] * 0.35, px[2] * 0.35];
        }
        Rgb(px.map(|v| (v + noise()).clamp(0.0, 255.0) as u8))
    });
    Some((img, 300.0))
}

fn cjpeg_vs_ours(name: &str, img: &DynamicImage, quality: u8, dpi: f32) {
    let (w, h) = (img.width(), img.height());
    let grey = matches!(img, DynamicImage::ImageLuma8(_));
    let (px, channels) = if grey {
        (img.to_luma8().into_raw(), 1)
    } else {
        (img.to_rgb8().into_raw(), 3)
    };
    let tmp = std::env::temp_dir().join(format!("sohoa-bench-{}.pnm", std::process::id()));
    let mut pnm = format!("P{}\n{w} {h}\n255\n", if grey { 5 } else { 6 }).into_bytes();
    pnm.extend_from_slice(&px);
    if std::fs::write(&tmp, &pnm).is_err() {
        return;
    }
    let mut ours = Vec::new();
    let t_ours = median_ms(
        || ours = jpeg::encode(&px, w, h, channels, quality, dpi).unwrap(),
        7,
    );
    let mut theirs = Vec::new();
    let t_cjpeg = median_ms(
        || {
            let out = Command::new("cjpeg")
                .args(["-quality", &quality.to_string(), "-sample", "2x2"])
                .arg(&tmp)
                .output();
            match out {
                Ok(o) if o.status.success() => theirs = o.stdout,
                _ => {}
            }
        },
        7,
    );
    let _ = std::fs::remove_file(&tmp);
    if theirs.is_empty() {
        println!("{name}: cjpeg not available (Debian package libjpeg-turbo-progs); skipped");
        return;
    }
    let dec = |b: &[u8]| {
        let i = sohoa::codec::decode(b).unwrap().remove(0).image;
        if grey {
            i.to_luma8().into_raw()
        } else {
            i.to_rgb8().into_raw()
        }
    };
    println!(
        "{name:<26} {w:>5}x{h:<5} q{quality}  ours {t_ours:7.1} ms {:>8} B  PSNR {:5.2}   cjpeg {t_cjpeg:7.1} ms {:>8} B  PSNR {:5.2}   speed ours/cjpeg {:.2}x  size ours/cjpeg {:.3}",
        ours.len(),
        psnr(&dec(&ours), &px),
        theirs.len(),
        psnr(&dec(&theirs), &px),
        t_cjpeg / t_ours,
        ours.len() as f64 / theirs.len() as f64,
    );
}

fn profiles() -> Vec<(&'static str, OutputConfig)> {
    let base = OutputConfig::default();
    vec![
        (
            "colour",
            OutputConfig {
                profile: Profile::Colour,
                ..base.clone()
            },
        ),
        (
            "colour raw",
            OutputConfig {
                profile: Profile::Colour,
                normalize_background: false,
                ..base.clone()
            },
        ),
        (
            "colour@200",
            OutputConfig {
                profile: Profile::Colour,
                storage_dpi: 200,
                ..base.clone()
            },
        ),
        (
            "grey",
            OutputConfig {
                profile: Profile::Grey,
                ..base.clone()
            },
        ),
        (
            "grey@200",
            OutputConfig {
                profile: Profile::Grey,
                storage_dpi: 200,
                ..base.clone()
            },
        ),
        (
            "bilevel",
            OutputConfig {
                profile: Profile::Bilevel,
                ..base.clone()
            },
        ),
        ("auto", base.clone()),
        (
            "auto@200",
            OutputConfig {
                storage_dpi: 200,
                ..base
            },
        ),
    ]
}

fn profile_table(pages: &[(String, DynamicImage, f32)]) {
    println!(
        "\n{:<26} {:<11} {:<7} {:>11} {:>4} {:>9} {:>8} {:>8} {:>9} {:>9}",
        "page", "profile", "stored", "size", "dpi", "bytes", "KB/A4", "ms", "PSNRcodec", "PSNRsrc"
    );
    for (name, img, dpi) in pages {
        for (pname, cfg) in profiles() {
            let mut prepared = None;
            let mut enc = None;
            let ms = median_ms(
                || {
                    let p = encode::prepare(img, *dpi, &cfg).unwrap();
                    enc = Some(encode::compress(&p, &cfg).unwrap());
                    prepared = Some(p);
                },
                3,
            );
            let (Some(p), Some(e)) = (prepared, enc) else {
                continue;
            };
            let decoded = sohoa::codec::decode(&e.bytes).unwrap().remove(0).image;
            let codec_psnr = match p.kind {
                PageKind::Colour => psnr(decoded.to_rgb8().as_raw(), p.image.to_rgb8().as_raw()),
                _ => psnr(decoded.to_luma8().as_raw(), p.image.to_luma8().as_raw()),
            };
            let src_l = if (e.width, e.height) != (img.width(), img.height()) {
                img.resize_exact(e.width, e.height, FilterType::Triangle)
                    .to_luma8()
            } else {
                img.to_luma8()
            };
            let src_psnr = psnr(decoded.to_luma8().as_raw(), src_l.as_raw());
            let a4 = 8.27 * 11.69 * (e.dpi as f64).powi(2);
            let kb_a4 = e.bytes.len() as f64 / 1024.0 * a4 / (e.width as f64 * e.height as f64);
            println!(
                "{name:<26} {pname:<11} {:<7} {:>11} {:>4} {:>9} {:>8.1} {:>8.1} {:>9.2} {:>9.2}",
                format!("{:?}", e.kind).to_lowercase(),
                format!("{}x{}", e.width, e.height),
                e.dpi,
                e.bytes.len(),
                kb_a4,
                ms,
                codec_psnr,
                src_psnr,
            );
        }
    }
}

fn main() {
    let mut pages: Vec<(String, DynamicImage, f32)> = Vec::new();
    if let Some((img, dpi)) = register_page() {
        pages.push((
            "register-A4-300 (synth)".into(),
            DynamicImage::ImageRgb8(img),
            dpi,
        ));
    }
    let mut names: Vec<_> = std::fs::read_dir(corpus())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for n in names.iter().filter(|n| !n.ends_with(".md")) {
        let Ok(bytes) = std::fs::read(corpus().join(n)) else {
            continue;
        };
        let Ok(mut frames) = sohoa::codec::decode(&bytes) else {
            continue;
        };
        let f = frames.remove(0);
        // The corpus's two JPEGs carry no resolution; they are ~150 dpi scans.
        let dpi = f.dpi.unwrap_or(150.0);
        pages.push((n.clone(), f.image, dpi));
    }
    if pages.is_empty() {
        println!("no corpus at {}; nothing to measure", corpus().display());
        return;
    }

    println!("== JPEG: jpeg-encoder (ours) vs libjpeg-turbo cjpeg, same pixels, quality 75, 4:2:0 baseline ==");
    for (name, img, dpi) in &pages {
        if name.starts_with("register") || name.ends_with(".jpg") || name.contains("imgsrc003") {
            cjpeg_vs_ours(name, &DynamicImage::ImageRgb8(img.to_rgb8()), 75, *dpi);
            cjpeg_vs_ours(
                &format!("{name} (grey)"),
                &DynamicImage::ImageLuma8(img.to_luma8()),
                75,
                *dpi,
            );
        }
    }

    if let Some((name, img, dpi)) = pages.first() {
        let rgb = img.to_rgb8();
        let g: GrayImage = img.to_luma8();
        let p = NormalizeParams::default();
        let t_norm = median_ms(|| drop(background::normalize_rgb(&rgb, *dpi, &p)), 5);
        let t_normg = median_ms(|| drop(background::normalize_gray(&g, *dpi, &p)), 5);
        let s = SauvolaParams::for_dpi(*dpi, 0.2, 4.0);
        let t_sauv = median_ms(|| drop(sauvola::sauvola(&g, &s)), 5);
        let bits = sauvola::sauvola(&g, &s);
        let t_g4 = median_ms(
            || drop(sohoa::codec::g4tiff::encode_g4(&bits, *dpi).unwrap()),
            5,
        );
        println!(
            "\n== steps on {name} ({}x{}): normalise colour {t_norm:.1} ms, normalise grey {t_normg:.1} ms, Sauvola {t_sauv:.1} ms, G4 encode {t_g4:.1} ms ==",
            rgb.width(),
            rgb.height()
        );
    }

    println!("\n== per page and profile (KB/A4: bytes scaled to an A4 page at the stored dpi) ==");
    profile_table(&pages);
}
