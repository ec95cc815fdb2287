//! Progress reports over the journal: by day, by ISO week and by book
//! (type, year, book number), plus the daily summary a commune sends to the
//! district. Dates are local dates (SQLite `localtime` on the events' unix
//! seconds, the same zone as this process).
//!
//! What is counted, per period:
//! - books started (`book_created`) and finished (`book_finished`);
//! - books worked: books with a page filed that day;
//! - pages: pages filed (each page once per day);
//! - cases: filed pages that start a case under the book's grouping now;
//! - quarantined files, rescans (pages replaced), deleted pages;
//! - errors: quarantined files plus scanner errors (`scanner_error`).
//!
//! Pure reads over the journal and formatting: never writes anything.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Local, NaiveDate, TimeZone};
use rusqlite::params;
use serde::Serialize;

use crate::store::journal::{Journal, JournalError};

/// Counts for one period, book or total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub books_started: u32,
    pub books_finished: u32,
    pub books_worked: u32,
    pub pages: u32,
    pub cases: u32,
    pub quarantined: u32,
    pub rescans: u32,
    pub deleted: u32,
    pub errors: u32,
}

/// One row: a day, a week, a book or the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// "day", "week", "book" or "total".
    pub level: &'static str,
    /// `2024-03-05`, `2024-W10`, the book name, or `FROM..TO`.
    pub period: String,
    pub locality: String,
    pub station: String,
    #[serde(rename = "type")]
    pub register: String,
    pub year: Option<u16>,
    pub book: Option<u32>,
    #[serde(flatten)]
    pub counts: Counts,
}

/// A day's line of the summary sent upward.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    pub date: String,
    pub locality: String,
    pub station: String,
    pub books: u32,
    pub pages: u32,
    pub cases: u32,
    pub errors: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: Option<String>,
    pub to: Option<String>,
    pub station: String,
    pub locality: String,
    pub days: Vec<Row>,
    pub weeks: Vec<Row>,
    pub books: Vec<Row>,
    pub total: Row,
    pub summary: Vec<SummaryRow>,
}

/// Parses a local date: `2024-03-05`, `05/03/2024`, or `today`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("today") {
        return Ok(Local::now().date_naive());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| format!("\"{s}\" is not a date; write it as 2024-03-05 (or 05/03/2024)"))
}

/// Unix seconds of local midnight starting `d`.
fn local_midnight(d: NaiveDate) -> i64 {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    match Local.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.timestamp(),
        chrono::LocalResult::None => Local.from_utc_datetime(&naive).timestamp(),
    }
}

/// ISO week label of a `YYYY-MM-DD` date.
fn week_of(day: &str) -> String {
    match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(d) => {
            let w = d.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        Err(_) => day.to_string(),
    }
}

struct Ev {
    day: String,
    kind: String,
    book: Option<i64>,
    page: Option<i64>,
    seq: Option<u32>,
}

#[derive(Clone)]
struct BookInfo {
    name: String,
    register: String,
    year: u16,
    number: u32,
    locality: String,
}

/// Per-period accumulator: counts plus the sets behind distinct counts.
#[derive(Default)]
struct Acc {
    c: Counts,
    pages: BTreeSet<i64>,
    worked: BTreeSet<i64>,
}

impl Acc {
    fn add(&mut self, ev: &Ev, case_start: bool) {
        match ev.kind.as_str() {
            "book_created" => self.c.books_started += 1,
            "book_finished" | "finished" => self.c.books_finished += 1,
            "filed" => {
                if let Some(p) = ev.page {
                    if self.pages.insert(p) {
                        self.c.pages += 1;
                        self.c.cases += case_start as u32;
                    }
                }
                if let Some(b) = ev.book {
                    if self.worked.insert(b) {
                        self.c.books_worked += 1;
                    }
                }
            }
            "quarantined" => {
                self.c.quarantined += 1;
                self.c.errors += 1;
            }
            "scanner_error" => self.c.errors += 1,
            "replaced" => self.c.rescans += 1,
            "deleted" => self.c.deleted += 1,
            _ => {}
        }
    }
}

