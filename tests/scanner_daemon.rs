//! The daemon's scanner source against SANE's real `test` backend: a scan
//! request (as a button press would) files the whole ADF batch into the open
//! book; a jam reaches the operator page as a plain message in Vietnamese
//! and English, and the daemon keeps running.

mod common;
#[path = "support/http.rs"]
mod http;

use std::path::Path;
use std::time::Duration;

use common::*;

/// A private SANE config with only the `test` backend, one device.
fn sane_test_config(dir: &Path, read_status: &str) -> Option<std::path::PathBuf> {
    if !require("scanimage", "sane-utils") {
        return None;
    }
    let cfg = dir.join("sane");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("dll.conf"), "test\n").unwrap();
    std::fs::write(
        cfg.join("test.conf"),
        format!("number_of_devices 1\nmode Gray\ndepth 8\nresolution 50.0\ntest-picture \"Color pattern\"\nread-status-code \"{read_status}\"\n"),
    )
    .unwrap();
    let listed = std::process::Command::new("scanimage")
        .arg("-L")
        .env("SANE_CONFIG_DIR", &cfg)
        .output()
        .unwrap();
    if !String::from_utf8_lossy(&listed.stdout).contains("test:0") {
        let msg = "SANE's test backend is not available: install the Debian package `libsane1`";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and {msg}"
        );
        eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
        return None;
    }
    Some(cfg)
}

fn start(dir: &Path, sane: &Path) -> (Daemon, std::net::SocketAddr) {
    let port = free_port();
    std::fs::write(
        dir.join("test.toml"),
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\n[scanner]\nresolution = 50\npage = \"\"\nsource = \"adf\"\nrescan_secs = 1\nbutton_poll_ms = 200\n"),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
    let child = sohoa(dir)
        .env("RUST_LOG", "info")
        .env("SANE_CONFIG_DIR", sane)
        .args(["daemon", "--config", "test.toml"])
        .stderr(log)
        .spawn()
        .unwrap();
    let d = Daemon {
        dir: dir.to_path_buf(),
        port,
        child,
    };
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_until(
        Duration::from_secs(30),
        "the daemon lists the test scanner",
        || {
            std::net::TcpStream::connect(addr).is_ok()
                && http::request(addr, "GET", "/api/scanners", &[], b"")
                    .text()
                    .contains("test:0")
        },
    );
    (d, addr)
}

/// Creates `book` through the API and opens it for scanning.
fn open_book(addr: std::net::SocketAddr, book: &str) {
    let body = format!(r#"{{"book":"{book}","open":true}}"#);
    let r = http::request(
        addr,
        "POST",
        "/api/books",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert!(r.status < 300, "{} {}", r.status, r.text());
}

fn scanner_state(addr: std::net::SocketAddr) -> serde_json::Value {
    http::request(addr, "GET", "/api/scanners", &[], b"").json()[0].clone()
}

/// How many scanner errors the journal recorded (None while unreadable).
fn scanner_errors(dir: &Path) -> Option<i64> {
    rusqlite::Connection::open(dir.join("sohoa-data/state/journal.sqlite"))
        .and_then(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM events WHERE kind = 'scanner_error'",
                [],
                |r| r.get(0),
            )
        })
        .ok()
}

/// Stops the daemon and checks it left cleanly (exit 0), showing its log if not.
fn stop_cleanly(d: Daemon, dir: &Path) {
    let log_path = dir.join("daemon.log");
    let status = d.stop();
    assert!(
        status.success(),
        "{status:?}\n{}",
        std::fs::read_to_string(log_path).unwrap_or_default()
    );
}

