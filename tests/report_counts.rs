//! Progress reports over a journal with known contents: events at chosen
//! local times (UTC+7, the stations' zone), counted by local day, ISO week
//! and book; the CLI's CSV, JSON and Vietnamese daily summary.
//!
//! One test in this binary, so setting TZ first is safe.

use std::path::Path;

use chrono::{NaiveDate, TimeZone};
use rusqlite::params;
use sohoa::report;
use sohoa::store::Journal;

/// UTC+7 with no daylight saving, as a POSIX TZ string (needs no tzdata).
const TZ: &str = "ICT-7";

fn at(day: u32, hour: u32) -> i64 {
    // Local time in UTC+7 -> unix seconds, computed without the process zone.
    chrono::FixedOffset::east_opt(7 * 3600)
        .unwrap()
        .with_ymd_and_hms(2024, 3, day, hour, 0, 0)
        .unwrap()
        .timestamp()
}

fn fill(j: &Journal) {
    let c = j.connection();
    let book = |id: i64, reg: &str, year: i64, num: i64, per: Option<i64>, name: &str| {
        c.execute(
            "INSERT INTO books (id, register, year, number, locality, name, pages_per_case, created_at)
             VALUES (?1, ?2, ?3, ?4, 'Đông Hà', ?5, ?6, 0)",
            params![id, reg, year, num, name, per],
        )
        .unwrap();
    };
    book(1, "KS", 2010, 1, Some(2), "KS.2010.01");
    book(2, "KT", 2011, 2, Some(1), "KT.2011.02");
    let page = |id: i64, book: i64, seq: Option<i64>, state: &str| {
        c.execute(
            "INSERT INTO pages (id, book_id, seq, source, source_sha256, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'x', ?4, ?5, 0, 0)",
            params![id, book, seq, format!("sha{id}"), state],
        )
        .unwrap();
    };
    for (id, seq) in [(1, 1), (2, 2), (3, 3), (4, 4)] {
        page(id, 1, Some(seq), "filed");
    }
    page(5, 2, Some(1), "filed");
    page(6, 2, Some(2), "filed");
    page(7, 2, None, "quarantined");
    let ev = |t: i64, kind: &str, book: Option<i64>, page: Option<i64>| {
        c.execute(
            "INSERT INTO events (at, kind, book_id, page_id) VALUES (?1, ?2, ?3, ?4)",
            params![t, kind, book, page],
        )
        .unwrap();
    };
    // Monday 4 March (ISO week 10).
    ev(at(4, 9), "book_created", Some(1), None);
    for p in 1..=3 {
        ev(at(4, 10), "spooled", Some(1), Some(p));
        ev(at(4, 10), "filed", Some(1), Some(p));
    }
    // Page 3 filed twice (a retry): counted once.
    ev(at(4, 11), "filed", Some(1), Some(3));
    // 03:00 local on Tuesday 5 March is still 4 March in UTC.
    ev(at(5, 3), "filed", Some(1), Some(4));
    ev(at(5, 10), "book_created", Some(2), None);
    ev(at(5, 11), "quarantined", Some(2), Some(7));
    ev(at(5, 12), "scanner_error", None, None);
    // Monday 11 March (week 11).
    ev(at(11, 8), "filed", Some(2), Some(5));
    ev(at(11, 8), "filed", Some(2), Some(6));
    ev(at(11, 9), "replaced", Some(2), Some(5));
    ev(at(11, 17), "book_finished", Some(1), None);
}

fn day<'a>(r: &'a report::Report, d: &str) -> &'a report::Counts {
    &r.days
        .iter()
        .find(|x| x.period == d)
        .unwrap_or_else(|| panic!("no day {d}: {:?}", r.days))
        .counts
}

