//! The daemon on built-in defaults: creates its folders, serves, and stops
//! cleanly (exit 0) on SIGINT and SIGTERM; check-config reports bad keys.

mod common;

use std::time::{Duration, Instant};

use common::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn stops_cleanly_on(signal: &str) {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        work.path().join("c.toml"),
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let mut child = sohoa(work.path())
        .args(["daemon", "--config", "c.toml"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "daemon did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    for sub in ["watch", "archive", "state"] {
        assert!(
            work.path().join("sohoa-data").join(sub).is_dir(),
            "{sub} missing"
        );
    }
    assert!(work
        .path()
        .join("sohoa-data/state/journal.sqlite")
        .is_file());
    let status = std::process::Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(code) = child.try_wait().unwrap() {
            break code;
        }
        assert!(Instant::now() < deadline, "daemon did not stop on {signal}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    assert!(code.success(), "exit {code:?}: {}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("http://127.0.0.1:{port}/")));
    // Logs carry no colour codes when not on a terminal.
    assert!(!String::from_utf8_lossy(&out.stderr).contains('\u{1b}'));
}

#[test]
fn daemon_stops_cleanly_on_sigterm() {
    stops_cleanly_on("TERM");
}

#[test]
fn daemon_stops_cleanly_on_sigint() {
    stops_cleanly_on("INT");
}

#[test]
fn check_config_names_the_key_and_the_problem() {
    let work = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[output]\njpeg_quality = 0\n",
            "output.jpeg_quality: 0 is out of range",
        ),
        (
            "[output]\njpeg_quality = 500\n",
            "output.jpeg_quality: TOML parse error",
        ),
        ("[naming]\npgae = \"x\"\n", "naming.pgae"),
        (
            "[server]\nlisten = \"0.0.0.0:80\"\n",
            "server.token must be set",
        ),
        ("[paths]\ndata = \"\"\n", "paths.data: must not be empty"),
        ("not toml at all [", "TOML parse error"),
    ];
    for (toml, want) in cases {
        std::fs::write(work.path().join("bad.toml"), toml).unwrap();
        let out = run(work.path(), &["check-config", "bad.toml"]);
        assert_eq!(out.status.code(), Some(2), "{toml}: {}", text(&out));
        assert!(
            text(&out).contains(want),
            "{toml}: expected {want:?} in {}",
            text(&out)
        );
    }
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sohoa.toml");
    let out = run(work.path(), &["check-config", example.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("KS.2010.01.p0001.jpg"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_daemon_with_a_bad_config_refuses_to_start_and_says_why() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("c.toml"),
        "[imaging]\ncrop_margin_mm = -4\n",
    )
    .unwrap();
    let out = run(work.path(), &["daemon", "--config", "c.toml"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("imaging.crop_margin_mm"),
        "{}",
        text(&out)
    );
}
