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
//! 3. The per-page byte budget (`output.page_kb`, `output.min_quality`)
//!    against the same output without it: KB per A4, quality chosen, ink
//!    PSNR/SSIM. `SOHOA_BENCH_BUDGET_ONLY=1` runs only this part.
//! 4. Case PDF pages, embedded JPEG against layered (`output.pdf_pages`),
//!    the layers built from the stored JPEG (what finishing a book does)
//!    and from the pixels before JPEG: KB per A4 of the page's images,
//!    time to build the layers, and fidelity of the page as Ghostscript
//!    (or else `pdftoppm`) renders it against the prepared page: PSNR over all
//!    pixels, ink PSNR/SSIM, mean RGB error on ink, and ink PSNR/SSIM of
//!    both reduced 2x2 (the page at half resolution, as on a screen). `SOHOA_BENCH_LAYERS_ONLY=1`
//!    runs only this part; `SOHOA_BENCH_PAGES=a,b` only pages whose names
//!    hold one of those; `SOHOA_BENCH_LAYER_PARAMS` adds a row with other
//!    layer settings (see `layer_params_from_env`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, GrayImage, Rgb, RgbImage};
use sohoa::codec::encode::{self, OutputConfig, PageKind, PdfPages, Profile};
use sohoa::codec::jpeg::{self, JpegSettings};
use sohoa::codec::layers::{self, LayerParams};
use sohoa::codec::pdf::{self, DocMeta, PageData, PdfPage};
use sohoa::imaging::background::{self, NormalizeParams};
use sohoa::imaging::sauvola::{self, SauvolaParams};

