//! The control API against the real parts in-process (Intake on a temp
//! folder, workers, router on a free port): opening books, page edits with
//! their renames on disk, rescans, cases, errors as JSON, thumbnails.

#[path = "support/http.rs"]
mod http;
#[path = "support/pages.rs"]
mod pages;
#[path = "support/server.rs"]
mod server;

use std::collections::BTreeMap;

use http::{get, json, request};
use pages::page_png;
use serde_json::{json, Value};
use server::{files, Server};

fn upload(s: &Server, method: &str, path: &str, name: &str, bytes: &[u8]) -> http::Resp {
    request(
        s.addr,
        method,
        &format!("{path}?name={name}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    )
}

/// seq -> (source, archive path) of the book's numbered pages.
fn book_pages(s: &Server, book: i64) -> BTreeMap<u64, (String, String)> {
    let r = get(s.addr, &format!("/api/books/{book}/pages"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["pages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["seq"].is_null())
        .map(|p| {
            (
                p["seq"].as_u64().unwrap(),
                (
                    p["source"].as_str().unwrap().to_string(),
                    p["archive_path"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect()
}

fn sources(s: &Server, book: i64) -> Vec<String> {
    book_pages(s, book)
        .into_values()
        .map(|(src, _)| src.trim_start_matches("api:").to_string())
        .collect()
}

fn read_archive(s: &Server, rel: &str) -> Vec<u8> {
    std::fs::read(s.archive().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn open_book(s: &Server) -> i64 {
    let r = json(
        s.addr,
        "PUT",
        "/api/current",
        json!({"type": "KS", "year": 2010, "number": 1}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let b = &r.json()["book"];
    assert_eq!(b["name"], "KS.2010.01");
    assert_eq!(b["locality"], "Đông Hà");
    b["id"].as_i64().unwrap()
}

fn error_of(r: &http::Resp, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text());
    assert!(
        r.header("content-type").unwrap_or("").contains("json"),
        "error is not JSON: {}",
        r.text()
    );
    let v = r.json();
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    v
}

#[test]
fn page_edits_rename_files_in_order_and_lose_nothing() {
    let s = Server::start("");
    let book = open_book(&s);
    let base = format!("/api/books/{book}/pages");
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        let r = upload(&s, "POST", &base, name, &page_png(i as u32));
        assert_eq!(r.status, 202, "{}", r.text());
    }
    s.settle();
    assert_eq!(sources(&s, book), ["a", "b", "c"]);
    let before = book_pages(&s, book);
    let bytes_b = read_archive(&s, &before[&2].1);
    let bytes_c = read_archive(&s, &before[&3].1);
    assert!(before[&1].1.ends_with(&format!(
        "KS.2010.01.p0001.{}",
        before[&1].1.rsplit('.').next().unwrap()
    )));

    // Insert after page 1: b and c move up, their files renamed to match.
    let r = upload(
        &s,
        "POST",
        &format!("{base}/1/insert-after"),
        "d",
        &page_png(3),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["page"]["seq"], 2);
    s.settle();
    assert_eq!(sources(&s, book), ["a", "d", "b", "c"]);
    let after = book_pages(&s, book);
    for (seq, (_, path)) in &after {
        assert!(
            path.contains(&format!(".p{seq:04}.")),
            "page {seq} filed as {path}"
        );
    }
    assert_eq!(read_archive(&s, &after[&3].1), bytes_b);
    assert_eq!(read_archive(&s, &after[&4].1), bytes_c);
    let bytes_d = read_archive(&s, &after[&2].1);
    assert_eq!(files(&s.archive()).len(), 4);

    // Delete page 2: d goes to the trash, b and c move back down.
    let r = request(s.addr, "DELETE", &format!("{base}/2"), &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["page"]["removed"], "deleted");
    assert_eq!(sources(&s, book), ["a", "b", "c"]);
    let now = book_pages(&s, book);
    assert_eq!(read_archive(&s, &now[&2].1), bytes_b);
    assert_eq!(read_archive(&s, &now[&3].1), bytes_c);
    assert_eq!(files(&s.archive()).len(), 3);
    let trash = files(&s.trash());
    assert_eq!(trash.len(), 1);
    assert_eq!(std::fs::read(s.trash().join(&trash[0])).unwrap(), bytes_d);

    // Replace page 3 with new bytes: c's image is kept in the trash.
    let r = upload(&s, "PUT", &format!("{base}/3"), "e", &page_png(4));
    assert_eq!(r.status, 202, "{}", r.text());
    s.settle();
    assert_eq!(sources(&s, book), ["a", "b", "e"]);
    assert!(files(&s.trash())
        .iter()
        .any(|f| std::fs::read(s.trash().join(f)).unwrap() == bytes_c));

    // Rescan page 1: the next page sent to the book takes its place.
    let r = request(s.addr, "POST", &format!("{base}/1/rescan"), &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let st = get(s.addr, "/api/status").json();
    assert!(st["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["code"] == "rescan"));
    let r = upload(&s, "POST", &base, "f", &page_png(5));
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["pages"][0]["seq"], 1);
    s.settle();
    assert_eq!(sources(&s, book), ["f", "b", "e"]);
    // The mark is used up: the next page goes to the end again.
    let r = upload(&s, "POST", &base, "g", &page_png(6));
    assert_eq!(r.json()["pages"][0]["seq"], 4);
    s.settle();
    assert_eq!(sources(&s, book), ["f", "b", "e", "g"]);

    // Nothing lost: 4 in the archive, 3 in the trash, rows for all 7.
    assert_eq!(files(&s.archive()).len(), 4);
    assert_eq!(files(&s.trash()).len(), 3);
    let all = get(s.addr, &format!("/api/books/{book}/pages")).json();
    assert_eq!(all["pages"].as_array().unwrap().len(), 7);
    assert_eq!(all["book"]["removed"], 3);

    // Journal events for every edit.
    let kinds: Vec<String> = {
        let j = s.handle.intake.journal();
        let mut st = j
            .connection()
            .prepare("SELECT DISTINCT kind FROM events")
            .unwrap();
        let v = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        v
    };
    for k in [
        "inserted",
        "renumbered",
        "deleted",
        "replaced",
        "rescan_requested",
        "filed",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no {k} event in {kinds:?}");
    }
}

#[test]
fn errors_are_json_a_person_can_act_on() {
    let s = Server::start("");
    // No book yet.
    let st = get(s.addr, "/api/status").json();
    assert_eq!(st["headline"]["state"], "no_book");
    let bad = json(
        s.addr,
        "PUT",
        "/api/current",
        json!({"type": "ZZ", "year": 2010, "number": 1}),
    );
    let v = error_of(&bad, 422);
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("unknown register type"));
    assert!(v["error_vi"]
        .as_str()
        .unwrap()
        .starts_with("Mã sổ không hợp lệ"));
    let v = error_of(
        &json(
            s.addr,
            "PUT",
            "/api/current",
            json!({"type": "KS", "year": "abc", "number": 1}),
        ),
        422,
    );
    assert!(v["error"].as_str().unwrap().contains("year"), "{v}");
    let v = error_of(
        &json(
            s.addr,
            "PUT",
            "/api/current",
            json!({"type": "KS", "year": 1700, "number": 1}),
        ),
        422,
    );
    assert!(v["error_vi"].as_str().unwrap().contains("1700"), "{v}");
    let v = error_of(
        &request(s.addr, "PUT", "/api/current", &[], b"{not json"),
        400,
    );
    assert!(v["error"].as_str().unwrap().contains("JSON"), "{v}");
    error_of(&get(s.addr, "/api/nothing-here"), 404);

    let book = open_book(&s);
    let base = format!("/api/books/{book}/pages");
    assert_eq!(upload(&s, "POST", &base, "a", &page_png(1)).status, 202);
    assert_eq!(upload(&s, "POST", &base, "b", &page_png(2)).status, 202);
    s.settle();
    let v = error_of(
        &upload(&s, "PUT", &format!("{base}/9"), "x", &page_png(3)),
        404,
    );
    assert!(v["error"].as_str().unwrap().contains("no page 9"), "{v}");
    assert!(
        v["error_vi"].as_str().unwrap().contains("không có trang 9"),
        "{v}"
    );
    let v = error_of(
        &upload(
            &s,
            "PUT",
            &format!("{base}/1"),
            "x",
            b"this is not an image",
        ),
        422,
    );
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("not a readable image"),
        "{v}"
    );
    error_of(&upload(&s, "PUT", &format!("{base}/1"), "x", b""), 400);
    // The same image as page 2 cannot be inserted again.
    let v = error_of(
        &upload(
            &s,
            "POST",
            &format!("{base}/1/insert-after"),
            "dup",
            &page_png(2),
        ),
        409,
    );
    assert!(
        v["error"].as_str().unwrap().contains("already page 2"),
        "{v}"
    );
    // Nothing changed after the refusals.
    assert_eq!(sources(&s, book), ["a", "b"]);
    assert_eq!(files(&s.archive()).len(), 2);

    // Cases.
    let r = json(
        s.addr,
        "PUT",
        &format!("/api/books/{book}/cases"),
        json!({"starts": [1, 2]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    error_of(
        &json(
            s.addr,
            "PUT",
            &format!("/api/books/{book}/cases"),
            json!({"pages_per_case": 0}),
        ),
        400,
    );
    let v = error_of(
        &json(
            s.addr,
            "PUT",
            &format!("/api/books/{book}/cases"),
            json!({"starts": [2]}),
        ),
        400,
    );
    assert!(v["error"].as_str().unwrap().contains("page 1"), "{v}");

    // Reprocess with another profile; a bad profile is named.
    let r = json(
        s.addr,
        "POST",
        &format!("{base}/1/reprocess"),
        json!({"profile": "grey"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["report"]["profile"], "grey");
    assert_eq!(files(&s.trash()).len(), 1);
    let v = error_of(
        &json(
            s.addr,
            "POST",
            &format!("{base}/1/reprocess"),
            json!({"profile": "sepia"}),
        ),
        400,
    );
    assert!(v["error"].as_str().unwrap().contains("sepia"));

    // Thumbnails are small JPEGs of the filed page.
    let id = get(s.addr, &format!("/api/books/{book}/pages")).json()["pages"][0]["id"]
        .as_i64()
        .unwrap();
    let r = get(s.addr, &format!("/api/pages/{id}/thumb?size=120"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    let img = image::load_from_memory(&r.body).unwrap();
    assert!(img.width() <= 120 && img.height() <= 120 && img.height() > 60);
    error_of(&get(s.addr, "/api/pages/999/thumb"), 404);

    // Finishing builds the case PDFs and the bundle, then refuses a second time.
    let path = format!("/api/books/{book}/finish");
    let r = request(s.addr, "POST", &path, &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let done = r.json();
    assert!(done["cases"].as_u64().unwrap() >= 1, "{done}");
    assert!(done["bundle"].as_str().unwrap().ends_with(".zip"), "{done}");
    let v = error_of(&request(s.addr, "POST", &path, &[], b""), 409);
    assert!(
        v["error"].as_str().unwrap().contains("already finished"),
        "{v}"
    );
    assert!(
        v["error_vi"].as_str().unwrap().contains("đã hoàn tất"),
        "{v}"
    );

    // Closing the book.
    let r = request(s.addr, "DELETE", "/api/current", &[], b"");
    assert_eq!(r.status, 200);
    assert!(get(s.addr, "/api/current").json()["book"].is_null());
}

#[test]
fn events_stream_pages_and_scanner_state() {
    let s = Server::start("");
    let book = open_book(&s);
    let mut sse = http::Sse::open(s.addr, &[]);
    assert!(sse.wait(|d| d == "connected", 10).0);
    let r = upload(
        &s,
        "POST",
        &format!("/api/books/{book}/pages"),
        "a",
        &page_png(1),
    );
    assert_eq!(r.status, 202);
    let (hit, seen) = sse.wait(|d| d.starts_with("filed "), 30);
    assert!(hit, "no filed event; saw {seen:?}");

    use sohoa::daemon::{ScannerState, ScannerStatus};
    let mut jam = ScannerStatus::ready("fujitsu:fi-7160:1", "Fujitsu", "fi-7160");
    jam.state = ScannerState::Error;
    jam.message_vi = "giấy bị kẹt — mở nắp máy quét và lấy giấy ra".into();
    jam.message_en = "paper jam: open the scanner cover and take the paper out".into();
    s.handle.set_scanner(jam);
    assert!(sse.wait(|d| d.starts_with("scanner "), 10).0);
    let st = get(s.addr, "/api/status").json();
    assert_eq!(st["headline"]["state"], "error");
    assert_eq!(
        st["headline"]["vi"],
        "giấy bị kẹt — mở nắp máy quét và lấy giấy ra"
    );
    assert_eq!(st["current"]["pages"], 1);
    assert_eq!(st["today"]["pages"], 1);
    let list = get(s.addr, "/api/scanners").json();
    assert_eq!(list[0]["model"], "fi-7160");
    // Scanning page 7.
    s.handle.scanners.update("fujitsu:fi-7160:1", |x| {
        x.state = ScannerState::Scanning;
        x.page = Some(7);
    });
    let st = get(s.addr, "/api/status").json();
    assert_eq!(st["headline"]["vi"], "Đang quét trang 7");
}

#[test]
fn the_page_and_its_assets_are_served() {
    let s = Server::start("");
    let r = get(s.addr, "/");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<html lang=\"vi\""));
    assert!(r.text().contains("/app.js"));
    let js = get(s.addr, "/app.js");
    assert!(js.header("content-type").unwrap().contains("javascript"));
    assert!(js.text().contains("EventSource"));
    assert!(get(s.addr, "/app.css").text().contains("#headline"));
    // Requests naming another host are refused without a token (DNS rebinding).
    let r = request(
        s.addr,
        "GET",
        "/api/status",
        &[("Host", "evil.example:8734")],
        b"",
    );
    let v = error_of(&r, 403);
    assert!(v["error"].as_str().unwrap().contains("evil.example"));
    let r = request(
        s.addr,
        "GET",
        "/api/status",
        &[("Host", "localhost:1")],
        b"",
    );
    assert_eq!(r.status, 200);
    // A change asked by another web site is refused.
    let r = request(
        s.addr,
        "DELETE",
        "/api/current",
        &[("Origin", "http://evil.example")],
        b"",
    );
    error_of(&r, 403);
}
