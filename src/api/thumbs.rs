//! Page images for the operator page: small JPEG thumbnails made from the
//! filed image (cached under `state/thumbs`, keyed by page and content) and
//! the filed image itself. Decoding and scaling run on a blocking thread.
//! Never writes into the archive.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{blocking, ApiError};
use crate::daemon::Handle;
use crate::intake::Intake;
use crate::store::ops::PageView;

#[derive(Deserialize)]
pub struct Size {
    size: Option<u32>,
}

fn filed(intake: &Intake, page: i64) -> Result<(PageView, std::path::PathBuf), ApiError> {
    let view = intake.journal().page_view(page)?;
    let dirs = intake.dirs();
    let path = match (&view.archive_path, &view.trash_path) {
        (Some(a), _) => dirs.archive.join(a),
        (None, Some(t)) => crate::store::moves::trash_dir(dirs).join(t),
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("page {page} has no image yet ({})", view.state),
            )
            .vi("Trang này chưa có ảnh; chờ xử lý xong."))
        }
    };
    Ok((view, path))
}

/// Makes a JPEG thumbnail no larger than `size` pixels on either side.
pub fn make_thumb(bytes: &[u8], size: u32) -> Result<Vec<u8>, String> {
    let frame = crate::codec::decode_frame(bytes, 0).map_err(|e| e.to_string())?;
    let small = frame.image.thumbnail(size, size).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// GET /api/pages/{page}/thumb?size=240
pub async fn thumb(
    State(handle): State<Handle>,
    Path(page): Path<i64>,
    Query(q): Query<Size>,
) -> Result<Response, ApiError> {
    let size = q.size.unwrap_or(240).clamp(32, 1600);
    let intake = handle.intake.clone();
    let bytes = blocking(move || {
        let (view, path) = filed(&intake, page)?;
        let sha = view.sha256.clone().unwrap_or_default();
        let cache_dir = intake.dirs().state.join("thumbs");
        let cached = cache_dir.join(format!("{page}-{}-{size}.jpg", &sha[..sha.len().min(16)]));
        if let Ok(b) = std::fs::read(&cached) {
            return Ok(b);
        }
        let raw = std::fs::read(&path).map_err(|e| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "the image of page {page} ({}) cannot be read: {e}",
                    path.display()
                ),
            )
            .vi("Không đọc được ảnh của trang này; báo cán bộ kỹ thuật.")
        })?;
        let thumb = make_thumb(&raw, size)
            .map_err(|e| ApiError::internal(format!("thumbnail of page {page}: {e}")))?;
        // The cache is an optimisation; failing to write it is no error.
        if std::fs::create_dir_all(&cache_dir).is_ok() {
            let _ = crate::store::filing::file_atomic(
                &cache_dir,
                &cached
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                &thumb,
            );
        }
        Ok(thumb)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=60"),
        ],
        bytes,
    )
        .into_response())
}

/// GET /api/pages/{page}/image: the filed image as stored.
pub async fn image(
    State(handle): State<Handle>,
    Path(page): Path<i64>,
) -> Result<Response, ApiError> {
    let intake = handle.intake.clone();
    let (path, bytes) = blocking(move || {
        let (_, path) = filed(&intake, page)?;
        let bytes = std::fs::read(&path).map_err(|e| {
            ApiError::new(StatusCode::NOT_FOUND, format!("{}: {e}", path.display()))
        })?;
        Ok((path, bytes))
    })
    .await?;
    let mime = match path.extension().and_then(|e| e.to_str()) {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("tif" | "tiff") => "image/tiff",
        _ => "application/octet-stream",
    };
    Ok(([(header::CONTENT_TYPE, mime)], bytes).into_response())
}