#[path = "codec_synth/register.rs"]
mod register;

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
    let with = |profile, storage_dpi, q: u8, cq: u8, flat| OutputConfig {
        profile,
        storage_dpi,
        jpeg_quality: q,
        jpeg_chroma_quality: cq,
        normalize_background: flat,
        ..base.clone()
    };
    vec![
        (
            "colour",
            with(
                Profile::Colour,
                base.storage_dpi,
                base.jpeg_quality,
                base.jpeg_chroma_quality,
                true,
            ),
        ),
        ("colour old", with(Profile::Colour, 0, 75, 75, true)),
        (
            "colour raw",
            with(
                Profile::Colour,
                base.storage_dpi,
                base.jpeg_quality,
                base.jpeg_chroma_quality,
                false,
            ),
        ),
        (
            "grey",
            with(
                Profile::Grey,
                base.storage_dpi,
                base.jpeg_quality,
                base.jpeg_chroma_quality,
                true,
            ),
        ),
        (
            "bilevel",
            with(
                Profile::Bilevel,
                base.storage_dpi,
                base.jpeg_quality,
                base.jpeg_chroma_quality,
                true,
            ),
        ),
        (
            "auto",
            with(
                Profile::Auto,
                base.storage_dpi,
                base.jpeg_quality,
                base.jpeg_chroma_quality,
                true,
            ),
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

/// The byte budget (`output.page_kb`, `output.min_quality`) against the
/// same output without it, per JPEG page: KB scaled to A4 at the stored
/// dpi, the quality chosen, time of the compression step, and ink PSNR and
/// SSIM of the decoded file against the prepared (flattened) page.
fn budget_table(pages: &[(String, DynamicImage, f32)]) {
    let new = OutputConfig::default();
    let old = OutputConfig {
        page_kb: 0,
        ..new.clone()
    };
    let auto = OutputConfig {
        profile: Profile::Auto,
        ..new.clone()
    };
    println!(
        "\n{:<24} {:<7} {:<10} {:>8} {:>8} {:>5} {:>8} {:>9} {:>9}",
        "page", "stored", "settings", "KB/A4", "budget", "q", "comp ms", "inkPSNRp", "inkSSIMp"
    );
    let (mut n, mut fit_n, mut old_sum, mut new_sum) = (0, 0, 0f64, 0f64);
    for (name, img, dpi) in pages {
        for (profile, base) in [("colour", &new), ("auto", &auto)] {
            let Ok(p) = encode::prepare(img, *dpi, base) else {
                continue;
            };
            // Auto rows only for colour sources it stores as grey.
            let colour_source = !matches!(
                img,
                DynamicImage::ImageLuma8(_)
                    | DynamicImage::ImageLuma16(_)
                    | DynamicImage::ImageLumaA8(_)
            );
            if p.kind == PageKind::Bilevel
                || (profile == "auto" && (p.kind == PageKind::Colour || !colour_source))
            {
                continue;
            }
            let reference = p.image.to_luma8();
            let a4 = 8.27 * 11.69 * (p.dpi as f64).powi(2);
            let area = p.image.width() as f64 * p.image.height() as f64;
            let budget_kb = new.page_kb as f64 * area / a4;
            for (label, cfg) in [("old q50/c30", &old), ("budget", &new)] {
                let cfg = OutputConfig {
                    profile: base.profile,
                    ..cfg.clone()
                };
                let mut e = None;
                let ms = median_ms(|| e = Some(encode::compress(&p, &cfg).unwrap()), 3);
                let Some(e) = e else { continue };
                let d = sohoa::codec::decode(&e.bytes)
                    .unwrap()
                    .remove(0)
                    .image
                    .to_luma8();
                let kb_a4 = e.bytes.len() as f64 / 1024.0 * a4 / area;
                if label == "budget" {
                    n += 1;
                    new_sum += kb_a4;
                    if e.bytes.len() as f64 <= budget_kb * 1024.0 * 1.005 {
                        fit_n += 1;
                    }
                } else {
                    old_sum += kb_a4;
                }
                println!(
                    "{name:<24} {:<7} {label:<10} {kb_a4:>8.1} {:>8} {:>5} {ms:>8.1} {:>9.2} {:>9.4}",
                    format!("{:?}", e.kind).to_lowercase(),
                    if label == "budget" {
                        format!("{:.1}", budget_kb * a4 / area)
                    } else {
                        "-".into()
                    },
                    e.quality.map(|q| q.to_string()).unwrap_or_default(),
                    ink_psnr(&d, &reference),
                    ink_ssim(&d, &reference),
                );
            }
        }
    }
    if n > 0 {
        println!(
            "{n} JPEG pages: {fit_n} within the budget of {} KB/A4 at q>={}; mean KB/A4 old {:.1}, budget {:.1} ({:.0}%)",
            new.page_kb,
            new.min_quality,
            old_sum / n as f64,
            new_sum / n as f64,
            100.0 * new_sum / old_sum
        );
    }
}

/// Luminance of an RGB buffer, the way the decoder's `to_luma8` does it.
fn luma_of(img: &RgbImage) -> GrayImage {
    DynamicImage::ImageRgb8(img.clone()).to_luma8()
}

/// Pixels that are ink in either image (luma under 230).
fn ink_mask(a: &GrayImage, b: &GrayImage) -> Vec<bool> {
    a.as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| x < 230 || y < 230)
        .collect()
}

/// PSNR over the ink pixels only (white paper would flatter the figure).
fn ink_psnr(test: &GrayImage, reference: &GrayImage) -> f64 {
    let m = ink_mask(test, reference);
    let (mut se, mut n) = (0f64, 0u64);
    for ((&a, &b), &k) in test.as_raw().iter().zip(reference.as_raw()).zip(&m) {
        if k {
            let d = a as f64 - b as f64;
            se += d * d;
            n += 1;
        }
    }
    if n == 0 || se == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / (se / n as f64)).log10()
}

/// Mean SSIM over the 8x8 blocks of `reference` that hold ink (min luma under 200).
fn ink_ssim(test: &GrayImage, reference: &GrayImage) -> f64 {
    let (w, h) = reference.dimensions();
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (mut total, mut n) = (0f64, 0u64);
    for by in (0..h.saturating_sub(7)).step_by(8) {
        for bx in (0..w.saturating_sub(7)).step_by(8) {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0f64, 0f64, 0f64, 0f64, 0f64);
            let mut min = 255u8;
            for y in by..by + 8 {
                for x in bx..bx + 8 {
                    let a = test.get_pixel(x, y).0[0] as f64;
                    let r = reference.get_pixel(x, y).0[0];
                    min = min.min(r);
                    let b = r as f64;
                    sa += a;
                    sb += b;
                    saa += a * a;
                    sbb += b * b;
                    sab += a * b;
                }
            }
            if min >= 200 {
                continue;
            }
            let k = 64.0;
            let (ma, mb) = (sa / k, sb / k);
            let (va, vb, cov) = (saa / k - ma * ma, sbb / k - mb * mb, sab / k - ma * mb);
            total += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            n += 1;
        }
    }
    if n == 0 {
        1.0
    } else {
        total / n as f64
    }
}

