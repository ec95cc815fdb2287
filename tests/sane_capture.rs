//! `sohoa capture` against SANE's own `test` backend, compared byte for byte
//! with `scanimage --format=pnm` on the same options; typed errors for every
//! `--read-return-value`; ADF batches; prompt cancel of a slow device.
//!
//! Needs Debian packages `libsane1` (libsane.so.1 + test backend) and
//! `sane-utils` (scanimage). Skips loudly without them, fails when CI=true.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

const SOHOA: &str = env!("CARGO_BIN_EXE_sohoa");

/// A private SANE config dir enabling only the `test` backend, or None
/// (after a loud message) when SANE is not installed.
fn sane_env() -> Option<TempDir> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("dll.conf"), "test\n").expect("dll.conf");
    let ok = Command::new("scanimage")
        .arg("-L")
        .env("SANE_CONFIG_DIR", dir.path())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("test:0"))
        .unwrap_or(false);
    if ok {
        return Some(dir);
    }
    let msg =
        "SKIPPED: SANE test backend not usable; install Debian packages libsane1 and sane-utils";
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
    None
}

fn sohoa(cfg: &Path, args: &[&str]) -> Output {
    Command::new(SOHOA)
        .args(args)
        .env("SANE_CONFIG_DIR", cfg)
        .output()
        .expect("run sohoa")
}

