//! Live updates for the operator page: Server-Sent Events, one `change`
//! event per thing that happened (a page filed, a book opened, a scanner's
//! state). The page reloads what it shows on each. The stream ends when the
//! daemon stops, so a clean stop never waits on an open browser.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::daemon::Handle;

/// GET /api/events
pub async fn events(
    State(handle): State<Handle>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = handle.events.subscribe();
    let first = Some(Event::default().event("hello").data("connected"));
    let stream = futures_util::stream::unfold(
        (rx, handle, first),
        |(mut rx, handle, first)| async move {
            if let Some(e) = first {
                return Some((Ok(e), (rx, handle, None)));
            }
            let event = tokio::select! {
                _ = handle.stopping() => return None,
                msg = rx.recv() => match msg {
                    Ok(text) => Event::default().event("change").data(text),
                    // Missed some: the page reloads everything anyway.
                    Err(RecvError::Lagged(n)) => Event::default().event("change").data(format!("lagged {n}")),
                    Err(RecvError::Closed) => return None,
                },
            };
            Some((Ok(event), (rx, handle, None)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
