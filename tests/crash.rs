//! kill -9 at random moments during a 200-page ingest, 20 times. After each
//! crash a second run finishes the batch; then every page is in the archive
//! exactly once, no temp file is left, and the journal agrees with the files.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use common::*;
use sha2::{Digest, Sha256};

const PAGES: u32 = 200;

fn sha_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn ingest(dir: &Path) -> std::process::Child {
    sohoa(dir)
        .args(["ingest", "in", "--book", "KS.2010.01", "--config", "c.toml"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The archive, the journal and the spool agree, with every page once.
fn check_consistent(dir: &Path) {
    let data = dir.join("sohoa-data");
    let conn = rusqlite::Connection::open(data.join("state/journal.sqlite")).unwrap();
    let mut stmt = conn
        .prepare("SELECT seq, source, state, archive_path, sha256 FROM pages ORDER BY seq")
        .unwrap();
    let rows: Vec<(u32, String, String, String, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows.len(), PAGES as usize, "pages in the journal");
    for (i, (seq, source, state, path, sha)) in rows.iter().enumerate() {
        assert_eq!(*seq, i as u32 + 1);
        assert!(
            source.ends_with(&format!("/p{}.png", i + 1)),
            "page {seq} came from {source}"
        );
        assert_eq!(state, "filed");
        let bytes = std::fs::read(data.join("archive").join(path)).unwrap();
        assert_eq!(
            &sha_hex(&bytes),
            sha,
            "page {seq}: the file differs from what the journal recorded"
        );
    }
    let files = files_under(&data.join("archive"));
    assert_eq!(
        files.len(),
        PAGES as usize,
        "files in the archive: {files:?}"
    );
    assert!(files.iter().all(|f| !f.contains("sohoa-tmp")));
    assert!(
        files_under(&data.join("state/spool")).is_empty(),
        "the spool is empty once all is filed"
    );
}

#[test]
fn kill_9_at_random_moments_loses_and_duplicates_nothing() {
    let base = ram_tempdir();
    let input = base.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for i in 1..=PAGES {
        std::fs::write(input.join(format!("p{i}.png")), numbered_png(i)).unwrap();
    }
    std::fs::write(base.path().join("c.toml"), "[workers]\nthreads = 2\n").unwrap();

    // How long a whole run takes, to spread the kills over it.
    let clean = ram_tempdir();
    std::os::unix::fs::symlink(&input, clean.path().join("in")).unwrap();
    std::fs::copy(base.path().join("c.toml"), clean.path().join("c.toml")).unwrap();
    let t = Instant::now();
    assert!(ingest(clean.path()).wait().unwrap().success());
    let full = t.elapsed();
    check_consistent(clean.path());

    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("crash test: seed {seed}, a whole run takes {full:?}");
    let mut killed_mid_run = 0;
    for round in 0..20 {
        let work = ram_tempdir();
        std::os::unix::fs::symlink(&input, work.path().join("in")).unwrap();
        std::fs::copy(base.path().join("c.toml"), work.path().join("c.toml")).unwrap();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = full.mul_f64((seed >> 11) as f64 / (1u64 << 53) as f64);
        let mut child = ingest(work.path());
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        killed_mid_run += !finished as u32;
        // The next run recovers what was under way and files the rest.
        let out = sohoa(work.path())
            .args(["ingest", "in", "--book", "KS.2010.01", "--config", "c.toml"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "round {round} (killed after {delay:?}): {}",
            text(&out)
        );
        check_consistent(work.path());
    }
    assert!(
        killed_mid_run >= 10,
        "only {killed_mid_run} of 20 kills landed mid-run"
    );
}
