//! Capture throughput: `sohoa capture` against `scanimage --format=pnm` on
//! the same `test`-backend settings, same run, median of several rounds;
//! prints MB/s and the ratio (time sohoa / time scanimage; near 1 is the
//! goal, the backend being the bottleneck for both).
//!
//! Run: `cargo bench --bench capture` (needs libsane1 and sane-utils).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SOHOA: &str = env!("CARGO_BIN_EXE_sohoa");

struct Case {
    name: &'static str,
    opts: &'static [(&'static str, &'static str)],
    adf: bool,
}

fn scanimage_args(opts: &[(&str, &str)]) -> Vec<String> {
    opts.iter()
        .flat_map(|(n, v)| match *n {
            "br-x" => vec!["-x".to_string(), v.to_string()],
            "br-y" => vec!["-y".to_string(), v.to_string()],
            _ => vec![format!("--{n}={v}")],
        })
        .collect()
}

fn time(mut cmd: Command) -> Duration {
    let t = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    let d = t.elapsed();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

fn dir_bytes(d: &Path) -> u64 {
    std::fs::read_dir(d)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let cfg = tempfile::tempdir().expect("tempdir");
    std::fs::write(cfg.path().join("dll.conf"), "test\n").expect("dll.conf");
    let probe = Command::new("scanimage")
        .arg("-L")
        .env("SANE_CONFIG_DIR", cfg.path())
        .output();
    if !probe.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("test:0")) {
        eprintln!("SKIPPED: needs Debian packages libsane1 and sane-utils");
        return;
    }
    let cases = [
        Case {
            name: "color 8-bit 300 dpi 200x200 mm, 1 page",
            opts: &[
                ("mode", "Color"),
                ("resolution", "300"),
                ("br-x", "200"),
                ("br-y", "200"),
                ("test-picture", "Color pattern"),
            ],
            adf: false,
        },
        Case {
            name: "gray 16-bit 300 dpi 200x200 mm, 1 page",
            opts: &[
                ("depth", "16"),
                ("resolution", "300"),
                ("br-x", "200"),
                ("br-y", "200"),
                ("test-picture", "Color pattern"),
            ],
            adf: false,
        },
        Case {
            name: "gray 8-bit 150 dpi A4-ish ADF, 10 pages",
            opts: &[
                ("source", "Automatic Document Feeder"),
                ("resolution", "150"),
                ("br-x", "200"),
                ("br-y", "200"),
                ("test-picture", "Grid"),
            ],
            adf: true,
        },
    ];
    let rounds = 11;
    println!("capture throughput, median of {rounds} rounds (SANE test backend)");
    for c in &cases {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        let mut bytes = 0;
        for _ in 0..rounds {
            let tmp = tempfile::tempdir().expect("tempdir");
            let a = tmp.path().join("a");
            let b = tmp.path().join("b");
            std::fs::create_dir_all(&b).expect("mkdir");
            let mut s = Command::new(SOHOA);
            s.env("SANE_CONFIG_DIR", cfg.path()).args([
                "capture",
                "--device",
                "test:0",
                "--out",
                a.to_str().expect("utf-8 path"),
            ]);
            for (n, v) in c.opts {
                s.arg("--opt").arg(format!("{n}={v}"));
            }
            let mut r = Command::new("scanimage");
            r.env("SANE_CONFIG_DIR", cfg.path())
                .args(["-d", "test:0", "--format=pnm"])
                .args(scanimage_args(c.opts));
            if c.adf {
                r.arg(format!("--batch={}/page-%04d.pnm", b.display()));
            } else {
                r.arg("-o").arg(b.join("page-0001.pnm"));
            }
            // Alternate the order so neither tool always runs on a warm cache.
            if ours.len() % 2 == 0 {
                ours.push(time(s));
                theirs.push(time(r));
            } else {
                theirs.push(time(r));
                ours.push(time(s));
            }
            bytes = dir_bytes(&a);
            assert_eq!(bytes, dir_bytes(&b), "outputs differ in size");
        }
        let (o, t) = (median(ours), median(theirs));
        let mb = bytes as f64 / 1e6;
        println!(
            "{:<42} {:>7.1} MB  sohoa {:>7.1} ms ({:>6.1} MB/s)  scanimage {:>7.1} ms ({:>6.1} MB/s)  ratio {:.2}",
            c.name,
            mb,
            o.as_secs_f64() * 1e3,
            mb / o.as_secs_f64(),
            t.as_secs_f64() * 1e3,
            mb / t.as_secs_f64(),
            o.as_secs_f64() / t.as_secs_f64()
        );
    }
}