/// Builds the report for local dates `from..=to` (either open).
pub fn build(
    journal: &Journal,
    station: &str,
    station_locality: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Report, JournalError> {
    let conn = journal.connection();
    let lo = from.map(local_midnight).unwrap_or(i64::MIN);
    let hi = to
        .and_then(|d| d.succ_opt())
        .map(local_midnight)
        .unwrap_or(i64::MAX);
    let mut stmt = conn.prepare(
        "SELECT date(e.at, 'unixepoch', 'localtime'), e.kind, e.book_id, e.page_id, p.seq
         FROM events e LEFT JOIN pages p ON p.id = e.page_id
         WHERE e.at >= ?1 AND e.at < ?2
         ORDER BY e.at, e.id",
    )?;
    let events: Vec<Ev> = stmt
        .query_map(params![lo, hi], |r| {
            Ok(Ev {
                day: r.get(0)?,
                kind: r.get(1)?,
                book: r.get(2)?,
                page: r.get(3)?,
                seq: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;

    let mut books: HashMap<i64, BookInfo> = HashMap::new();
    let mut starts: HashMap<i64, BTreeSet<u32>> = HashMap::new();
    for id in events
        .iter()
        .filter_map(|e| e.book)
        .collect::<BTreeSet<_>>()
    {
        if let Some(b) = journal.book(id)? {
            books.insert(
                id,
                BookInfo {
                    name: b.name,
                    register: b.book.register,
                    year: b.book.year,
                    number: b.book.number,
                    locality: b.book.locality,
                },
            );
            let ranges = journal.case_ranges(id).map_err(|e| match e {
                crate::store::ops::EditError::Journal(j) => j,
                other => JournalError::Sql(rusqlite::Error::ToSqlConversionFailure(
                    other.to_string().into(),
                )),
            })?;
            starts.insert(id, ranges.iter().map(|r| r.first).collect());
        }
    }
    let is_start = |e: &Ev| match (e.book, e.seq) {
        (Some(b), Some(s)) => starts.get(&b).is_some_and(|st| st.contains(&s)),
        _ => false,
    };
    let locality_of = |e: &Ev| {
        e.book
            .and_then(|b| books.get(&b))
            .map(|b| b.locality.clone())
            .unwrap_or_else(|| station_locality.to_string())
    };

    let mut days: BTreeMap<String, Acc> = BTreeMap::new();
    let mut weeks: BTreeMap<String, Acc> = BTreeMap::new();
    let mut by_book: BTreeMap<(String, u16, u32, String, i64), Acc> = BTreeMap::new();
    let mut summary: BTreeMap<(String, String), Acc> = BTreeMap::new();
    let mut total = Acc::default();
    for e in &events {
        let start = is_start(e);
        days.entry(e.day.clone()).or_default().add(e, start);
        weeks.entry(week_of(&e.day)).or_default().add(e, start);
        summary
            .entry((e.day.clone(), locality_of(e)))
            .or_default()
            .add(e, start);
        total.add(e, start);
        if let Some(b) = e.book.and_then(|id| books.get(&id).map(|b| (id, b))) {
            by_book
                .entry((
                    b.1.register.clone(),
                    b.1.year,
                    b.1.number,
                    b.1.locality.clone(),
                    b.0,
                ))
                .or_default()
                .add(e, start);
        }
    }

    let row = |level, period: String, locality: String, acc: Acc| Row {
        level,
        period,
        locality,
        station: station.to_string(),
        register: String::new(),
        year: None,
        book: None,
        counts: acc.c,
    };
    let from_s = from.map(|d| d.to_string());
    let to_s = to.map(|d| d.to_string());
    let total_period = format!(
        "{}..{}",
        from_s
            .clone()
            .or_else(|| days.keys().next().cloned())
            .unwrap_or_default(),
        to_s.clone()
            .or_else(|| days.keys().last().cloned())
            .unwrap_or_default()
    );
    Ok(Report {
        summary: summary
            .iter()
            .map(|((date, locality), acc)| SummaryRow {
                date: date.clone(),
                locality: locality.clone(),
                station: station.to_string(),
                books: acc.c.books_worked,
                pages: acc.c.pages,
                cases: acc.c.cases,
                errors: acc.c.errors,
            })
            .collect(),
        days: days
            .into_iter()
            .map(|(d, a)| row("day", d, station_locality.to_string(), a))
            .collect(),
        weeks: weeks
            .into_iter()
            .map(|(w, a)| row("week", w, station_locality.to_string(), a))
            .collect(),
        books: by_book
            .into_iter()
            .map(|((register, year, number, locality, id), acc)| Row {
                level: "book",
                period: books.get(&id).map(|b| b.name.clone()).unwrap_or_default(),
                locality,
                station: station.to_string(),
                register,
                year: Some(year),
                book: Some(number),
                counts: acc.c,
            })
            .collect(),
        total: row("total", total_period, station_locality.to_string(), total),
        from: from_s,
        to: to_s,
        station: station.to_string(),
        locality: station_locality.to_string(),
    })
}

/// Counts for today (local date), for the operator page.
pub fn today(journal: &Journal) -> Result<Counts, JournalError> {
    let d = Local::now().date_naive();
    Ok(build(journal, "", "", Some(d), Some(d))?.total.counts)
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Every row (days, weeks, books, total) as one CSV table.
pub fn to_csv(r: &Report) -> String {
    let mut out = String::from(
        "level,period,locality,station,type,year,book,books_started,books_finished,books_worked,pages,cases,quarantined,rescans,deleted,errors\n",
    );
    for row in r
        .days
        .iter()
        .chain(&r.weeks)
        .chain(&r.books)
        .chain(std::iter::once(&r.total))
    {
        let c = &row.counts;
        let cells = [
            row.level.to_string(),
            row.period.clone(),
            row.locality.clone(),
            row.station.clone(),
            row.register.clone(),
            opt(row.year),
            opt(row.book),
            c.books_started.to_string(),
            c.books_finished.to_string(),
            c.books_worked.to_string(),
            c.pages.to_string(),
            c.cases.to_string(),
            c.quarantined.to_string(),
            c.rescans.to_string(),
            c.deleted.to_string(),
            c.errors.to_string(),
        ];
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// The daily summary as the CSV a commune sends upward (Vietnamese headers).
pub fn summary_csv(r: &Report) -> String {
    let mut out = String::from("Ngày,Xã/phường,Máy,Số quyển,Số trang,Số trường hợp,Số lỗi\n");
    for s in &r.summary {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            field(&vn_date(&s.date)),
            field(&s.locality),
            field(&s.station),
            s.books,
            s.pages,
            s.cases,
            s.errors
        ));
    }
    out
}

/// The daily summary as short Vietnamese text, one line per day and place.
pub fn summary_text(r: &Report) -> String {
    if r.summary.is_empty() {
        return "Không có hoạt động nào trong khoảng thời gian này.\n".into();
    }
    r.summary
        .iter()
        .map(|s| {
            format!(
                "Ngày {} — {}, máy {}: {} quyển, {} trang, {} trường hợp, {} lỗi.\n",
                vn_date(&s.date),
                s.locality,
                s.station,
                s.books,
                s.pages,
                s.cases,
                s.errors
            )
        })
        .collect()
}

/// `2024-03-05` -> `05/03/2024`, the way dates are written in Vietnam.
fn vn_date(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_both_ways_and_refuse_nonsense() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        assert_eq!(parse_date("2024-03-05").unwrap(), d);
        assert_eq!(parse_date("05/03/2024").unwrap(), d);
        assert!(parse_date("2024-13-01").unwrap_err().contains("2024-03-05"));
        assert_eq!(week_of("2024-03-05"), "2024-W10");
        assert_eq!(week_of("2021-01-03"), "2020-W53");
        assert_eq!(vn_date("2024-03-05"), "05/03/2024");
        assert_eq!(field("a,b"), "\"a,b\"");
    }
}
