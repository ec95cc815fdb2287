//! The local HTTP API and the operator page, served by the daemon.
//!
//! One file per area: `books` (books and the current book per station or
//! scanner), `pages` (pages, thumbnails, page edits, cases, finish),
//! `events` (live updates over SSE), `status` (what the operator page shows
//! in one call), `reports`, `auth` (token and cross-site checks), `assets`
//! (the embedded page). Handlers never block the runtime: journal and file
//! work goes through `spawn_blocking`. Every error is JSON
//! `{"error": "...", "error_vi": "..."}` with a message a person can act on.

pub mod assets;
pub mod auth;
pub mod books;
pub mod events;
pub mod pages;
pub mod reports;
pub mod scanners;
pub mod status;
pub mod thumbs;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::json;

use crate::daemon::Handle;

/// Largest page upload accepted (a colour A3 TIFF at 600 dpi fits).
pub const MAX_UPLOAD: usize = 256 * 1024 * 1024;

/// Serves the API until the daemon stops.
pub async fn serve(listener: tokio::net::TcpListener, handle: Handle) -> anyhow::Result<()> {
    let stop = handle.clone();
    axum::serve(listener, router(handle))
        .with_graceful_shutdown(async move { stop.stopping().await })
        .await?;
    Ok(())
}

/// Every route, behind the access checks.
pub fn router(handle: Handle) -> Router {
    let api = Router::new()
        .route("/api/health", get(health))
        .route("/api/status", get(status::status))
        .route("/api/scanners", get(status::scanners))
        .route("/api/scanners/scan", post(status::scan_now))
        .route("/api/registers", get(books::registers))
        .route("/api/books", get(books::list).post(books::create))
        .route("/api/books/{book}", get(books::detail))
        .route(
            "/api/current",
            get(books::current).put(books::open).delete(books::close),
        )
        .route(
            "/api/books/{book}/pages",
            get(pages::list).post(pages::append),
        )
        .route(
            "/api/books/{book}/pages/{seq}",
            put(pages::replace).delete(pages::delete),
        )
        .route(
            "/api/books/{book}/pages/{seq}/insert-after",
            post(pages::insert_after),
        )
        .route(
            "/api/books/{book}/pages/{seq}/rescan",
            post(pages::rescan).delete(pages::cancel_rescan),
        )
        .route(
            "/api/books/{book}/pages/{seq}/reprocess",
            post(pages::reprocess),
        )
        .route(
            "/api/books/{book}/cases",
            get(pages::cases).put(pages::set_cases),
        )
        .route("/api/books/{book}/finish", post(pages::finish))
        .route("/api/pages/{page}/thumb", get(thumbs::thumb))
        .route("/api/pages/{page}/image", get(thumbs::image))
        .route("/api/events", get(events::events))
        .route("/api/report", get(reports::report))
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/app.css", get(assets::style))
        .route("/login", get(auth::login))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_UPLOAD));
    api.layer(axum::middleware::from_fn_with_state(
        handle.clone(),
        auth::check,
    ))
    .with_state(handle)
}

/// An error as JSON: `{"error": "...", "error_vi": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub error_vi: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            error_vi: None,
        }
    }

    pub fn vi(mut self, text: impl Into<String>) -> Self {
        self.error_vi = Some(text.into());
        self
    }

    pub fn bad(error: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).vi(format!(
            "Lỗi trong phần mềm: {e}. Ghi lại thông báo này và báo cho cán bộ kỹ thuật."
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.error });
        if let Some(vi) = self.error_vi {
            body["error_vi"] = vi.into();
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(e)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        let e = match e.downcast::<crate::edit::Error>() {
            Ok(e) => return e.into(),
            Err(e) => e,
        };
        let e = match e.downcast::<crate::intake::IntakeError>() {
            Ok(crate::intake::IntakeError::Journal(j)) => return j.into(),
            Ok(other) => return ApiError::internal(other),
            Err(e) => e,
        };
        ApiError::internal(format!("{e:#}"))
    }
}

impl From<crate::store::JournalError> for ApiError {
    fn from(e: crate::store::JournalError) -> Self {
        use crate::store::JournalError as J;
        match &e {
            J::NoPage(_) => ApiError::new(StatusCode::NOT_FOUND, e.to_string())
                .vi("Không tìm thấy trang này; tải lại trang web."),
            J::BookFinished(b) => ApiError::new(StatusCode::CONFLICT, e.to_string()).vi(format!(
                "Sổ {b} đã hoàn tất; mở lại sổ trước khi thêm trang."
            )),
            J::BookFinishing(b) => ApiError::new(StatusCode::CONFLICT, e.to_string()).vi(format!(
                "Sổ {b} đang được hoàn tất; trang sẽ được nhận lại sau."
            )),
            _ => ApiError::internal(e),
        }
    }
}

