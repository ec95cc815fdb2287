//! Books: the register code table, the book list, creating a book from its
//! parts or its name, and the book each source (the station, a scanner)
//! files into now. Every change is a journal transaction.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{blocking, json_body, ApiError};
use crate::book::BookId;
use crate::daemon::Handle;
use crate::intake::Intake;
use crate::store::ops::BookCounts;
use crate::store::{BookRow, STATION};

/// A book with its counts, as the page shows it.
#[derive(Debug, Serialize)]
pub struct BookView {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub register: String,
    pub type_name: String,
    pub year: u16,
    pub number: u32,
    pub locality: String,
    pub finished: bool,
    #[serde(flatten)]
    pub counts: BookCounts,
}

pub fn view(intake: &Intake, row: &BookRow) -> Result<BookView, ApiError> {
    let counts = intake
        .journal()
        .book_counts(row.id)
        .map_err(ApiError::from)?;
    Ok(BookView {
        id: row.id,
        name: row.name.clone(),
        register: row.book.register.clone(),
        type_name: intake
            .naming()
            .registers()
            .0
            .get(&row.book.register)
            .cloned()
            .unwrap_or_default(),
        year: row.book.year,
        number: row.book.number,
        locality: row.book.locality.clone(),
        finished: row.finished,
        counts,
    })
}

/// The book row for an id, or a 404 that says what to do.
pub fn book_row(intake: &Intake, id: i64) -> Result<BookRow, ApiError> {
    intake.journal().book(id)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("there is no book {id}; reload the page"),
        )
        .vi("Không tìm thấy sổ này; tải lại trang web.")
    })
}

pub async fn registers(State(handle): State<Handle>) -> Json<Value> {
    let cfg = handle.intake.config();
    let codes: Vec<Value> = cfg
        .registers
        .0
        .iter()
        .map(|(code, name)| json!({ "code": code, "name": name }))
        .collect();
    Json(json!({
        "registers": codes,
        "locality": cfg.station.locality,
        "year_min": cfg.books.year_min,
        "number_max": cfg.books.number_max,
    }))
}

pub async fn list(State(handle): State<Handle>) -> Result<Json<Vec<BookView>>, ApiError> {
    let intake = handle.intake.clone();
    blocking(move || {
        let rows = intake.journal().books()?;
        rows.iter()
            .map(|r| view(&intake, r))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map(Json)
}

pub async fn detail(
    State(handle): State<Handle>,
    Path(id): Path<i64>,
) -> Result<Json<BookView>, ApiError> {
    let intake = handle.intake.clone();
    blocking(move || view(&intake, &book_row(&intake, id)?))
        .await
        .map(Json)
}

/// A book named by its parts or by its name; `book_id` picks an existing one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookRequest {
    pub book_id: Option<i64>,
    /// A book name such as `KS.2010.01`.
    pub book: Option<String>,
    #[serde(rename = "type")]
    pub register: Option<String>,
    pub year: Option<Value>,
    pub number: Option<Value>,
    pub locality: Option<String>,
    /// Where it is opened: "station" (default) or a scanner's name.
    pub source: Option<String>,
    /// Also make it the current book of `source` (POST /api/books).
    #[serde(default)]
    pub open: bool,
}

fn number_of<T: std::str::FromStr>(v: &Option<Value>, what: &str, vi: &str) -> Result<T, ApiError> {
    let text = match v {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_string(),
        _ => String::new(),
    };
    text.parse().map_err(|_| {
        let shown = if text.is_empty() {
            "nothing".to_string()
        } else {
            format!("\"{text}\"")
        };
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("book ID: the {what} must be a whole number, got {shown}"),
        )
        .vi(format!("Mã sổ không hợp lệ: {vi} phải là một số"))
    })
}

/// Resolves a request to a journal book row, creating the book if needed.
fn resolve(intake: &Intake, req: &BookRequest) -> Result<BookRow, ApiError> {
    if let Some(id) = req.book_id {
        return book_row(intake, id);
    }
    let cfg = intake.config();
    let locality = req
        .locality
        .as_deref()
        .filter(|l| !l.trim().is_empty())
        .unwrap_or(&cfg.station.locality);
    let id: BookId = match (&req.book, &req.register) {
        (Some(name), _) => intake.naming().parse_book(name, locality)?,
        (None, Some(register)) => {
            let year: u16 = number_of(&req.year, "year", "năm")?;
            let number: u32 = number_of(&req.number, "book number", "số quyển")?;
            intake.naming().book_id(register, year, number, locality)?
        }
        (None, None) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "book ID: give the register type, year and book number (or a book name such as KS.2010.01)",
            )
            .vi("Mã sổ không hợp lệ: chọn loại sổ, nhập năm và số quyển."))
        }
    };
    Ok(intake.book(&id).map_err(|e| ApiError::internal(e))?)
}

fn source_of(req: &BookRequest) -> Result<String, ApiError> {
    let s = req.source.clone().unwrap_or_else(|| STATION.to_string());
    if s.trim().is_empty() || s.len() > 200 || s.chars().any(char::is_control) {
        return Err(ApiError::bad(
            "source: give \"station\" or a scanner's name",
        ));
    }
    Ok(s)
}

/// POST /api/books: creates (or finds) a book; `open: true` also opens it.
pub async fn create(
    State(handle): State<Handle>,
    body: Bytes,
) -> Result<(StatusCode, Json<BookView>), ApiError> {
    let req: BookRequest = json_body(&body)?;
    let intake = handle.intake.clone();
    let out = blocking(move || {
        let row = resolve(&intake, &req)?;
        if req.open {
            intake
                .journal()
                .set_current(&source_of(&req)?, Some(row.id))?;
        }
        view(&intake, &row)
    })
    .await?;
    handle.notify(format!("book {}", out.id));
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Deserialize)]
pub struct SourceQuery {
    source: Option<String>,
}

/// GET /api/current: the book a source files into now (or null).
pub async fn current(
    State(handle): State<Handle>,
    Query(q): Query<SourceQuery>,
) -> Result<Json<Value>, ApiError> {
    let intake = handle.intake.clone();
    let source = q.source.unwrap_or_else(|| STATION.to_string());
    blocking(move || {
        let row = intake.journal().current(&source)?;
        Ok(Json(json!({
            "source": source,
            "book": row.map(|r| view(&intake, &r)).transpose()?,
        })))
    })
    .await
}

/// PUT /api/current: opens a book (by id, name or parts) for a source.
pub async fn open(State(handle): State<Handle>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let req: BookRequest = json_body(&body)?;
    let intake = handle.intake.clone();
    let out = blocking(move || {
        let source = source_of(&req)?;
        let row = resolve(&intake, &req)?;
        if row.finished {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("book {} is finished; it cannot take new pages", row.name),
            )
            .vi(format!(
                "Sổ {} đã hoàn tất, không nhận thêm trang.",
                row.name
            )));
        }
        intake.journal().set_current(&source, Some(row.id))?;
        Ok(json!({ "source": source, "book": view(&intake, &row)? }))
    })
    .await?;
    handle.notify("current");
    Ok(Json(out))
}

/// DELETE /api/current: closes the source's book (its pages stay).
pub async fn close(
    State(handle): State<Handle>,
    Query(q): Query<SourceQuery>,
) -> Result<Json<Value>, ApiError> {
    let intake = handle.intake.clone();
    let source = q.source.unwrap_or_else(|| STATION.to_string());
    let out = blocking(move || {
        intake.journal().set_current(&source, None)?;
        Ok(json!({ "source": source, "book": null }))
    })
    .await?;
    handle.notify("current");
    Ok(Json(out))
}
