//! Pages of a book and the operator's page edits: append (upload), replace
//! page N, insert after N, delete, mark for rescan, reprocess with another
//! profile, case boundaries, finish. Edits go through `crate::edit` (one
//! journal transaction each, file renames planned there); this file only
//! maps HTTP to them and computes the warnings shown beside each page.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::books::{book_row, view, BookView};
use super::{blocking, json_body, ApiError};
use crate::daemon::Handle;
use crate::edit::Placement;
use crate::intake::Submitted;
use crate::store::ops::{CaseRange, CaseSpec, PageView};

/// Something about a page the operator should look at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub vi: String,
    pub en: String,
}

/// Share of dark pixels above which a page is called too dark.
pub const TOO_DARK_INK: f64 = 0.35;

/// Warnings from a page's state and its pipeline report (`blank`, `ink`,
/// `cut_off` when the pipeline reports it).
pub fn warnings(p: &PageView) -> Vec<Warning> {
    let mut w = Vec::new();
    let seq = p.seq.map(|s| s.to_string()).unwrap_or_else(|| "?".into());
    if p.state == "quarantined" {
        let reason = p.reason.clone().unwrap_or_default();
        w.push(Warning {
            code: "unreadable",
            vi: format!("Trang {seq} không xử lý được ({reason}) — quét lại trang này"),
            en: format!("Page {seq} could not be processed ({reason}) — rescan it"),
        });
    }
    let Some(r) = &p.report else { return w };
    if p.flagged_blank() {
        w.push(Warning {
            code: "blank",
            vi: format!("Trang {seq} trắng — kiểm tra có bỏ sót mặt giấy nào không"),
            en: format!("Page {seq} is blank — check that no side was missed"),
        });
    }
    if r.get("ink")
        .and_then(Value::as_f64)
        .is_some_and(|i| i > TOO_DARK_INK)
    {
        w.push(Warning {
            code: "dark",
            vi: format!("Trang {seq} quá tối — giảm độ tối của máy quét rồi quét lại"),
            en: format!("Page {seq} is too dark — lower the scanner's darkness and rescan"),
        });
    }
    if r.get("cut_off").and_then(Value::as_bool) == Some(true) {
        w.push(Warning {
            code: "cut_off",
            vi: format!("Trang {seq} bị mất mép chữ — đặt giấy thẳng rồi quét lại"),
            en: format!("Page {seq} looks cut off at an edge — straighten the sheet and rescan"),
        });
    }
    w
}

/// A page with its warnings.
#[derive(Debug, Serialize)]
pub struct PageItem {
    #[serde(flatten)]
    pub page: PageView,
    pub warnings: Vec<Warning>,
}

pub fn item(page: PageView) -> PageItem {
    PageItem {
        warnings: warnings(&page),
        page,
    }
}

#[derive(Serialize)]
pub struct PageList {
    pub book: BookView,
    pub pages: Vec<PageItem>,
    pub cases: Vec<CaseRange>,
}

/// GET /api/books/{book}/pages
pub async fn list(
    State(handle): State<Handle>,
    Path(book): Path<i64>,
) -> Result<Json<PageList>, ApiError> {
    let intake = handle.intake.clone();
    blocking(move || {
        let row = book_row(&intake, book)?;
        let (pages, cases) = {
            let j = intake.journal();
            (j.page_views(book)?, j.case_ranges(book)?)
        };
        Ok(PageList {
            book: view(&intake, &row)?,
            pages: pages.into_iter().map(item).collect(),
            cases,
        })
    })
    .await
    .map(Json)
}

#[derive(Deserialize)]
pub struct UploadQuery {
    name: Option<String>,
}

/// The source recorded for an uploaded page: `api:NAME`.
fn source(headers: &HeaderMap, q: &UploadQuery) -> String {
    let name = q
        .name
        .clone()
        .or_else(|| {
            headers
                .get("x-filename")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "upload".into());
    let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
    format!("api:{name}")
}

fn need_body(body: &Bytes) -> Result<(), ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad(
            "the request body is empty; send the image file's bytes as the body",
        )
        .vi("Chưa có tệp ảnh; chọn tệp rồi thử lại."));
    }
    Ok(())
}

/// POST /api/books/{book}/pages: adds an image file (raw body) to the end
/// of the book, the same way a scanner or the watch folder does.
pub async fn append(
    State(handle): State<Handle>,
    Path(book): Path<i64>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    need_body(&body)?;
    let intake = handle.intake.clone();
    let row = blocking(move || book_row(&intake, book)).await?;
    let submitted = handle
        .submit(row, source(&headers, &q), body.to_vec())
        .await?;
    handle.notify(format!("upload {book}"));
    Ok(match submitted {
        Submitted::Spooled(pages) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "result": "spooled",
                "pages": pages.iter().map(|(id, seq)| json!({"id": id, "seq": seq})).collect::<Vec<_>>(),
            })),
        ),
        Submitted::Duplicate(seqs) => (
            StatusCode::OK,
            Json(json!({
                "result": "duplicate",
                "same_as": seqs,
                "message": format!("already in the book as page {seqs:?}; not added again"),
                "message_vi": format!("Ảnh đã có trong sổ (trang {seqs:?}); không thêm lần nữa."),
            })),
        ),
        Submitted::Quarantined { reason, .. } => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("not a readable image ({reason}); it was put in quarantine"),
            )
            .vi("Tệp không phải ảnh đọc được; đã chuyển vào thư mục cách ly."))
        }
    })
}