#[test]
fn a_scan_request_files_the_whole_feeder_into_the_open_book() {
    let work = tempfile::tempdir().unwrap();
    let Some(sane) = sane_test_config(work.path(), "Default") else {
        return;
    };
    let (d, addr) = start(work.path(), &sane);
    open_book(addr, "KS.2010.01");
    let r = http::request(addr, "POST", "/api/scanners/scan?device=test:0", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    // The test backend's feeder holds 10 sheets; identical sheets are
    // still 10 pages, not duplicates.
    wait_until(Duration::from_secs(60), "10 pages are filed", || {
        filed_count(work.path()) == 10
    });
    wait_until(
        Duration::from_secs(10),
        "the scanner is ready again",
        || scanner_state(addr)["state"] == "ready",
    );
    assert_eq!(scanner_state(addr)["message_en"], "10 pages scanned");
    let filed = files_under(
        &work
            .path()
            .join("sohoa-data/archive/Chưa đặt/KS/2010/KS.2010.01"),
    );
    assert_eq!(filed.len(), 10, "{filed:?}\n{}", d.log());
    // The scan's resolution travelled with the page.
    let conn =
        rusqlite::Connection::open(work.path().join("sohoa-data/state/journal.sqlite")).unwrap();
    let report: String = conn
        .query_row("SELECT report FROM pages WHERE seq = 1", [], |r| r.get(0))
        .unwrap();
    assert!(report.contains("\"dpi\":50"), "{report}");
    stop_cleanly(d, work.path());
}

#[test]
fn a_jam_reaches_the_operator_and_the_daemon_keeps_running() {
    let work = tempfile::tempdir().unwrap();
    let Some(sane) = sane_test_config(work.path(), "SANE_STATUS_JAMMED") else {
        return;
    };
    let (d, addr) = start(work.path(), &sane);
    open_book(addr, "KT.2011.02");
    let r = http::request(addr, "POST", "/api/scanners/scan", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    wait_until(Duration::from_secs(30), "the jam is reported", || {
        scanner_state(addr)["state"] == "error"
    });
    let s = scanner_state(addr);
    assert!(s["message_vi"].as_str().unwrap().contains("kẹt"), "{s}");
    assert!(
        s["message_en"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("jam"),
        "{s}"
    );
    // Nothing cut short was filed as a whole page.
    assert_eq!(filed_count(work.path()), 0);
    // Still serving.
    assert_eq!(
        http::request(addr, "GET", "/api/health", &[], b"").status,
        200
    );
    assert_eq!(scanner_errors(work.path()), Some(1));
    stop_cleanly(d, work.path());
}

/// `saned` serving the `test` backend on 127.0.0.1 (SANE's default port),
/// in its own process group so that "unplugging" it kills its children too.
struct Saned {
    child: std::process::Child,
}

impl Saned {
    fn start(server_cfg: &Path, log: &Path) -> Saned {
        use std::os::unix::process::CommandExt;
        let program = ["/usr/sbin/saned", "saned"]
            .into_iter()
            .find(|p| !p.starts_with('/') || Path::new(p).exists())
            .unwrap();
        let child = std::process::Command::new(program)
            .args(["-l", "-e", "-b", "127.0.0.1", "-d", "1"])
            .env("SANE_CONFIG_DIR", server_cfg)
            .stderr(std::fs::File::create(log).unwrap())
            .process_group(0)
            .spawn()
            .unwrap();
        let s = Saned { child };
        wait_until(Duration::from_secs(10), "saned listens on 6566", || {
            std::net::TcpStream::connect("127.0.0.1:6566").is_ok()
        });
        s
    }

    /// Kills saned's whole process group (it forks one child per client).
    fn kill(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .status();
        let _ = self.child.wait();
    }

    /// The cable pulled: saned and every connection it serves die at once.
    fn unplug(mut self) {
        self.kill();
        wait_until(Duration::from_secs(10), "port 6566 is closed", || {
            std::net::TcpStream::connect("127.0.0.1:6566").is_err()
        });
    }
}

impl Drop for Saned {
    fn drop(&mut self) {
        self.kill();
    }
}

fn listed(addr: std::net::SocketAddr) -> Vec<String> {
    http::request(addr, "GET", "/api/scanners", &[], b"")
        .json()
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect()
}

/// A network scanner (the `test` backend behind `saned`, reached through
/// SANE's `net` backend) vanishes mid-scan, as an unplugged USB scanner
/// does: the batch stops with a typed error and nothing half-read is filed,
/// the daemon keeps serving, and when the scanner comes back it is found
/// again by itself and scans into the same book.
#[test]
fn a_scanner_unplugged_mid_scan_is_found_again_and_scans() {
    let work = tempfile::tempdir().unwrap();
    if sane_test_config(work.path(), "Default").is_none() {
        return;
    }
    if !Path::new("/usr/sbin/saned").exists() && !require("saned", "sane-utils") {
        return;
    }
    if std::net::TcpStream::connect("127.0.0.1:6566").is_ok() {
        panic!("something already listens on 127.0.0.1:6566 (a system saned?); stop it to run this test");
    }
    let server = work.path().join("saned");
    std::fs::create_dir_all(&server).unwrap();
    std::fs::write(server.join("dll.conf"), "test\n").unwrap();
    std::fs::write(server.join("saned.conf"), "127.0.0.1\n").unwrap();
    // First a slow scanner: a tenth of a second per line.
    let slow = "number_of_devices 1\nmode Gray\ndepth 8\nresolution 50.0\ntest-picture \"Grid\"\nread-delay true\nread-delay-duration 100000\n";
    std::fs::write(server.join("test.conf"), slow).unwrap();
    let client = work.path().join("client");
    std::fs::create_dir_all(&client).unwrap();
    std::fs::write(client.join("dll.conf"), "net\n").unwrap();
    std::fs::write(client.join("net.conf"), "connect_timeout = 5\n127.0.0.1\n").unwrap();

    let saned = Saned::start(&server, &work.path().join("saned-1.log"));
    let (d, addr) = start(work.path(), &client);
    let name = listed(addr)
        .into_iter()
        .find(|n| n.starts_with("net:") && n.ends_with("test:0"))
        .unwrap_or_else(|| panic!("no net:…:test:0 in {:?}\n{}", listed(addr), d.log()));
    open_book(addr, "KH.2012.03");
    let scan = format!("/api/scanners/scan?device={name}");
    assert_eq!(http::request(addr, "POST", &scan, &[], b"").status, 200);
    wait_until(
        Duration::from_secs(20),
        "the slow scan is under way",
        || scanner_state(addr)["state"] == "scanning",
    );
    std::thread::sleep(Duration::from_millis(500));
    saned.unplug();

    // The batch stops with a typed error; the scanner leaves the list.
    wait_until(
        Duration::from_secs(30),
        "the scanner error is recorded",
        || scanner_errors(work.path()) == Some(1),
    );
    wait_until(
        Duration::from_secs(30),
        "the scanner is gone from the list",
        || !listed(addr).contains(&name),
    );
    // The page in flight (a page takes ~20 s here) is held in the spool,
    // flagged for a rescan, never filed.
    let pages = journal_pages(work.path());
    assert!(
        pages.iter().all(|p| p.2 != "filed"),
        "a half-read page was filed: {pages:?}"
    );
    assert_eq!(
        pages.iter().filter(|p| p.2 == "quarantined").count(),
        1,
        "{pages:?}"
    );
    let state = scanner_state(addr);
    assert!(state.is_null() || state["state"] != "scanning", "{state}");
    assert_eq!(
        http::request(addr, "GET", "/api/health", &[], b"").status,
        200
    );

    // Plugged back in, now at full speed: found again without a restart.
    std::fs::write(
        server.join("test.conf"),
        "number_of_devices 1\nmode Gray\ndepth 8\nresolution 50.0\ntest-picture \"Color pattern\"\n",
    )
    .unwrap();
    let _saned = Saned::start(&server, &work.path().join("saned-2.log"));
    wait_until(
        Duration::from_secs(30),
        "the scanner is found again",
        || listed(addr).contains(&name),
    );
    assert_eq!(scanner_state(addr)["state"], "ready");
    assert_eq!(http::request(addr, "POST", &scan, &[], b"").status, 200);
    wait_until(Duration::from_secs(60), "10 pages are filed", || {
        filed_count(work.path()) == 10
    });
    stop_cleanly(d, work.path());
}
