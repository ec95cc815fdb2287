//! `GET /api/report?from=DATE&to=DATE&format=json|csv|summary|text`: the
//! progress report of `sohoa report`, over HTTP.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::{blocking, ApiError};
use crate::daemon::Handle;
use crate::report;

#[derive(Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

fn date(v: &Option<String>, key: &str) -> Result<Option<chrono::NaiveDate>, ApiError> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            report::parse_date(s).map_err(|e| {
                ApiError::bad(format!("{key}: {e}")).vi(format!("Ngày không đúng ({key}): {s}"))
            })
        })
        .transpose()
}

pub async fn report(
    State(handle): State<Handle>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let (from, to) = (date(&q.from, "from")?, date(&q.to, "to")?);
    let format = q.format.unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "csv" | "summary" | "text") {
        return Err(ApiError::bad(format!(
            "format: \"{format}\" is not one of json, csv, summary, text"
        )));
    }
    let intake = handle.intake.clone();
    let r = blocking(move || {
        let cfg = intake.config();
        Ok(report::build(
            &intake.journal(),
            &cfg.station.name,
            &cfg.station.locality,
            from,
            to,
        )?)
    })
    .await?;
    let csv = "text/csv; charset=utf-8";
    Ok(match format.as_str() {
        "csv" => ([(header::CONTENT_TYPE, csv)], report::to_csv(&r)).into_response(),
        "summary" => ([(header::CONTENT_TYPE, csv)], report::summary_csv(&r)).into_response(),
        "text" => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            report::summary_text(&r),
        )
            .into_response(),
        _ => Json(r).into_response(),
    })
}
