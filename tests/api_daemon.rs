//! The real daemon binary with an access token: every API request needs
//! it, `/login?token=` sets a cookie the page then works with, and the
//! daemon stops cleanly even with a live event stream open.

#[path = "support/http.rs"]
mod http;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::{get, request};

const TOKEN: &str = "tram-xa-dong-ha-2024-secret";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &std::path::Path, config: &str) -> Child {
    // No scanners here: SANE would probe every backend of the machine.
    std::fs::write(
        dir.join("c.toml"),
        format!("{config}\n[scanner]\nenabled = false\n"),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_sohoa"))
        .args(["daemon", "--config", "c.toml"])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_listening(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("daemon exited {status}: {err}");
        }
        assert!(Instant::now() < deadline, "daemon did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn token_guards_every_request_and_the_page_works_with_its_cookie() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = start(
        work.path(),
        &format!("[server]\nlisten = \"127.0.0.1:{port}\"\ntoken = \"{TOKEN}\"\n"),
    );
    wait_listening(port, &mut child);
    let addr = format!("127.0.0.1:{port}").parse().unwrap();

    let r = get(addr, "/api/status");
    assert_eq!(r.status, 401);
    assert!(r.json()["error"].as_str().unwrap().contains("token"));
    let r = request(
        addr,
        "GET",
        "/api/status",
        &[("Authorization", "Bearer wrong-token-wrong-token")],
        b"",
    );
    assert_eq!(r.status, 401);
    // The page sends the browser to the login form.
    let r = get(addr, "/");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/login"));
    assert_eq!(get(addr, "/login?token=nope").status, 401);

    let bearer = format!("Bearer {TOKEN}");
    let r = request(
        addr,
        "GET",
        "/api/status",
        &[("Authorization", &bearer)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["headline"]["state"], "no_book");

    let r = get(addr, &format!("/login?token={TOKEN}"));
    assert_eq!(r.status, 303);
    let cookie = r.header("set-cookie").unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(
        !cookie.contains(TOKEN),
        "the cookie must not hold the token"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let r = request(addr, "GET", "/", &[("Cookie", &pair)], b"");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Số hóa sổ hộ tịch"));
    let r = request(
        addr,
        "PUT",
        "/api/current",
        &[("Cookie", &pair), ("Content-Type", "application/json")],
        br#"{"type": "KH", "year": 1999, "number": 3}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["book"]["name"], "KH.1999.03");

    // A live event stream does not hold up a clean stop.
    let mut sse = http::Sse::open(addr, &[("Cookie", &pair)]);
    assert!(sse.wait(|d| d == "connected", 10).0);
    Command::new("kill")
        .args(["-s", "TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "daemon did not stop with an SSE client open"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
}

#[test]
fn listening_beyond_loopback_needs_a_token() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = start(
        work.path(),
        &format!("[server]\nlisten = \"0.0.0.0:{port}\"\n"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "daemon started without a token on 0.0.0.0"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("server.token"), "{err}");
}