fn resize_rgb(img: &RgbImage, dpi: f32, storage: u32) -> (RgbImage, f32) {
    if storage == 0 || dpi <= storage as f32 * 1.02 {
        return (img.clone(), dpi);
    }
    let s = storage as f32 / dpi;
    let (w, h) = (
        (img.width() as f32 * s).round() as u32,
        (img.height() as f32 * s).round() as u32,
    );
    let px = sohoa::codec::resample::resample(
        img.as_raw(),
        img.width() as usize,
        img.height() as usize,
        3,
        w as usize,
        h as usize,
    )
    .unwrap();
    (RgbImage::from_raw(w, h, px).unwrap(), storage as f32)
}

/// One way of storing a colour page.
#[derive(Clone, Copy)]
struct Variant {
    name: &'static str,
    storage_dpi: u32,
    norm: Option<NormalizeParams>,
    jpeg: JpegSettings,
}

fn old_tone() -> NormalizeParams {
    NormalizeParams {
        white_point: 0.90,
        black_point: 0.08,
        gamma: 1.2,
    }
}

fn v(name: &'static str, dpi: u32, norm: Option<NormalizeParams>, q: u8, cq: u8) -> Variant {
    Variant {
        name,
        storage_dpi: dpi,
        norm,
        jpeg: JpegSettings {
            quality: q,
            chroma_quality: cq,
            optimize: true,
            progressive: false,
        },
    }
}

fn save_crops(dir: &Path, tag: &str, img: &RgbImage, dpi: f32) {
    let s = dpi / 300.0;
    // (x, y, w, h) at 300 dpi: entries + stamp + signature; header + pencil ticks.
    for (i, (x, y, w, h)) in [(1550u32, 2900u32, 700u32, 450u32), (150, 250, 700, 700)]
        .into_iter()
        .enumerate()
    {
        let (x, y, w, h) = (
            (x as f32 * s) as u32,
            (y as f32 * s) as u32,
            (w as f32 * s) as u32,
            (h as f32 * s) as u32,
        );
        let c = image::imageops::crop_imm(img, x, y, w, h).to_image();
        let _ = c.save(dir.join(format!("{tag}-{i}.png")));
    }
}

