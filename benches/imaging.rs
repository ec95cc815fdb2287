//! Imaging benchmark: skew accuracy over the corpus and speed against
//! ImageMagick (`convert -deskew 40%`) and `unpaper` on A4 300 dpi pages.
//!
//! `cargo bench --bench imaging` runs both parts; `-- --accuracy` or
//! `-- --speed` runs one; `-- --step 1.7` sets the angle step of the
//! accuracy sweep (degrees, over ±15.3); `-- --page NAME` limits the
//! accuracy part to pages whose name contains NAME and prints every angle;
//! `-- --loop N` runs the analysis of one page N times (for a profiler).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use image::DynamicImage;
use sohoa::codec::{self, OutputConfig};
use sohoa::imaging::{self, rotate, ImagingConfig};
use sohoa::pipeline;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

const PAGES: &[&str] = &[
    "feyn.tif",
    "pageseg1.tif",
    "pageseg2.tif",
    "lucasta.1.300.tif",
    "tel_3.tif",
    "1555.003.jpg",
    "cat.007.jpg",
    "unpaper-imgsrc001.png",
    "unpaper-imgsrc003.png",
    "unpaper-imgsrc004.png",
    "unpaper-imgsrcE001.png",
];

fn load(name: &str) -> Option<(DynamicImage, f32)> {
    let bytes = std::fs::read(corpus().join(name)).ok()?;
    let frame = codec::decode(&bytes).ok()?.into_iter().next()?;
    let dpi = frame.dpi.unwrap_or(300.0);
    Some((fix_inverted(frame.image), dpi))
}

/// The codec at this commit decodes G4 WhiteIsZero TIFFs inverted (white
/// text on black). A bilevel grey page that is mostly black is such a page:
/// turn it back so the benchmark measures the imaging code.
fn fix_inverted(img: DynamicImage) -> DynamicImage {
    if let DynamicImage::ImageLuma8(mut g) = img {
        let raw = g.as_raw();
        let bilevel = raw.iter().all(|&v| v == 0 || v == 255);
        let black = raw.iter().filter(|&&v| v == 0).count();
        if bilevel && black * 2 > raw.len() {
            eprintln!("note: inverting a bilevel page decoded white-on-black (codec issue)");
            image::imageops::invert(&mut g);
        }
        DynamicImage::ImageLuma8(g)
    } else {
        img
    }
}

/// Median colour of the outermost pixels: what a scanner shows around a
/// page fed crooked.
fn edge_colour(img: &DynamicImage) -> [u8; 3] {
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    let mut ch: [Vec<u8>; 3] = Default::default();
    let mut push = |x: u32, y: u32| {
        let p = rgb.get_pixel(x, y).0;
        for k in 0..3 {
            ch[k].push(p[k]);
        }
    };
    for x in 0..w {
        push(x, 0);
        push(x, h - 1);
    }
    for y in 0..h {
        push(0, y);
        push(w - 1, y);
    }
    let mut out = [0u8; 3];
    for k in 0..3 {
        ch[k].sort_unstable();
        out[k] = ch[k][ch[k].len() / 2];
    }
    out
}

