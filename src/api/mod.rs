//! The local HTTP API and the operator page, served by the daemon.
//!
//! Handlers never block the runtime: journal reads go through
//! `spawn_blocking`. Every error is JSON with a message a person can act on.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::daemon::Handle;

/// Serves the API until the daemon stops.
pub async fn serve(listener: tokio::net::TcpListener, handle: Handle) -> anyhow::Result<()> {
    let stop = handle.clone();
    let app = Router::new()
        .route("/api/health", get(health))
        .with_state(handle);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.stopping().await })
        .await?;
    Ok(())
}

/// An error as JSON: `{"error": "..."}`.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl<E: std::fmt::Display> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

async fn health(State(handle): State<Handle>) -> Result<Json<serde_json::Value>, ApiError> {
    let intake = handle.intake.clone();
    let unfinished =
        tokio::task::spawn_blocking(move || intake.journal().unfinished().map(|p| p.len()))
            .await??;
    let cfg = handle.intake.config();
    Ok(Json(json!({
        "status": if handle.is_stopping() { "stopping" } else { "ok" },
        "station": cfg.station.name,
        "locality": cfg.station.locality,
        "pages_under_way": unfinished,
    })))
}
