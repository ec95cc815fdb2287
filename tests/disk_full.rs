//! A full disk pauses intake with a clear error and resumes by itself when
//! space returns, with nothing lost. The data folder is a small tmpfs, so
//! this test needs root (CI runs as root); elsewhere it skips loudly.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_bytes(path: &Path) -> u64 {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_full_disk_pauses_intake_and_it_resumes_by_itself() {
    if !is_root() {
        let msg = "mounting a small tmpfs needs root";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and {msg}"
        );
        eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("sohoa-data");
    std::fs::create_dir(&data).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(ok.success(), "mount tmpfs failed");
    let _mount = Mount(data.clone());
    let watch = work.path().join("watch");
    let d = Daemon::start(
        work.path(),
        &format!(
            "[paths]\nwatch = \"{}\"\n[watch]\nstable_secs = 0.3\npoll_secs = 0.2\n",
            watch.display()
        ),
    );
    // Fill the disk, leaving room for about one page.
    let filler = data.join("filler.bin");
    let room = free_bytes(&data).saturating_sub(150_000);
    std::fs::write(&filler, vec![0u8; room as usize]).unwrap();
    let book = watch.join("KS.2011.05");
    std::fs::create_dir_all(&book).unwrap();
    for i in 1..=12u32 {
        std::fs::write(book.join(format!("p{i}.png")), numbered_png(i)).unwrap();
    }
    wait_until(
        Duration::from_secs(30),
        "intake reports the full disk",
        || d.log().contains("disk full"),
    );
    // Nothing was lost: files not taken are still in the watch folder.
    std::thread::sleep(Duration::from_secs(1));
    let waiting = files_under(&book).len();
    assert!(
        waiting > 0,
        "every file was taken although the disk was full"
    );
    // Space returns; intake resumes by itself.
    std::fs::remove_file(&filler).unwrap();
    wait_until(Duration::from_secs(60), "all 12 pages are filed", || {
        filed_count(work.path()) == 12
    });
    let pages = journal_pages(work.path());
    let names: Vec<String> = pages
        .iter()
        .map(|p| {
            Path::new(&p.1)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into()
        })
        .collect();
    assert_eq!(
        names,
        (1..=12).map(|i| format!("p{i}.png")).collect::<Vec<_>>(),
        "{}",
        d.log()
    );
    assert_eq!(files_under(&data.join("archive")).len(), 12);
    assert!(d.stop().success());
}
