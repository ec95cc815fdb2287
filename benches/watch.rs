//! Watch-folder figures, measured against the real daemon binary:
//! - latency from a file becoming complete (atomic rename into the folder)
//!   to its page being filed, with the default settle delay and a short one;
//! - pages per second for a 500-file drop.
//!
//! Run: `cargo bench --bench watch`. Prints figures; asserts nothing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn filed(dir: &Path) -> usize {
    let Ok(conn) = rusqlite::Connection::open(dir.join("sohoa-data/state/journal.sqlite")) else {
        return 0;
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    conn.query_row(
        "SELECT COUNT(*) FROM pages WHERE state = 'filed'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap_or(0) as usize
}

fn start(dir: &Path, stable: f64) -> Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        dir.join("bench.toml"),
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\n[scanner]\nenabled = false\n[watch]\nstable_secs = {stable}\npoll_secs = 0.1\n"),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_sohoa"))
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .args(["daemon", "--config", "bench.toml"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// A4 at 150 dpi, grey, with a few text-like bars; `n` makes it unique.
fn page(n: u32) -> Vec<u8> {
    let img = image::GrayImage::from_fn(1240, 1754, |x, y| {
        let line = (y / 40) % 2 == 0 && (x / 9 + y / 40 + n) % 5 != 0 && x > 100 && x < 1140;
        image::Luma([if line && y % 40 < 14 {
            40
        } else {
            236 - ((x ^ y ^ n) % 9) as u8
        }])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn drop_file(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!("{name}.part"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

fn latency(stable: f64) {
    let work = tempfile::tempdir().unwrap();
    let mut child = start(work.path(), stable);
    let book = work.path().join("sohoa-data/watch/KS.2010.01");
    std::fs::create_dir_all(&book).unwrap();
    let mut times = Vec::new();
    for i in 0..8 {
        let bytes = page(i);
        let t = Instant::now();
        drop_file(&book, &format!("p{i}.png"), &bytes);
        while filed(work.path()) < i as usize + 1 {
            std::thread::sleep(Duration::from_millis(5));
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let _ = child.kill();
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "latency complete->filed, stable_secs={stable}: median {:.0} ms, min {:.0} ms, max {:.0} ms (of which settle {:.0} ms)",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        stable * 1e3
    );
}

fn throughput(n: u32) {
    let work = tempfile::tempdir().unwrap();
    let pages: Vec<Vec<u8>> = (0..n).map(page).collect();
    let mut child = start(work.path(), 0.5);
    let book = work.path().join("sohoa-data/watch/KH.2015.02");
    std::fs::create_dir_all(&book).unwrap();
    let t = Instant::now();
    for (i, p) in pages.iter().enumerate() {
        drop_file(&book, &format!("scan-{i}.png"), p);
    }
    while filed(work.path()) < n as usize {
        std::thread::sleep(Duration::from_millis(20));
    }
    let secs = t.elapsed().as_secs_f64();
    let _ = child.kill();
    println!(
        "{n}-file drop (A4 150 dpi grey PNG): {secs:.1} s, {:.1} pages/s on {} cores",
        n as f64 / secs,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    latency(2.0);
    latency(0.3);
    throughput(500);
}