/// scanimage spelling of an option: geometry as -x/-y (tl is 0).
fn scanimage_arg(name: &str, value: &str) -> Vec<String> {
    match name {
        "br-x" => vec!["-x".into(), value.into()],
        "br-y" => vec!["-y".into(), value.into()],
        _ => vec![format!("--{name}={value}")],
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Captures with both tools and asserts identical files; returns the count.
fn compare(cfg: &Path, opts: &[(&str, &str)], adf: bool) -> usize {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ours = tmp.path().join("ours");
    let theirs = tmp.path().join("theirs");
    std::fs::create_dir_all(&theirs).unwrap();
    let mut args: Vec<String> = vec![
        "capture".into(),
        "--device".into(),
        "test:0".into(),
        "--out".into(),
        ours.display().to_string(),
    ];
    for (n, v) in opts {
        args.push("--opt".into());
        args.push(format!("{n}={v}"));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sohoa(cfg, &argv);
    assert!(
        out.status.success(),
        "sohoa capture {opts:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut s = Command::new("scanimage");
    s.env("SANE_CONFIG_DIR", cfg)
        .args(["-d", "test:0", "--format=pnm"])
        .stdout(Stdio::null());
    for (n, v) in opts {
        s.args(scanimage_arg(n, v));
    }
    if adf {
        s.arg(format!("--batch={}/page-%04d.pnm", theirs.display()));
    } else {
        s.arg("-o").arg(theirs.join("page-0001.pnm"));
    }
    let r = s.output().expect("run scanimage");
    assert!(
        r.status.success(),
        "scanimage {opts:?} failed: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    let a = files(&ours);
    let b = files(&theirs);
    let names = |v: &[PathBuf]| -> Vec<String> {
        v.iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names(&a), names(&b), "page files differ for {opts:?}");
    for (x, y) in a.iter().zip(&b) {
        let (bx, by) = (std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
        assert!(by.len() > 20, "reference page is empty for {opts:?}");
        assert!(
            bx == by,
            "{} differs from scanimage for {opts:?} ({} vs {} bytes)",
            x.display(),
            bx.len(),
            by.len()
        );
    }
    a.len()
}

const SMALL: [(&str, &str); 4] = [
    ("resolution", "50"),
    ("br-x", "20"),
    ("br-y", "15"),
    ("test-picture", "Color pattern"),
];

fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = SMALL.to_vec();
    v.extend_from_slice(extra);
    v
}

#[test]
fn gray_and_color_at_every_depth_match_scanimage() {
    let Some(cfg) = sane_env() else { return };
    for (mode, depth) in [
        ("Gray", "1"),
        ("Gray", "8"),
        ("Gray", "16"),
        ("Color", "8"),
        ("Color", "16"),
    ] {
        let n = compare(
            cfg.path(),
            &with(&[("mode", mode), ("depth", depth)]),
            false,
        );
        assert_eq!(n, 1);
    }
    // Color at depth 1: scanimage aborts (assertion), so there is no
    // reference; we write a valid 8-bit PPM of the right size.
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec![
        "capture".to_string(),
        "--device".into(),
        "test:0".into(),
        "--out".into(),
        tmp.path().display().to_string(),
    ];
    for (n, v) in with(&[("mode", "Color"), ("depth", "1")]) {
        args.push("--opt".into());
        args.push(format!("{n}={v}"));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = sohoa(cfg.path(), &argv);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(tmp.path().join("page-0001.pnm")).expect("valid PPM");
    assert_eq!((img.width(), img.height()), (39, 29));
    assert!(img.to_rgb8().pixels().any(|p| p.0 != [0, 0, 0]));
    // Byte order: the backend can swap its 16-bit samples; we must follow.
    compare(
        cfg.path(),
        &with(&[
            ("mode", "Color"),
            ("depth", "16"),
            ("invert-endianess", "yes"),
        ]),
        false,
    );
}

#[test]
fn three_pass_and_hand_scanner_match_scanimage() {
    let Some(cfg) = sane_env() else { return };
    for order in ["RGB", "GBR"] {
        compare(
            cfg.path(),
            &with(&[
                ("mode", "Color"),
                ("three-pass", "yes"),
                ("three-pass-order", order),
            ]),
            false,
        );
    }
    // Hand scanner: unknown height (lines = -1), fixed 11 cm width.
    compare(
        cfg.path(),
        &[
            ("resolution", "25"),
            ("hand-scanner", "yes"),
            ("test-picture", "Grid"),
        ],
        false,
    );
    compare(
        cfg.path(),
        &[
            ("resolution", "25"),
            ("hand-scanner", "yes"),
            ("mode", "Color"),
            ("depth", "16"),
            ("test-picture", "Color pattern"),
        ],
        false,
    );
}

#[test]
fn padding_read_limits_and_io_modes_match_scanimage() {
    let Some(cfg) = sane_env() else { return };
    compare(cfg.path(), &with(&[("ppl-loss", "7")]), false);
    compare(
        cfg.path(),
        &with(&[("mode", "Color"), ("depth", "16"), ("ppl-loss", "3")]),
        false,
    );
    // Odd read sizes split 16-bit samples across reads.
    compare(
        cfg.path(),
        &with(&[
            ("depth", "16"),
            ("read-limit", "yes"),
            ("read-limit-size", "37"),
        ]),
        false,
    );
    compare(
        cfg.path(),
        &with(&[
            ("non-blocking", "yes"),
            ("read-limit", "yes"),
            ("read-limit-size", "100"),
        ]),
        false,
    );
    compare(cfg.path(), &with(&[("select-fd", "yes")]), false);
    compare(
        cfg.path(),
        &with(&[
            ("mode", "Color"),
            ("non-blocking", "yes"),
            ("select-fd", "yes"),
        ]),
        false,
    );
}

#[test]
fn adf_gives_ten_pages_then_ends_normally() {
    let Some(cfg) = sane_env() else { return };
    let n = compare(
        cfg.path(),
        &with(&[("source", "Automatic Document Feeder")]),
        true,
    );
    assert_eq!(n, 10);
}

#[test]
fn every_read_status_is_its_own_typed_error_and_never_a_page() {
    let Some(cfg) = sane_env() else { return };
    let cases = [
        ("SANE_STATUS_UNSUPPORTED", "unsupported"),
        ("SANE_STATUS_CANCELLED", "cancelled"),
        ("SANE_STATUS_DEVICE_BUSY", "device-busy"),
        ("SANE_STATUS_INVAL", "invalid"),
        ("SANE_STATUS_EOF", "cut-short"),
        ("SANE_STATUS_JAMMED", "jammed"),
        ("SANE_STATUS_NO_DOCS", "no-docs"),
        ("SANE_STATUS_COVER_OPEN", "cover-open"),
        ("SANE_STATUS_IO_ERROR", "io-error"),
        ("SANE_STATUS_NO_MEM", "no-mem"),
        ("SANE_STATUS_ACCESS_DENIED", "access-denied"),
    ];
    let mut seen = std::collections::HashSet::new();
    for source in ["Flatbed", "Automatic Document Feeder"] {
        for (status, code) in cases {
            let tmp = tempfile::tempdir().unwrap();
            let out_dir = tmp.path().join("out");
            let out = sohoa(
                cfg.path(),
                &[
                    "capture",
                    "--device",
                    "test:0",
                    "--out",
                    out_dir.to_str().unwrap(),
                    "--opt",
                    "resolution=50",
                    "--opt",
                    &format!("source={source}"),
                    "--opt",
                    &format!("read-return-value={status}"),
                ],
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{status}: {err}");
            assert!(err.contains(&format!("[{code}]")), "{status}: {err}");
            assert!(!err.contains("panicked"), "{status}: {err}");
            assert!(
                files(&out_dir).is_empty(),
                "{status}: a page was saved from a failed read: {:?}",
                files(&out_dir)
            );
            seen.insert(code);
        }
    }
    assert_eq!(seen.len(), cases.len(), "codes are not distinct");
    // Operator messages exist in both languages for the feeder errors.
    let tmp = tempfile::tempdir().unwrap();
    let out = sohoa(
        cfg.path(),
        &[
            "capture",
            "--device",
            "test:0",
            "--out",
            tmp.path().to_str().unwrap(),
            "--opt",
            "read-return-value=SANE_STATUS_JAMMED",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Kẹt giấy") && err.contains("Paper jam"),
        "{err}"
    );
}

#[test]
fn slow_device_is_cancelled_promptly() {
    let Some(cfg) = sane_env() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    // 200 ms per 64 KiB buffer, 5.5 MB: over 15 s if not cancelled.
    let mut child = Command::new(SOHOA)
        .args([
            "capture",
            "--device",
            "test:0",
            "--out",
            out_dir.to_str().unwrap(),
            "--opt",
            "resolution=300",
            "--opt",
            "br-x=200",
            "--opt",
            "br-y=200",
            "--opt",
            "read-delay=yes",
            "--opt",
            "read-delay-duration=200000",
        ])
        .env("SANE_CONFIG_DIR", cfg.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sohoa");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "finished too early");
    let t0 = Instant::now();
    let k = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(k.success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("not cancelled within 5 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let waited = t0.elapsed();
    assert_eq!(status.code(), Some(130));
    assert!(files(&out_dir).is_empty(), "a cancelled page was saved");
    eprintln!("cancelled in {waited:?}");
}

#[test]
fn devices_lists_options_and_buttons() {
    let Some(cfg) = sane_env() else { return };
    let out = sohoa(cfg.path(), &["devices", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let test0 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"]["name"] == "test:0")
        .expect("test:0 listed");
    assert_eq!(test0["device"]["vendor"], "Noname");
    let opts = test0["options"].as_array().unwrap();
    let mode = opts.iter().find(|o| o["name"] == "mode").unwrap();
    assert_eq!(mode["value"], "Gray");
    assert_eq!(
        mode["constraint"]["string_list"],
        serde_json::json!(["Gray", "Color"])
    );
    assert!(test0["buttons"].is_array());
}

#[test]
fn missing_device_is_a_clear_error() {
    let Some(cfg) = sane_env() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = sohoa(
        cfg.path(),
        &[
            "capture",
            "--device",
            "nosuch:0",
            "--out",
            tmp.path().to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("[no-device]"), "{err}");
    let out = sohoa(
        cfg.path(),
        &[
            "capture",
            "--device",
            "test:0",
            "--out",
            tmp.path().to_str().unwrap(),
            "--opt",
            "depth=12",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[bad-option]"), "{err}");
}

#[test]
fn scan_files_an_adf_batch_through_the_intake() {
    let Some(cfg) = sane_env() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(SOHOA)
        .args(["scan", "--book", "KS.2024.01", "--device", "test:0"])
        .env("SANE_CONFIG_DIR", cfg.path())
        .current_dir(cwd.path())
        .output()
        .expect("run sohoa scan");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The test backend sends ten identical pages; the intake files the first
    // and reports the others as duplicates.
    assert!(text.contains("page(s) filed into KS.2024.01"), "{text}");
    let archive = cwd.path().join("sohoa-data/archive");
    let mut n = 0;
    let mut stack = vec![archive];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    assert!(n >= 1, "nothing filed");
}