/// Size and fidelity of storing the synthetic register page many ways.
fn register_sweep(scan: &RgbImage, truth: &RgbImage) {
    let tone = |w: f32, b: f32, g: f32| {
        Some(NormalizeParams {
            white_point: w,
            black_point: b,
            gamma: g,
        })
    };
    let d = NormalizeParams::default();
    let def = Some(d);
    let prog = |mut x: Variant| {
        x.jpeg.progressive = true;
        x
    };
    let variants = [
        v("raw 300 q75", 300, None, 75, 75),
        v("old defaults 300 q75", 300, Some(old_tone()), 75, 75),
        v("old tone 200 q75", 200, Some(old_tone()), 75, 75),
        v("TRUTH 200 q50/c30", 200, None, 50, 30),
        v("w.90 g1.2 200 q50/c30", 200, tone(0.90, 0.08, 1.2), 50, 30),
        v("w.93 g1.2 200 q50/c30", 200, tone(0.93, 0.08, 1.2), 50, 30),
        v("w.95 g1.2 200 q50/c30", 200, tone(0.95, 0.08, 1.2), 50, 30),
        v("w.93 g1.4 200 q50/c30", 200, tone(0.93, 0.08, 1.4), 50, 30),
        v("default 200 q75/c75", 200, def, 75, 75),
        v("default 200 q60/c35", 200, def, 60, 35),
        v("default 200 q50/c30", 200, def, 50, 30),
        prog(v("default 200 q50/c30 prog", 200, def, 50, 30)),
        v("default 200 q40/c25", 200, def, 40, 25),
        v("default 150 q50/c30", 150, def, 50, 30),
        prog(v("default 150 q40/c25 prog", 150, def, 40, 25)),
    ];
    let crops = std::env::var_os("SOHOA_BENCH_CROPS").map(PathBuf::from);
    println!(
        "\n{:<24} {:>4} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "variant", "dpi", "KB", "prep ms", "enc ms", "inkPSNRp", "inkSSIMp", "inkSSIMt"
    );
    for var in variants {
        let src = if var.name.starts_with("TRUTH") {
            truth
        } else {
            scan
        };
        let (small, dpi) = resize_rgb(src, 300.0, var.storage_dpi);
        let (truth_s, _) = resize_rgb(truth, 300.0, var.storage_dpi);
        let mut prepared = small.clone();
        let t_prep = match var.norm {
            Some(p) => median_ms(|| prepared = background::normalize_rgb(&small, dpi, &p), 3),
            None => 0.0,
        };
        let (w, h) = prepared.dimensions();
        let mut bytes = Vec::new();
        let t_enc = median_ms(
            || bytes = jpeg::encode_with(prepared.as_raw(), w, h, 3, &var.jpeg, dpi).unwrap(),
            3,
        );
        let dec = sohoa::codec::decode(&bytes)
            .unwrap()
            .remove(0)
            .image
            .to_rgb8();
        let (dl, pl, tl) = (luma_of(&dec), luma_of(&prepared), luma_of(&truth_s));
        println!(
            "{:<24} {:>4} {:>8.1} {:>8.1} {:>8.1} {:>9.2} {:>9.4} {:>9.4}",
            var.name,
            dpi,
            bytes.len() as f64 / 1024.0,
            t_prep,
            t_enc,
            ink_psnr(&dl, &pl),
            ink_ssim(&dl, &pl),
            ink_ssim(&dl, &tl),
        );
        if let Some(dir) = &crops {
            let _ = std::fs::create_dir_all(dir);
            let tag: String = var
                .name
                .chars()
                .map(|c| if c.is_alphanumeric() { c } else { '_' })
                .collect();
            save_crops(dir, &tag, &dec, dpi);
        }
    }
    if let Some(dir) = &crops {
        save_crops(dir, "scan", scan, 300.0);
        save_crops(dir, "truth", truth, 300.0);
    }
}

/// JPEG encoders on the same pixels: jpeg-encoder settings, the `image`
/// crate's encoder, cjpeg.
fn encoders(name: &str, img: &RgbImage, dpi: f32) {
    let (w, h) = img.dimensions();
    let px = img.as_raw();
    let mut out = Vec::new();
    let s = |q, cq, o| JpegSettings {
        quality: q,
        chroma_quality: cq,
        optimize: o,
        progressive: false,
    };
    let p = |q, cq| JpegSettings {
        quality: q,
        chroma_quality: cq,
        optimize: true,
        progressive: true,
    };
    let runs = 5;
    let row = |label: &str, ms: f64, bytes: usize| {
        println!(
            "{name:<26} {label:<34} {ms:7.1} ms {:>8.1} KB",
            bytes as f64 / 1024.0
        );
    };
    for (label, st, ch) in [
        ("jpeg-encoder rgb q50", s(50, 50, false), 3u8),
        ("jpeg-encoder rgb q50/c30", s(50, 30, false), 3),
        ("jpeg-encoder rgb q50/c30 progressive", p(50, 30), 3),
        ("jpeg-encoder grey q50", s(50, 50, false), 1),
        ("jpeg-encoder grey q50 optimised", s(50, 50, true), 1),
        ("jpeg-encoder grey q50 progressive", p(50, 50), 1),
    ] {
        let data = if ch == 1 {
            luma_of(img).into_raw()
        } else {
            px.clone()
        };
        let t = median_ms(
            || out = jpeg::encode_with(&data, w, h, ch, &st, dpi).unwrap(),
            runs,
        );
        row(label, t, out.len());
    }
    for (label, grey) in [
        ("image crate rgb q50", false),
        ("image crate grey q50", true),
    ] {
        let dynimg = if grey {
            DynamicImage::ImageLuma8(luma_of(img))
        } else {
            DynamicImage::ImageRgb8(img.clone())
        };
        let t = median_ms(
            || {
                out.clear();
                let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 50);
                dynimg.write_with_encoder(enc).unwrap();
            },
            runs,
        );
        row(label, t, out.len());
    }
    cjpeg_vs_ours(name, &DynamicImage::ImageRgb8(img.clone()), 50, dpi);
    cjpeg_vs_ours(
        &format!("{name} (grey)"),
        &DynamicImage::ImageLuma8(luma_of(img)),
        50,
        dpi,
    );
}