impl From<crate::store::ops::EditError> for ApiError {
    fn from(e: crate::store::ops::EditError) -> Self {
        use crate::store::ops::EditError as E;
        let msg = e.to_string();
        match e {
            E::Journal(j) => j.into(),
            E::NoBook(_) => ApiError::new(StatusCode::NOT_FOUND, msg)
                .vi("Không tìm thấy sổ này; tải lại trang web."),
            E::NoPage { book, seq, last } => ApiError::new(StatusCode::NOT_FOUND, msg).vi(format!(
                "Sổ {book} không có trang {seq} (sổ có {last} trang)."
            )),
            E::Finished { book } => ApiError::new(StatusCode::CONFLICT, msg).vi(format!(
                "Sổ {book} đã hoàn tất; mở lại sổ trước khi sửa trang."
            )),
            E::Finishing { book } => ApiError::new(StatusCode::CONFLICT, msg).vi(format!(
                "Sổ {book} đang được hoàn tất; chờ xong rồi thử lại."
            )),
            E::Busy { book, pending } => ApiError::new(StatusCode::CONFLICT, msg).vi(format!(
                "Còn {pending} trang của sổ {book} đang được xử lý; chờ xử lý xong rồi thử lại."
            )),
            E::Duplicate { seq } => ApiError::new(StatusCode::CONFLICT, msg).vi(format!(
                "Ảnh này đã là trang {seq} của sổ; không thay đổi gì."
            )),
            E::NotFiled { seq, .. } => ApiError::new(StatusCode::CONFLICT, msg).vi(format!(
                "Trang {seq} chưa được lưu xong; chờ một lát rồi thử lại."
            )),
            E::Cases(m) => ApiError::bad(msg).vi(format!("Ranh giới trường hợp sai: {m}")),
        }
    }
}

impl From<crate::edit::Error> for ApiError {
    fn from(e: crate::edit::Error) -> Self {
        use crate::edit::Error as E;
        let msg = e.to_string();
        match e {
            E::Edit(e) => e.into(),
            E::Unreadable(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, msg)
                .vi("Tệp gửi lên không phải ảnh đọc được; hãy quét lại trang hoặc chọn tệp khác."),
            E::Pages(n) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, msg).vi(format!(
                "Tệp có {n} trang; mỗi lần chỉ thay hoặc chèn một trang."
            )),
            E::Profile(p) => ApiError::bad(msg).vi(format!(
                "\"{p}\" không phải kiểu lưu ảnh; chọn colour, grey, bilevel hoặc auto."
            )),
            _ => ApiError::internal(msg),
        }
    }
}

impl From<crate::book::BookIdError> for ApiError {
    fn from(e: crate::book::BookIdError) -> Self {
        use crate::book::BookIdError as B;
        let vi = match &e {
            B::Pattern { input, example, .. } => {
                format!("\"{input}\" không đúng dạng tên sổ (ví dụ {example})")
            }
            B::UnknownType { code, known } => {
                format!("không có loại sổ \"{code}\"; các loại sổ: {known}")
            }
            B::Year { year, min, max } => {
                format!("năm {year} phải nằm trong khoảng {min} đến {max}")
            }
            B::Number { number, max } => {
                format!("quyển số \"{number}\" phải từ 1 đến {max}")
            }
            B::Unsafe { what, value, .. } => {
                format!("{what} \"{value}\" có ký tự không dùng được: {e}")
            }
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("book ID: {e}"))
            .vi(format!("Mã sổ không hợp lệ: {vi}"))
    }
}

/// Parses a JSON body into `T`, with errors as JSON that say which field.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = if inner.is_syntax() || inner.is_eof() {
            format!("the request body is not valid JSON ({inner})")
        } else if path == "." || path == "?" {
            format!("the request body is not the JSON expected: {inner}")
        } else {
            format!("{path}: {inner}")
        };
        ApiError::bad(msg.clone()).vi(format!("Dữ liệu gửi lên không đúng: {msg}"))
    })
}

/// Runs journal or file work on a blocking thread.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await?
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such address; the API is under /api/",
    )
    .vi("Không có địa chỉ này; mở trang chính của máy.")
}

async fn health(State(handle): State<Handle>) -> Result<Json<serde_json::Value>, ApiError> {
    let intake = handle.intake.clone();
    let unfinished = blocking(move || Ok(intake.journal().unfinished()?.len())).await?;
    let cfg = handle.intake.config();
    Ok(Json(json!({
        "status": if handle.is_stopping() { "stopping" } else { "ok" },
        "station": cfg.station.name,
        "locality": cfg.station.locality,
        "pages_under_way": unfinished,
    })))
}