async fn place(
    handle: Handle,
    book: i64,
    placement: Placement,
    headers: HeaderMap,
    q: UploadQuery,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    need_body(&body)?;
    let (id, seq) = handle
        .place(book, placement, source(&headers, &q), body.to_vec())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "result": "spooled", "page": { "id": id, "seq": seq } })),
    ))
}

/// PUT /api/books/{book}/pages/{seq}: the body replaces page `seq`.
pub async fn replace(
    State(handle): State<Handle>,
    Path((book, seq)): Path<(i64, u32)>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    place(handle, book, Placement::Replace(seq), headers, q, body).await
}

/// POST /api/books/{book}/pages/{seq}/insert-after: the body becomes page
/// `seq + 1` (0: the new first page); the pages behind move up.
pub async fn insert_after(
    State(handle): State<Handle>,
    Path((book, seq)): Path<(i64, u32)>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    place(handle, book, Placement::InsertAfter(seq), headers, q, body).await
}

/// DELETE /api/books/{book}/pages/{seq}: the page leaves the book (its
/// image stays in the trash); the pages behind move down.
pub async fn delete(
    State(handle): State<Handle>,
    Path((book, seq)): Path<(i64, u32)>,
) -> Result<Json<Value>, ApiError> {
    let intake = handle.intake.clone();
    let id = blocking(move || Ok(crate::edit::delete_page(&intake, book, seq)?)).await?;
    handle.notify(format!("deleted {book} {seq}"));
    let intake = handle.intake.clone();
    let page = blocking(move || Ok(intake.journal().page_view(id)?)).await?;
    Ok(Json(json!({ "result": "deleted", "page": page })))
}

/// POST /api/books/{book}/pages/{seq}/rescan: the next page scanned into
/// the book replaces page `seq`.
pub async fn rescan(
    State(handle): State<Handle>,
    Path((book, seq)): Path<(i64, u32)>,
) -> Result<Json<Value>, ApiError> {
    let intake = handle.intake.clone();
    blocking(move || Ok(intake.journal().request_rescan(book, seq)?)).await?;
    handle.notify(format!("rescan {book} {seq}"));
    Ok(Json(json!({ "result": "marked", "seq": seq })))
}

pub async fn cancel_rescan(
    State(handle): State<Handle>,
    Path((book, seq)): Path<(i64, u32)>,
) -> Result<Json<Value>, ApiError> {
    let intake = handle.intake.clone();
    let had = blocking(move || Ok(intake.journal().cancel_rescan(book, seq)?)).await?;
    handle.notify(format!("rescan {book} {seq}"));
    Ok(Json(
        json!({ "result": if had { "cancelled" } else { "none" }, "seq": seq }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reprocess {
    profile: String,
}

/// POST /api/books/{book}/pages/{seq}/reprocess {"profile": "grey"}
pub async fn reprocess(
    State(handle): State<Handle>,
    Path((book, seq)): Path<(i64, u32)>,
    body: Bytes,
) -> Result<Json<PageItem>, ApiError> {
    let req: Reprocess = json_body(&body)?;
    let intake = handle.intake.clone();
    let page =
        blocking(move || Ok(crate::edit::reprocess(&intake, book, seq, &req.profile)?)).await?;
    handle.notify(format!("reprocessed {book} {seq}"));
    Ok(Json(item(page)))
}

/// GET /api/books/{book}/cases
pub async fn cases(
    State(handle): State<Handle>,
    Path(book): Path<i64>,
) -> Result<Json<Vec<CaseRange>>, ApiError> {
    let intake = handle.intake.clone();
    blocking(move || {
        book_row(&intake, book)?;
        Ok(intake.journal().case_ranges(book)?)
    })
    .await
    .map(Json)
}

/// PUT /api/books/{book}/cases {"pages_per_case": 2} or {"starts": [1, 3, 7]}
pub async fn set_cases(
    State(handle): State<Handle>,
    Path(book): Path<i64>,
    body: Bytes,
) -> Result<Json<Vec<CaseRange>>, ApiError> {
    let spec: CaseSpec = json_body(&body)?;
    let intake = handle.intake.clone();
    let out = blocking(move || Ok(intake.journal().set_cases(book, &spec)?)).await?;
    handle.notify(format!("cases {book}"));
    Ok(Json(out))
}

/// POST /api/books/{book}/finish: case PDFs and the book bundle.
#[derive(Deserialize, Default)]
pub struct FinishQuery {
    /// Finish although files were quarantined (after checking them).
    #[serde(default)]
    accept_quarantined: bool,
}

pub async fn finish(
    State(handle): State<Handle>,
    Path(book): Path<i64>,
    Query(q): Query<FinishQuery>,
) -> Result<Json<Value>, ApiError> {
    let intake = handle.intake.clone();
    let done = blocking(move || {
        let row = book_row(&intake, book)?;
        crate::store::finish::finish_book(&intake, &row, q.accept_quarantined).map_err(|e| {
            let status = match e {
                crate::store::finish::FinishError::Bundle(_)
                | crate::store::finish::FinishError::Journal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                _ => StatusCode::CONFLICT,
            };
            ApiError::new(status, e.to_string()).vi(e.message_vi())
        })
    })
    .await?;
    handle.notify(format!("finished {}", done.book));
    Ok(Json(serde_json::to_value(&done).unwrap_or_default()))
}
