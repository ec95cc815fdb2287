//! Access to the API and the page.
//!
//! Without a token (the default) the daemon listens on loopback only (the
//! config refuses anything else) and accepts only requests whose `Host` is
//! a loopback name, so a web page elsewhere cannot reach it through DNS
//! rebinding. With `server.token` set, every request must carry it, as
//! `Authorization: Bearer TOKEN` or the cookie `/login?token=TOKEN` sets.
//! Changes (anything but GET and HEAD) from another web origin are refused.
//! Never logs or echoes the token.

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ApiError;
use crate::daemon::Handle;
use crate::store::spool::sha256_hex;

const COOKIE: &str = "sohoa_session";

/// The configured token, if any.
fn token(handle: &Handle) -> Option<String> {
    let t = handle.intake.config().server.token.trim().to_string();
    (!t.is_empty()).then_some(t)
}

/// The cookie value for a token: its hash, so the cookie never holds the
/// token itself and never has characters a cookie cannot carry.
fn session_value(token: &str) -> String {
    sha256_hex(format!("sohoa-session:{token}").as_bytes())
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn carries(headers: &HeaderMap, token: &str) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| same(t.trim().as_bytes(), token.as_bytes()));
    let want = session_value(token);
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .any(|(k, v)| k == COOKIE && same(v.as_bytes(), want.as_bytes()));
    bearer || cookie
}

fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
}

fn loopback_host(host: &str) -> bool {
    let h = host_name(host);
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The access rules, for every request.
pub async fn check(State(handle): State<Handle>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let token = token(&handle);
    if token.is_none() && !loopback_host(&host) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!("this station answers only on 127.0.0.1 or localhost, not \"{host}\"; set server.token to open it to the network"),
        )
        .vi("Máy này chỉ mở trang trên chính nó (127.0.0.1). Muốn mở qua mạng, đặt server.token trong tệp cấu hình.")
        .into_response();
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            let origin_host = origin.split("://").nth(1).unwrap_or("");
            if !origin_host.eq_ignore_ascii_case(&host) {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("a change requested by another web site ({origin}) was refused"),
                )
                .vi("Yêu cầu thay đổi từ trang web khác đã bị từ chối.")
                .into_response();
            }
        }
    }
    if let Some(token) = token {
        let path = req.uri().path();
        let open = path == "/login" || path == "/app.css";
        if !open && !carries(headers, &token) {
            if path.starts_with("/api/") {
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "this station needs its access token: send Authorization: Bearer TOKEN, or open /login?token=TOKEN in the browser",
                )
                .vi("Cần mã truy cập: mở /login và nhập mã do cán bộ kỹ thuật cung cấp.")
                .into_response();
            }
            return Redirect::to("/login").into_response();
        }
    }
    next.run(req).await
}

#[derive(Deserialize)]
pub struct Login {
    token: Option<String>,
}

/// `/login?token=...`: sets the session cookie and goes to the page; without
/// a token, a small form.
pub async fn login(State(handle): State<Handle>, Query(q): Query<Login>) -> Response {
    let Some(want) = token(&handle) else {
        return Redirect::to("/").into_response();
    };
    match q.token {
        Some(given) if same(given.trim().as_bytes(), want.as_bytes()) => {
            let cookie = format!(
                "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000",
                session_value(&want)
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
        }
        Some(_) => (StatusCode::UNAUTHORIZED, Html(login_page(true))).into_response(),
        None => Html(login_page(false)).into_response(),
    }
}

fn login_page(wrong: bool) -> String {
    let msg = if wrong {
        "<p class=\"error\" role=\"alert\">Mã truy cập không đúng. / Wrong access token.</p>"
    } else {
        ""
    };
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>sohoa — đăng nhập</title><link rel=\"stylesheet\" href=\"/app.css\"></head>\
<body><main class=\"login\"><h1>Số hóa sổ hộ tịch</h1>{msg}\
<form method=\"get\" action=\"/login\"><label>Mã truy cập / Access token \
<input name=\"token\" type=\"password\" autocomplete=\"current-password\" required autofocus></label>\
<button type=\"submit\">Vào / Enter</button></form></main></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for ok in ["127.0.0.1:8734", "localhost:1", "[::1]:8734", "LOCALHOST"] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in ["evil.example:8734", "192.168.1.5:8734", ""] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }
}
