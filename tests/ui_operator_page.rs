//! The operator page in a real headless Chromium, driven over the DevTools
//! protocol (a minimal client over a websocket, `tungstenite`): log in with
//! the station's token, open a book with the form, see a page arrive live,
//! see an invalid book ID and a paper jam explained, switch to English,
//! and save a screenshot under target/tmp.
//!
//! Needs Debian's `chromium`; skipped loudly when it is missing, a failure
//! under CI=true.

#[path = "support/http.rs"]
mod http;
#[path = "support/server.rs"]
mod server;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use server::Server;
use tungstenite::{Message, WebSocket};

const TOKEN: &str = "ui-test-token-0123456789";

fn chromium() -> Option<String> {
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(c).exists() {
            return Some(c.into());
        }
    }
    let msg =
        "chromium not found: install the Debian package `chromium` (apt-get install -y chromium)";
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true and {msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
    None
}

struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    session: String,
    next: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn launch(bin: &str) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1280,1100",
                "--remote-debugging-port=0",
                "--lang=vi",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        // Chromium prints its DevTools address on stderr.
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("chromium printed its DevTools address");
        let hostport = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let stream = TcpStream::connect(&hostport).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), stream).expect("websocket to chromium");
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next: 0,
            _profile: profile,
        };
        let targets = b.call(None, "Target.getTargets", json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target")["targetId"]
            .clone();
        let attached = b.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": page, "flatten": true}),
        );
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        b.page("Page.enable", json!({}));
        b.page("Runtime.enable", json!({}));
        b
    }

    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = s.into();
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .expect("send to chromium");
        loop {
            let m = self.ws.read().expect("read from chromium");
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
        }
    }

    fn page(&mut self, method: &str, params: Value) -> Value {
        let s = self.session.clone();
        self.call(Some(&s), method, params)
    }

    fn eval(&mut self, expr: &str) -> Value {
        let r = self.page(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is true; on timeout shows what the page shows.
    fn wait(&mut self, what: &str, expr: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            // Mid-navigation the elements may not exist yet: not an error.
            let guarded = format!(
                "(() => {{ try {{ return ({expr}) === true; }} catch (e) {{ return false; }} }})()"
            );
            if self.eval(&guarded) == Value::Bool(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let text = self.eval("document.body.innerText");
        panic!(
            "timed out waiting for {what}; the page shows:\n{}",
            text.as_str().unwrap_or("")
        );
    }

    fn text(&mut self, id: &str) -> String {
        self.eval(&format!("document.getElementById('{id}').textContent"))
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn navigate(&mut self, url: &str) {
        self.page("Page.navigate", json!({"url": url}));
    }

    fn screenshot(&mut self, name: &str) -> std::path::PathBuf {
        let r = self.page(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64_decode(r["data"].as_str().unwrap());
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&path, &png).unwrap();
        path
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= (val(*c) as u32) << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}

#[test]
fn operator_sees_book_pages_errors_and_jam() {
    let Some(bin) = chromium() else { return };
    let s = Server::start(&format!("[server]\ntoken = \"{TOKEN}\"\n"));
    let mut b = Browser::launch(&bin);

    // Log in with the token; the cookie carries the page from then on.
    b.navigate(&s.url(&format!("/login?token={TOKEN}")));
    b.wait(
        "the page to load after login",
        "location.pathname === '/' && document.getElementById('headline').className === 'state-no_book'",
    );
    assert!(b.text("headline-text").contains("Chưa mở sổ"));
    assert_eq!(b.eval("document.documentElement.lang"), "vi");

    // Open a book with the form.
    b.wait(
        "the register list",
        "document.querySelectorAll('#f-type option').length > 3",
    );
    b.eval(
        "document.getElementById('f-type').value = 'KS';
         document.getElementById('f-year').value = '2010';
         document.getElementById('f-number').value = '1';
         document.getElementById('open-btn').click(); true",
    );
    b.wait(
        "the book to open",
        "document.getElementById('book-name').textContent.startsWith('KS.2010.01')",
    );
    assert!(b.text("headline-text").starts_with("Sẵn sàng"));

    // A page arrives (through the API, as the scanner wiring does) and shows up live.
    let book = s
        .handle
        .intake
        .journal()
        .current("station")
        .unwrap()
        .unwrap()
        .id;
    let bytes = server::corpus("1555.003.jpg");
    let auth = format!("Bearer {TOKEN}");
    let r = http::request(
        s.addr,
        "POST",
        &format!("/api/books/{book}/pages?name=1555.003.jpg"),
        &[("Authorization", &auth), ("Content-Type", "image/jpeg")],
        &bytes,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    b.wait(
        "page 1 in the grid with its thumbnail",
        "(() => { const i = document.querySelector('#pages figure[data-seq=\"1\"] img');
                  return !!i && i.complete && i.naturalWidth > 0; })()",
    );
    b.wait(
        "the last-page preview",
        "(() => { const i = document.getElementById('last-img');
                  return !i.hidden && i.complete && i.naturalWidth > 0; })()",
    );
    assert_eq!(b.text("count-pages"), "1");
    assert_eq!(b.text("count-today"), "1");

    // An invalid book ID is explained in Vietnamese.
    b.eval(
        "document.getElementById('f-year').value = '1700';
         document.getElementById('open-btn').click(); true",
    );
    b.wait(
        "the book ID error",
        "!document.getElementById('error').hidden && document.getElementById('error').textContent.includes('Mã sổ không hợp lệ')",
    );
    assert!(b.text("error").contains("1700"));
    // The book stays open.
    assert!(b.text("book-name").starts_with("KS.2010.01"));

    // A paper jam reaches the big state line at once.
    use sohoa::daemon::{ScannerState, ScannerStatus};
    let mut jam = ScannerStatus::ready("fujitsu:fi-7160", "Fujitsu", "fi-7160");
    jam.state = ScannerState::Error;
    jam.page = Some(2);
    jam.message_vi = "giấy bị kẹt — mở nắp máy quét và lấy giấy ra".into();
    jam.message_en = "paper jam: open the scanner cover and take the paper out".into();
    s.handle.set_scanner(jam);
    b.wait(
        "the jam message",
        "document.getElementById('headline').className === 'state-error' &&
         document.getElementById('headline-text').textContent === 'giấy bị kẹt — mở nắp máy quét và lấy giấy ra'",
    );
    let shot = b.screenshot("ui_operator_page_vi.png");

    // English on request.
    b.eval("document.getElementById('lang').click(); true");
    b.wait(
        "the English page",
        "document.getElementById('headline-text').textContent.startsWith('paper jam')",
    );
    assert_eq!(b.eval("document.documentElement.lang"), "en");
    let shot_en = b.screenshot("ui_operator_page_en.png");

    for p in [&shot, &shot_en] {
        let img = image::open(p).expect("screenshot is a PNG");
        assert!(
            img.width() >= 800 && img.height() >= 600,
            "{}x{}",
            img.width(),
            img.height()
        );
        println!("screenshot: {}", p.display());
    }
}