#[test]
fn reports_count_by_local_day_week_and_book() {
    std::env::set_var("TZ", TZ);
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("sohoa-data/state");
    std::fs::create_dir_all(&state).unwrap();
    let j = Journal::open(&state.join("journal.sqlite")).unwrap();
    fill(&j);

    let r = report::build(&j, "may-1", "Đông Hà", None, None).unwrap();
    assert_eq!(
        r.days.iter().map(|d| d.period.as_str()).collect::<Vec<_>>(),
        ["2024-03-04", "2024-03-05", "2024-03-11"]
    );
    let d4 = day(&r, "2024-03-04");
    assert_eq!(
        (d4.books_started, d4.pages, d4.cases, d4.books_worked),
        (1, 3, 2, 1)
    );
    let d5 = day(&r, "2024-03-05");
    assert_eq!(
        (
            d5.books_started,
            d5.pages,
            d5.cases,
            d5.quarantined,
            d5.errors
        ),
        (1, 1, 0, 1, 2)
    );
    let d11 = day(&r, "2024-03-11");
    assert_eq!(
        (d11.pages, d11.cases, d11.rescans, d11.books_finished),
        (2, 2, 1, 1)
    );
    let weeks: Vec<(&str, u32, u32, u32)> = r
        .weeks
        .iter()
        .map(|w| {
            (
                w.period.as_str(),
                w.counts.pages,
                w.counts.cases,
                w.counts.books_started,
            )
        })
        .collect();
    assert_eq!(weeks, [("2024-W10", 4, 2, 2), ("2024-W11", 2, 2, 0)]);
    let books: Vec<(&str, u32, u32, u32)> = r
        .books
        .iter()
        .map(|b| {
            (
                b.period.as_str(),
                b.counts.pages,
                b.counts.cases,
                b.counts.books_finished,
            )
        })
        .collect();
    assert_eq!(books, [("KS.2010.01", 4, 2, 1), ("KT.2011.02", 2, 2, 0)]);
    assert_eq!(
        (
            r.books[1].register.as_str(),
            r.books[1].year,
            r.books[1].book
        ),
        ("KT", Some(2011), Some(2))
    );
    assert_eq!(r.total.counts.pages, 6);
    assert_eq!(r.total.counts.errors, 2);

    // A range of local dates.
    let d = |s| Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
    let r5 = report::build(&j, "may-1", "Đông Hà", d("2024-03-05"), d("2024-03-05")).unwrap();
    assert_eq!(r5.days.len(), 1);
    assert_eq!(r5.total.counts.pages, 1);
    assert_eq!(r5.summary.len(), 1);
    assert_eq!(
        (
            r5.summary[0].books,
            r5.summary[0].pages,
            r5.summary[0].errors
        ),
        (1, 1, 2)
    );
    drop(j);

    // The CLI in the folder holding sohoa-data.
    std::fs::write(
        work.path().join("c.toml"),
        "[station]\nlocality = \"Đông Hà\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sohoa"))
            .args(["report", "--config", "c.toml"])
            .args(args)
            .current_dir(work.path())
            .env("TZ", TZ)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, csv, err) = run(&["--format", "csv"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("level,period,locality,station,type,year,book,"));
    assert!(
        lines.contains(&"day,2024-03-05,Đông Hà,may-1,,,,1,0,1,1,0,1,0,0,2"),
        "{csv}"
    );
    assert!(
        lines.contains(&"book,KS.2010.01,Đông Hà,may-1,KS,2010,1,1,1,1,4,2,0,0,0,0"),
        "{csv}"
    );
    let (ok, js, err) = run(&[
        "--from",
        "2024-03-11",
        "--to",
        "2024-03-11",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&js).unwrap();
    assert_eq!(v["total"]["pages"], 2);
    assert_eq!(v["weeks"][0]["period"], "2024-W11");
    let (ok, summary, _) = run(&["--format", "summary"]);
    assert!(ok);
    assert_eq!(
        summary.lines().next().unwrap(),
        "Ngày,Xã/phường,Máy,Số quyển,Số trang,Số trường hợp,Số lỗi"
    );
    assert!(
        summary.contains("04/03/2024,Đông Hà,may-1,1,3,2,0"),
        "{summary}"
    );
    let (ok, text, _) = run(&[
        "--from",
        "04/03/2024",
        "--to",
        "2024-03-04",
        "--format",
        "text",
    ]);
    assert!(ok);
    assert_eq!(
        text,
        "Ngày 04/03/2024 — Đông Hà, máy may-1: 1 quyển, 3 trang, 2 trường hợp, 0 lỗi.\n"
    );
    let (ok, _, err) = run(&["--from", "2024-13-01"]);
    assert!(!ok);
    assert!(
        err.contains("--from") && err.contains("2024-03-05"),
        "{err}"
    );
    let (ok, _, err) = run(&["--format", "xml"]);
    assert!(!ok && err.contains("csv"), "{err}");
    let (ok, _, err) = {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sohoa"))
            .args(["report"])
            .current_dir(Path::new(env!("CARGO_TARGET_TMPDIR")))
            .output()
            .unwrap();
        (
            out.status.success(),
            (),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(!ok && err.contains("no journal"), "{err}");
}
