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

/// A command for the real binary, run inside `dir`. SANE sees no backend
/// (an empty private dll.conf), so no test probes the machine's scanners or
/// network; the scanner tests set their own `SANE_CONFIG_DIR`.
pub fn sohoa(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sohoa"));
    c.current_dir(dir)
        .env("RUST_LOG", "warn")
        .env("SANE_CONFIG_DIR", sane_off());
    c
}

/// A SANE config folder with no backends.
pub fn sane_off() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sohoa-tests-sane-off-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dll.conf"), "").unwrap();
    dir
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

/// `require` for a program a test then runs: its name, or `None` after the
/// loud skip (a failure under `CI=true`).
pub fn tool(program: &'static str, package: &str) -> Option<&'static str> {
    require(program, package).then_some(program)
}

/// Runs a reference tool, failing the test with its output when it fails;
/// returns what it printed.
pub fn run_tool(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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

/// A running `sohoa daemon` in a scratch folder, killed on drop.
pub struct Daemon {
    pub dir: PathBuf,
    pub port: u16,
    pub child: std::process::Child,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Daemon {
    /// Starts the daemon in `dir` with `extra` appended to a config that
    /// sets a free port. Waits until it listens.
    pub fn start(dir: &Path, extra: &str) -> Daemon {
        let port = free_port();
        std::fs::write(
            dir.join("test.toml"),
            format!("[server]\nlisten = \"127.0.0.1:{port}\"\n{extra}"),
        )
        .unwrap();
        Daemon::start_with(dir, port)
    }

    /// Starts again with the config already in `dir`.
    pub fn start_with(dir: &Path, port: u16) -> Daemon {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("daemon.log"))
            .unwrap();
        let child = sohoa(dir)
            .env("RUST_LOG", "info")
            .args(["daemon", "--config", "test.toml"])
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let d = Daemon {
            dir: dir.to_path_buf(),
            port,
            child,
        };
        wait_until(
            std::time::Duration::from_secs(30),
            "the daemon listens",
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        d
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    /// SIGTERM, and wait for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }

    /// kill -9: no chance to clean up.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::forget(self);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `cond` until it holds, failing with `what` after `limit`.
pub fn wait_until(limit: std::time::Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + limit;
    while !cond() {
        assert!(
            std::time::Instant::now() < end,
            "timed out waiting until {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Reads the journal of `dir/sohoa-data`: (seq, source, state) of every page.
pub fn journal_pages(dir: &Path) -> Vec<(Option<u32>, String, String)> {
    let conn = rusqlite::Connection::open(dir.join("sohoa-data/state/journal.sqlite")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT seq, source, state FROM pages ORDER BY seq IS NULL, seq, id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// How many pages the journal holds as filed.
pub fn filed_count(dir: &Path) -> usize {
    journal_pages(dir).iter().filter(|p| p.2 == "filed").count()
}

/// A small distinct grey PNG for file number `n`.
pub fn numbered_png(n: u32) -> Vec<u8> {
    let img = image::GrayImage::from_fn(160, 220, |x, y| {
        let bit = (n >> ((x / 16) % 12)) & 1;
        image::Luma([if y > 200 && bit == 1 {
            30
        } else {
            235 - (x % 7) as u8
        }])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A scratch folder in memory (/dev/shm) when there is one: for tests that
/// kill processes, where fsync costs time but proves nothing (a killed
/// process loses nothing the kernel already holds).
pub fn ram_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}
