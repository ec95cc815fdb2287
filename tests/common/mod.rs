//! Shared helpers for integration tests: running the real `sohoa` binary in
//! a scratch folder, the corpus location, and the rule for tests that need
//! a system package (skip loudly, but fail under `CI=true`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared corpus of real scanned pages, beside the repository.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// Corpus images (not the README), sorted by name.
pub fn corpus_images() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("../shared/corpus must sit beside the repository")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("png" | "jpg" | "tif")
            )
        })
        .collect();
    v.sort();
    v
}

/// A command for the real binary, run inside `dir`.
pub fn sohoa(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sohoa"));
    c.current_dir(dir).env("RUST_LOG", "warn");
    c
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    sohoa(dir)
        .args(args)
        .output()
        .expect("the sohoa binary runs")
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether a needed system program is present. When it is missing the test
/// is skipped with a loud message naming the Debian package, except under
/// `CI=true`, where a missing package is a failure.
pub fn require(program: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    let msg = format!("`{program}` not found: install the Debian package `{package}` (apt-get install -y {package})");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true and {msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
    false
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}