fn accuracy(step: f32, only: Option<&str>) {
    let cfg = ImagingConfig::default();
    let n = (15.3 / step).floor() as i32;
    let angles: Vec<f32> = (-n..=n)
        .filter(|&i| i != 0)
        .map(|i| i as f32 * step)
        .collect();
    println!(
        "== skew accuracy: change of estimate vs applied angle, {} angles in ±{:.1} deg ==",
        angles.len(),
        n as f32 * step
    );
    println!("error = |estimate - estimate at 0 + applied| when the page is rotated; a page declined (confidence too low) counts its whole applied angle");
    println!(
        "{:<24} {:>7} {:>5} {:>7} {:>7} {:>8} {:>8} {:>7} {:>7} {:>8} {:>6}",
        "page",
        "base",
        "conf",
        "mean",
        "max",
        "worst_at",
        "declined",
        "c.mean",
        "c.max",
        "min_conf",
        "orient"
    );
    let (mut all_sum, mut all_n, mut all_max, mut orient_bad) = (0f64, 0usize, 0f32, 0usize);
    let (mut c_sum, mut c_n, mut c_max, mut declined_all) = (0f64, 0usize, 0f32, 0usize);
    for name in PAGES {
        if only.is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let Some((img, dpi)) = load(name) else {
            println!("{name:<24} missing, skipped");
            continue;
        };
        let base = imaging::analyze_image(&img, &cfg, dpi);
        let fill = edge_colour(&img);
        let (mut sum, mut max, mut worst, mut bad) = (0f64, 0f32, 0f32, 0);
        let (mut csum, mut cn, mut cmax, mut declined, mut min_conf) = (0f64, 0, 0f32, 0, 1f32);
        for &a in &angles {
            let rot = rotate::rotate(img.clone(), a, fill);
            let r = imaging::analyze_image(&rot, &cfg, dpi);
            if only.is_some() {
                println!(
                    "    applied {a:>6.2}: skew {:>7.2} (change {:>7.2}) conf {:.2} rotate {} orient {}",
                    r.skew_deg,
                    r.skew_deg - base.skew_deg,
                    r.confidence,
                    r.rotate,
                    r.orientation
                );
            }
            if r.orientation != base.orientation {
                bad += 1;
            }
            min_conf = min_conf.min(r.confidence);
            let measured = ((r.skew_deg - base.skew_deg) + a).abs();
            let err = if r.rotate { measured } else { a.abs() };
            if r.rotate {
                csum += measured as f64;
                cn += 1;
                cmax = cmax.max(measured);
            } else {
                declined += 1;
            }
            sum += err as f64;
            if err > max {
                max = err;
                worst = a;
            }
        }
        let mean = sum / angles.len() as f64;
        let cmean = if cn > 0 { csum / cn as f64 } else { f64::NAN };
        println!(
            "{name:<24} {:>7.2} {:>5.2} {:>7.3} {:>7.3} {:>8.1} {:>5}/{:<2} {:>7.3} {:>7.3} {:>8.2} {:>3}/{}",
            base.skew_deg,
            base.confidence,
            mean,
            max,
            worst,
            declined,
            angles.len(),
            cmean,
            cmax,
            min_conf,
            bad,
            angles.len()
        );
        all_sum += sum;
        all_n += angles.len();
        all_max = all_max.max(max);
        orient_bad += bad;
        c_sum += csum;
        c_n += cn;
        c_max = c_max.max(cmax);
        declined_all += declined;
    }
    println!(
        "ALL: mean error {:.3} deg, max error {:.3} deg over {} rotated pages (declined count as their angle); orientation changed on {}",
        all_sum / all_n.max(1) as f64,
        all_max,
        all_n,
        orient_bad
    );
    println!(
        "CONFIDENT ONLY: mean error {:.3} deg, max error {:.3} deg over {} rotated pages; declined {}",
        c_sum / c_n.max(1) as f64,
        c_max,
        c_n,
        declined_all
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

/// Places `img` on a `w` x `h` canvas of `fill`, centred.
fn on_canvas(img: &DynamicImage, w: u32, h: u32, fill: [u8; 3]) -> DynamicImage {
    let mut c = image::RgbImage::from_pixel(w, h, image::Rgb(fill));
    let x = (w as i64 - img.width() as i64) / 2;
    let y = (h as i64 - img.height() as i64) / 2;
    image::imageops::overlay(&mut c, &img.to_rgb8(), x, y);
    DynamicImage::ImageRgb8(c)
}

fn test_pages() -> Vec<(String, DynamicImage)> {
    let mut out = Vec::new();
    for (name, deg, grey) in [
        ("pageseg1.tif", 2.3f32, true),
        ("feyn.tif", -1.7, true),
        ("1555.003.jpg", 2.0, false),
        ("unpaper-imgsrc003.png", 1.2, false),
    ] {
        let Some((img, _)) = load(name) else { continue };
        let fill = edge_colour(&img);
        let (w, h) = if grey { (2700, 3430) } else { (2480, 3508) };
        let scaled = if img.width() * 2 < w {
            img.resize(w - 60, h - 60, image::imageops::FilterType::Triangle)
        } else {
            img
        };
        let rot = rotate::rotate(scaled, deg, fill);
        let page = on_canvas(&rot, w, h, fill);
        let page = if grey {
            DynamicImage::ImageLuma8(page.to_luma8())
        } else {
            page
        };
        let kind = if grey { "grey" } else { "colour" };
        out.push((format!("{name} {kind} {w}x{h}"), page));
    }
    out
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success() || !o.stdout.is_empty())
        .unwrap_or(false)
}

fn run_peer(cmd: &mut Command) -> Option<f64> {
    let t = Instant::now();
    let out = cmd.output().ok()?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    if !out.status.success() {
        eprintln!("peer failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(ms)
}

fn speed() {
    let cfg = ImagingConfig::default();
    let out_cfg = OutputConfig::default();
    let dir = tempfile::tempdir().expect("temp dir");
    let magick = have("convert");
    let unpaper = have("unpaper");
    if !magick {
        println!(
            "ImageMagick `convert` not found (Debian package imagemagick): its column is skipped"
        );
    }
    if !unpaper {
        println!("`unpaper` not found (Debian package unpaper): its column is skipped");
    }
    println!(
        "== speed, one thread, median of runs (ms); peers: one run each, MAGICK_THREAD_LIMIT=1 =="
    );
    println!(
        "{:<38} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>7} {:>7}",
        "page",
        "analyze",
        "correct",
        "process",
        "decode",
        "e2e",
        "magick",
        "unpaper",
        "xMagick",
        "xUnpap"
    );
    for (i, (name, page)) in test_pages().into_iter().enumerate() {
        let colour = page.color().has_color();
        let ext = if colour { "ppm" } else { "pgm" };
        let pnm = dir.path().join(format!("p{i}.{ext}"));
        let png = dir.path().join(format!("p{i}.png"));
        page.save(&pnm).expect("write pnm");
        page.save(&png).expect("write png");
        let png_bytes = std::fs::read(&png).expect("read png");
        let dpi = 300.0;
        let an = time_ms(9, || {
            std::hint::black_box(imaging::analyze_image(&page, &cfg, dpi));
        });
        let a = imaging::analyze_image(&page, &cfg, dpi);
        let co = time_ms(5, || {
            std::hint::black_box(imaging::correct(page.clone(), &a, &cfg));
        });
        let frame = codec::Frame {
            image: page.clone(),
            dpi: Some(dpi),
        };
        let pr = time_ms(5, || {
            std::hint::black_box(pipeline::process(frame.clone(), &cfg, &out_cfg).ok());
        });
        let de = time_ms(3, || {
            std::hint::black_box(codec::decode(&png_bytes).ok());
        });
        let e2e = de + pr;
        let mg = magick
            .then(|| {
                run_peer(
                    Command::new("convert")
                        .env("MAGICK_THREAD_LIMIT", "1")
                        .arg(&png)
                        .args(["-deskew", "40%"])
                        .arg(dir.path().join("magick.png")),
                )
            })
            .flatten();
        let up = unpaper
            .then(|| {
                run_peer(
                    Command::new("unpaper")
                        .arg("--overwrite")
                        .arg("-q")
                        .arg(&pnm)
                        .arg(dir.path().join(format!("unpaper.{ext}"))),
                )
            })
            .flatten();
        let fmt = |v: Option<f64>| v.map(|v| format!("{v:.0}")).unwrap_or_else(|| "-".into());
        let ratio = |v: Option<f64>| {
            v.map(|v| format!("{:.0}x", v / e2e))
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "{name:<38} {an:>8.1} {co:>8.1} {pr:>8.1} {de:>8.1} {e2e:>8.1} {:>9} {:>9} {:>7} {:>7}",
            fmt(mg),
            fmt(up),
            ratio(mg),
            ratio(up)
        );
        println!(
            "    skew {:.2} conf {:.2} rotate {} orient {} crop {:?} ink {:.3}",
            a.skew_deg, a.confidence, a.rotate, a.orientation, a.crop, a.ink
        );
    }
    println!("analyze = imaging::analyze_image; correct = orient+deskew+crop render; process = pipeline::process (analyze+correct+JPEG encode);");
    println!("e2e = PNG decode + process; ratios = peer wall time (decode+work+encode) / our e2e");
}

/// Runs the analysis of the first speed page `n` times, for a profiler.
fn profile_loop(n: usize) {
    let cfg = ImagingConfig::default();
    let Some((name, page)) = test_pages().into_iter().next() else {
        return;
    };
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(imaging::analyze_image(&page, &cfg, 300.0));
    }
    let ms = t.elapsed().as_secs_f64() * 1e3 / n.max(1) as f64;
    println!("{name}: analyze {ms:.2} ms per run over {n} runs");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(n) = args
        .iter()
        .position(|a| a == "--loop")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<usize>().ok())
    {
        profile_loop(n);
        return;
    }
    let want_acc = !args.iter().any(|a| a == "--speed");
    let want_speed = !args.iter().any(|a| a == "--accuracy");
    let step = args
        .iter()
        .position(|a| a == "--step")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<f32>().ok())
        .filter(|s| *s > 0.05)
        .unwrap_or(1.7);
    if want_speed {
        speed();
    }
    let only = args
        .iter()
        .position(|a| a == "--page")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.as_str());
    if want_acc {
        accuracy(step, only);
    }
}