/// The synthetic register page, the feyn register page and every corpus page.
fn all_pages(scan: RgbImage) -> Vec<(String, DynamicImage, f32)> {
    let mut pages: Vec<(String, DynamicImage, f32)> = vec![(
        "register-synth".into(),
        DynamicImage::ImageRgb8(scan),
        300.0,
    )];
    if let Some((img, dpi)) = register_page() {
        pages.push(("register-feyn".into(), DynamicImage::ImageRgb8(img), dpi));
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
    pages
}

fn main() {
    let Some(printed) = std::fs::read(corpus().join("feyn.tif"))
        .ok()
        .and_then(|b| sohoa::codec::decode(&b).ok())
        .map(|mut f| f.remove(0).image.to_luma8())
    else {
        println!("no corpus at {}; nothing to measure", corpus().display());
        return;
    };
    let t = Instant::now();
    let (scan, truth) = register::page(&printed);
    println!(
        "synthetic register page {}x{} built in {:.1} s",
        scan.width(),
        scan.height(),
        t.elapsed().as_secs_f64()
    );
    if std::env::var_os("SOHOA_BENCH_BUDGET_ONLY").is_some() {
        budget_table(&all_pages(scan));
        return;
    }
    if std::env::var_os("SOHOA_BENCH_LAYERS_ONLY").is_some() {
        layers_table(&all_pages(scan));
        return;
    }
    if let Some(dir) = std::env::var_os("SOHOA_BENCH_CROPS") {
        let _ = std::fs::create_dir_all(&dir);
        let _ = scan.save(Path::new(&dir).join("register-scan.png"));
    }

    // Steps on an A4 300 dpi page.
    {
        let g = luma_of(&scan);
        let p = NormalizeParams::default();
        let t_g = median_ms(|| drop(background::normalize_gray(&g, 300.0, &p)), 7);
        let t_c = median_ms(|| drop(background::normalize_rgb(&scan, 300.0, &p)), 5);
        let t_rs_g = median_ms(
            || {
                drop(image::imageops::resize(
                    &g,
                    1654,
                    2339,
                    FilterType::Triangle,
                ))
            },
            3,
        );
        let t_rs_c = median_ms(
            || {
                drop(image::imageops::resize(
                    &scan,
                    1654,
                    2339,
                    FilterType::Triangle,
                ))
            },
            3,
        );
        let ours = |img: &[u8], ch: usize| {
            drop(sohoa::codec::resample::resample(
                img, 2480, 3508, ch, 1654, 2339,
            ))
        };
        let t_ours_g = median_ms(|| ours(g.as_raw(), 1), 5);
        let t_ours_c = median_ms(|| ours(scan.as_raw(), 3), 5);
        let s = SauvolaParams::for_dpi(300.0, 0.2, 4.0);
        let t_sauv = median_ms(|| drop(sauvola::sauvola(&g, &s)), 5);
        let gimg = DynamicImage::ImageLuma8(g.clone());
        let cfg = OutputConfig {
            profile: Profile::Grey,
            ..OutputConfig::default()
        };
        let cfg300 = OutputConfig {
            storage_dpi: 0,
            ..cfg.clone()
        };
        let t_grey = median_ms(|| drop(encode::encode(&gimg, 300.0, &cfg).unwrap()), 5);
        let t_grey300 = median_ms(|| drop(encode::encode(&gimg, 300.0, &cfg300).unwrap()), 5);
        let cimg = DynamicImage::ImageRgb8(scan.clone());
        let ccfg = OutputConfig::default();
        let t_col = median_ms(|| drop(encode::encode(&cimg, 300.0, &ccfg).unwrap()), 3);
        println!("\n== steps on the A4 300 dpi register page (median ms, one core) ==");
        println!("flatten grey {t_g:.1}   flatten colour {t_c:.1}   Sauvola {t_sauv:.1}");
        println!(
            "resample 300->200 dpi: ours grey {t_ours_g:.1} colour {t_ours_c:.1}; image crate (Triangle) grey {t_rs_g:.1} colour {t_rs_c:.1}"
        );
        println!(
            "whole output step with defaults: grey page {t_grey:.1} (kept at 300 dpi: {t_grey300:.1}), colour page {t_col:.1}"
        );
    }

    println!("\n== size and fidelity: synthetic register page, colour (p = vs the flattened page, t = vs the ink on white truth) ==");
    register_sweep(&scan, &truth);

    println!("\n== JPEG encoders, same pixels (flattened register page at 200 dpi) ==");
    let (small, _) = resize_rgb(&scan, 300.0, 200);
    let flat = background::normalize_rgb(&small, 200.0, &NormalizeParams::default());
    encoders("register flattened 200", &flat, 200.0);
    encoders("register raw 200", &small, 200.0);

    let pages = all_pages(scan);
    println!("\n== byte budget: output.page_kb {} KB/A4, output.min_quality {} vs no budget (q{}/c{}); 'auto' rows for pages auto stores as grey ==",
        OutputConfig::default().page_kb,
        OutputConfig::default().min_quality,
        OutputConfig::default().jpeg_quality,
        OutputConfig::default().jpeg_chroma_quality,
    );
    budget_table(&pages);
    println!("\n== case PDF pages: embedded JPEG vs layered (mask + background + ink colour) ==");
    layers_table(&pages);
    println!("\n== per page and profile (KB/A4: bytes scaled to an A4 page at the stored dpi; 'old' = previous defaults q75, 300 dpi, old tone curve) ==");
    profile_table(&pages);
}

/// One page alone in a case PDF, rendered back at its size in pixels by
/// Ghostscript (package ghostscript) or else `pdftoppm` (poppler-utils);
/// None when neither is there.
fn render_pdf(page: PdfPage, gray: bool) -> Option<DynamicImage> {
    let (w, h, page_dpi) = (page.width, page.height, page.dpi);
    let meta = DocMeta {
        book_id: "KS.2024.01".into(),
        case_no: 1,
        locality: "bench".into(),
        captured: chrono::DateTime::parse_from_rfc3339("2024-05-06T07:08:09+07:00").ok()?,
        software: encode::SOFTWARE.into(),
    };
    let doc = pdf::case_pdf(&meta, &[page]).ok()?;
    if let Some(d) = std::env::var_os("SOHOA_BENCH_PDF_DIR") {
        let n = std::fs::read_dir(&d).map(|r| r.count()).unwrap_or(0);
        let _ = std::fs::write(Path::new(&d).join(format!("{n:03}.pdf")), &doc);
    }
    let dir = std::env::temp_dir().join(format!("sohoa-bench-pdf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("p.pdf");
    std::fs::write(&path, &doc).ok()?;
    let ext = if gray { "pgm" } else { "ppm" };
    let out = dir.join(format!("out.{ext}"));
    // Ghostscript draws an image at 1:1 exactly; poppler's Splash resamples
    // it (a page holding one JPEG renders at ~22 dB PSNR against that
    // JPEG's own pixels), so poppler only when Ghostscript is missing.
    // Drawn at twice the resolution and box-reduced by 2: what a reader
    // that anti-aliases shows at 100 %, since Ghostscript does not smooth
    // image masks (a JPEG page comes back exactly).
    let gs = Command::new("gs")
        .args(["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER"])
        .arg(format!("-sDEVICE={ext}raw"))
        .arg(format!("-r{}", 2.0 * page_dpi))
        .arg(format!("-sOutputFile={}", out.display()))
        .arg(&path)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let ok = gs || {
        let mut cmd = Command::new("pdftoppm");
        cmd.args([
            "-scale-to-x",
            &(2 * w).to_string(),
            "-scale-to-y",
            &(2 * h).to_string(),
            "-singlefile",
        ]);
        if gray {
            cmd.arg("-gray");
        }
        cmd.arg(&path)
            .arg(dir.join("out"))
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let img = std::fs::read(&out)
        .ok()
        .filter(|_| ok)
        .and_then(|b| sohoa::codec::decode(&b).ok())
        .map(|mut f| half(&f.remove(0).image));
    let _ = std::fs::remove_dir_all(&dir);
    img.map(|i| {
        if gray {
            DynamicImage::ImageLuma8(i.to_luma8())
        } else {
            i
        }
    })
}

fn page_bytes(p: &PdfPage) -> usize {
    match &p.data {
        PageData::Jpeg { bytes, .. } => bytes.len(),
        PageData::G4 { data, .. } => data.len(),
        PageData::Layered(l) => l.len(),
    }
}

/// 2x2 box reduction: the page as seen at half the resolution (a whole
/// page on a screen), where the anti-aliasing of stroke edges that a
/// bilevel mask drops no longer counts pixel by pixel.
fn half(img: &DynamicImage) -> DynamicImage {
    let rgb = img.to_rgb8();
    let (w, h) = (rgb.width() / 2, rgb.height() / 2);
    DynamicImage::ImageRgb8(RgbImage::from_fn(w.max(1), h.max(1), |x, y| {
        let mut s = [2u32; 3];
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let p = rgb.get_pixel(
                (2 * x + dx).min(rgb.width() - 1),
                (2 * y + dy).min(rgb.height() - 1),
            );
            for (a, &v) in s.iter_mut().zip(&p.0) {
                *a += v as u32;
            }
        }
        Rgb(s.map(|v| (v / 4) as u8))
    }))
}

/// Fidelity of a rendering against the reference (same channels): PSNR
/// over all samples, ink PSNR and SSIM on luma, mean RGB error over the
/// reference's ink (luma under 200).
fn fidelity(test: &DynamicImage, reference: &DynamicImage) -> (f64, f64, f64, f64) {
    if test.dimensions() != reference.dimensions() {
        eprintln!(
            "render {:?} vs source {:?}",
            test.dimensions(),
            reference.dimensions()
        );
    }
    let (w, h) = (
        test.width().min(reference.width()),
        test.height().min(reference.height()),
    );
    let crop = |i: &DynamicImage| i.crop_imm(0, 0, w, h);
    let (t, r) = (crop(test), crop(reference));
    let (tr, rr) = (t.to_rgb8(), r.to_rgb8());
    let (tl, rl) = (t.to_luma8(), r.to_luma8());
    let all = psnr(tr.as_raw(), rr.as_raw());
    let (mut sum, mut n) = (0u64, 0u64);
    for ((a, b), &l) in tr.pixels().zip(rr.pixels()).zip(rl.as_raw()) {
        if l < 200 {
            sum += (0..3).map(|k| a.0[k].abs_diff(b.0[k]) as u64).sum::<u64>();
            n += 3;
        }
    }
    (
        all,
        ink_psnr(&tl, &rl),
        ink_ssim(&tl, &rl),
        sum as f64 / n.max(1) as f64,
    )
}

/// Layer settings to try, from `SOHOA_BENCH_LAYER_PARAMS` ("k=0.3 fg=67
/// bg=67 mask=300 fgq=40/30 bgq=30/20 chroma=60 win=4"), over the
/// defaults.
fn layer_params_from_env() -> Option<LayerParams> {
    let text = std::env::var("SOHOA_BENCH_LAYER_PARAMS").ok()?;
    let mut p = LayerParams::default();
    for kv in text.split_whitespace() {
        let (k, v) = kv.split_once('=')?;
        let q = |v: &str| {
            let (a, b) = v.split_once('/').unwrap_or((v, v));
            (a.parse().unwrap(), b.parse().unwrap())
        };
        match k {
            "k" => p.k = v.parse().ok()?,
            "fg" => p.fg_dpi = v.parse().ok()?,
            "bg" => p.bg_dpi = v.parse().ok()?,
            "mask" => p.mask_dpi = v.parse().ok()?,
            "fgq" => p.fg_quality = q(v),
            "bgq" => p.bg_quality = q(v),
            "chroma" => p.colour_chroma = v.parse().ok()?,
            "win" => p.window_mm = v.parse().ok()?,
            _ => panic!("unknown layer setting {k}"),
        }
    }
    println!("custom layer settings: {p:?}");
    Some(p)
}

/// Case PDF pages: the stored JPEG embedded, layered from the stored JPEG
/// (what finishing does), layered from the pixels before JPEG.
fn layers_table(pages: &[(String, DynamicImage, f32)]) {
    let cfg = OutputConfig::default();
    let embed = OutputConfig {
        pdf_pages: PdfPages::Embed,
        ..cfg.clone()
    };
    let layered = OutputConfig {
        pdf_pages: PdfPages::Layered,
        ..cfg.clone()
    };
    println!(
        "\n{:<24} {:<6} {:<15} {:>7} {:>6} {:>6} {:>6} {:>8} {:>7} {:>8} {:>8} {:>7} {:>8} {:>8}",
        "page",
        "stored",
        "pdf page",
        "KB/A4",
        "maskKB",
        "bgKB",
        "fgKB",
        "build ms",
        "PSNR",
        "inkPSNR",
        "inkSSIM",
        "inkMAE",
        "½inkPSNR",
        "½inkSSIM"
    );
    let mut sums: std::collections::BTreeMap<&str, (f64, usize)> = Default::default();
    let only = std::env::var("SOHOA_BENCH_PAGES").unwrap_or_default();
    let custom = layer_params_from_env();
    for (name, img, dpi) in pages {
        if !only.is_empty() && !only.split(',').any(|o| name.contains(o)) {
            continue;
        }
        let Ok(p) = encode::prepare(img, *dpi, &cfg) else {
            continue;
        };
        if p.kind == PageKind::Bilevel {
            continue;
        }
        let Ok(stored) = encode::compress(&p, &cfg) else {
            continue;
        };
        let gray = p.kind == PageKind::Grey;
        let a4 = 8.27 * 11.69 * (p.dpi as f64).powi(2);
        let area = p.image.width() as f64 * p.image.height() as f64;
        // The page as finishing makes it from the stored JPEG.
        let from_stored = |c: &OutputConfig| {
            PdfPage::from_file(&stored.bytes, None, c)
                .unwrap()
                .remove(0)
        };
        type Make<'a> = Box<dyn Fn() -> PdfPage + 'a>;
        let mut variants: Vec<(&str, Make)> = vec![
            ("embed JPEG", Box::new(|| from_stored(&embed))),
            ("auto (default)", Box::new(|| from_stored(&cfg))),
            ("layered (JPEG)", Box::new(|| from_stored(&layered))),
            (
                "layered (pre)",
                Box::new(|| PdfPage::layered(&p.image, p.dpi, &layered).unwrap()),
            ),
        ];
        if let Some(lp) = custom {
            variants.push((
                "custom (JPEG)",
                Box::new({
                    let (stored, p) = (&stored, &p);
                    move || {
                        let img = sohoa::codec::decode(&stored.bytes).unwrap().remove(0).image;
                        PdfPage {
                            width: img.width(),
                            height: img.height(),
                            dpi: p.dpi,
                            data: PageData::Layered(layers::build(&img, p.dpi, &lp).unwrap()),
                        }
                    }
                }),
            ));
        }
        for (label, make) in variants {
            let mut page = None;
            let ms = median_ms(|| page = Some(make()), 3);
            let Some(page) = page else { continue };
            let bytes = page_bytes(&page);
            let (mk, bk, fk) = match &page.data {
                PageData::Layered(l) => (
                    format!("{:.1}", l.mask_g4.len() as f64 / 1024.0),
                    format!("{:.1}", l.background.bytes.len() as f64 / 1024.0),
                    format!("{:.1}", l.foreground.bytes.len() as f64 / 1024.0),
                ),
                _ => ("-".into(), "-".into(), "-".into()),
            };
            let kb_a4 = bytes as f64 / 1024.0 * a4 / area;
            let e = sums.entry(label).or_default();
            e.0 += kb_a4;
            e.1 += 1;
            let Some(rendered) = render_pdf(page, gray) else {
                println!("neither gs (ghostscript) nor pdftoppm (poppler-utils) renders PDFs here; fidelity skipped");
                return;
            };
            let (all, ip, is, mae) = fidelity(&rendered, &p.image);
            let (_, hp, hs, _) = fidelity(&half(&rendered), &half(&p.image));
            println!(
                "{name:<24} {:<6} {label:<15} {kb_a4:>7.1} {mk:>6} {bk:>6} {fk:>6} {:>8} {all:>7.2} {ip:>8.2} {is:>8.4} {mae:>7.2} {hp:>8.2} {hs:>8.4}",
                format!("{:?}", p.kind).to_lowercase(),
                if label == "embed JPEG" { "-".to_string() } else { format!("{ms:.1}") },
            );
        }
    }
    for (label, (sum, n)) in sums {
        println!(
            "mean KB/A4 {label:<15} {:.1} over {n} pages",
            sum / n as f64
        );
    }
}
