//! What the operator page shows, in one call: the station, the big state
//! line (ready / scanning page 7 / paper jam: what to do), the current
//! book with its counts and last page, today's counts, the scanners.

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::books::{view, BookView};
use super::pages::{item, PageItem, Warning};
use super::scanners::{ScannerState, ScannerStatus};
use super::{blocking, ApiError};
use crate::daemon::Handle;
use crate::report::Counts;
use crate::store::STATION;

/// The one line the operator reads first.
#[derive(Debug, Serialize)]
pub struct Headline {
    /// "ready", "scanning", "error" or "no_book".
    pub state: &'static str,
    pub page: Option<u32>,
    pub vi: String,
    pub en: String,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub station: String,
    pub locality: String,
    pub source: String,
    pub headline: Headline,
    pub current: Option<BookView>,
    pub last_page: Option<PageItem>,
    /// Warnings about the book now (last page, recent duplicate, rescans).
    pub warnings: Vec<Warning>,
    pub today: Counts,
    pub scanners: Vec<ScannerStatus>,
}

#[derive(Deserialize)]
pub struct SourceQuery {
    source: Option<String>,
}

fn headline(scanners: &[ScannerStatus], book: Option<&BookView>) -> Headline {
    if let Some(s) = scanners.iter().find(|s| s.state == ScannerState::Error) {
        return Headline {
            state: "error",
            page: s.page,
            vi: if s.message_vi.is_empty() {
                format!("Máy quét {} báo lỗi", s.name)
            } else {
                s.message_vi.clone()
            },
            en: if s.message_en.is_empty() {
                format!("Scanner {} reports an error", s.name)
            } else {
                s.message_en.clone()
            },
        };
    }
    if let Some(s) = scanners.iter().find(|s| s.state == ScannerState::Scanning) {
        let page = s.page;
        let n = page.map(|p| format!(" {p}")).unwrap_or_default();
        return Headline {
            state: "scanning",
            page,
            vi: format!("Đang quét trang{n}"),
            en: format!("Scanning page{n}"),
        };
    }
    match book {
        None => Headline {
            state: "no_book",
            page: None,
            vi: "Chưa mở sổ — chọn loại sổ, năm, số quyển rồi bấm «Mở sổ»".into(),
            en: "No book open — choose the type, year and book number, then press “Open book”"
                .into(),
        },
        Some(b) => Headline {
            state: "ready",
            page: None,
            vi: format!(
                "Sẵn sàng — đặt giấy vào máy quét (trang tiếp theo: {})",
                b.counts.pages + 1
            ),
            en: format!(
                "Ready — put the pages in the scanner (next page: {})",
                b.counts.pages + 1
            ),
        },
    }
}

/// GET /api/status?source=station
pub async fn status(
    State(handle): State<Handle>,
    Query(q): Query<SourceQuery>,
) -> Result<Json<Status>, ApiError> {
    let intake = handle.intake.clone();
    let scanners = handle.scanners.list();
    let source = q.source.unwrap_or_else(|| STATION.to_string());
    blocking(move || {
        let cfg = intake.config();
        let row = intake.journal().current(&source)?;
        let current = row.as_ref().map(|r| view(&intake, r)).transpose()?;
        let mut warnings = Vec::new();
        let mut last_page = None;
        if let Some(b) = &current {
            if let Some(id) = b.counts.last_page {
                let p = item(intake.journal().page_view(id)?);
                warnings.extend(p.warnings.iter().cloned());
                last_page = Some(p);
            }
            if let Some(detail) = intake.journal().recent_duplicate(b.id, 600)? {
                warnings.push(Warning {
                    code: "duplicate",
                    vi: format!("Ảnh vừa đưa vào trùng với trang đã có, không thêm lần nữa ({detail})"),
                    en: format!("The last image was the same as a page already in the book; not added again ({detail})"),
                });
            }
            for seq in &b.counts.rescans {
                warnings.push(Warning {
                    code: "rescan",
                    vi: format!("Trang {seq} chờ quét lại: trang quét tiếp theo sẽ thay trang này"),
                    en: format!("Page {seq} waits for a rescan: the next page scanned replaces it"),
                });
            }
            if b.counts.quarantined > 0 {
                warnings.push(Warning {
                    code: "quarantined",
                    vi: format!("{} tệp không đọc được đã chuyển vào thư mục cách ly", b.counts.quarantined),
                    en: format!("{} unreadable file(s) were put in quarantine", b.counts.quarantined),
                });
            }
        }
        let today = crate::report::today(&intake.journal())?;
        Ok(Status {
            station: cfg.station.name.clone(),
            locality: cfg.station.locality.clone(),
            source,
            headline: headline(&scanners, current.as_ref()),
            current,
            last_page,
            warnings,
            today,
            scanners,
        })
    })
    .await
    .map(Json)
}

/// GET /api/scanners
pub async fn scanners(State(handle): State<Handle>) -> Json<Vec<ScannerStatus>> {
    Json(handle.scanners.list())
}

#[derive(Deserialize)]
pub struct ScanQuery {
    /// SANE device name; empty or absent: the first scanner.
    #[serde(default)]
    device: String,
}

/// Starts a batch, as the scanner's button would.
pub async fn scan_now(
    State(handle): State<Handle>,
    Query(q): Query<ScanQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let known = handle.scanners.list();
    if known.is_empty() {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "no scanner is connected (see `sohoa devices`)",
        )
        .vi("chưa có máy quét nào được kết nối"));
    }
    if !q.device.is_empty() && !known.iter().any(|s| s.name == q.device) {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("no scanner named \"{}\"", q.device),
        )
        .vi("không tìm thấy máy quét này"));
    }
    if !handle.request_scan(&q.device) {
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "scanning is off",
        )
        .vi("chức năng quét đang tắt"));
    }
    Ok(Json(serde_json::json!({ "started": true })))
}
