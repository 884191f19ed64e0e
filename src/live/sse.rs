//! `GET /events`: the caller's `user:{me}` topic as Server-Sent Events
//! (PROTOCOL.md section 8), through the same hub and mailbox as a socket.
//!
//! A stream counts toward its user's limit of live connections, ends when
//! the token it was opened with expires (`?token=` or `Bearer` alike), and
//! is dropped from the hub when the client stops reading: hyper stops
//! asking for records once the connection's buffers are full, so a
//! watchdog notices events waiting without progress for
//! `GIFTLIST_SSE_STALL_MS` and ends the stream's registration.

use std::{
    convert::Infallible,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Weak,
    },
    time::Duration,
};

use axum::{
    extract::{Request, State},
    http::header::HeaderName,
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use futures_util::Stream;
use tower_sessions::Session;

use super::{
    hub::Attached,
    mailbox::{Mailbox, Out},
    protocol::{close, user_topic},
    socket::Registered,
};
use crate::{
    auth::{
        extract::{caller, AuthMethod},
        session::session_key,
    },
    metrics::Metrics,
    model::error::AppError,
    state::AppState,
    store::outbox::Audience,
};

const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// The handler.
pub async fn events(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let (user, session, expires_at) = match caller(&mut parts, &state).await {
        Err(err) => return err.into_response(),
        Ok(Some(current)) => {
            let session = (current.method == AuthMethod::Session)
                .then(|| parts.extensions.get::<Session>().and_then(session_key))
                .flatten();
            (current.id, session, current.expires_at)
        }
        Ok(None) => {
            let token = super::query_token(parts.uri.query());
            match token.and_then(|token| state.service.tokens.verify(&token)) {
                Some(verified) => (verified.user_id, None, Some(verified.expires_at)),
                None => {
                    return AppError::unauthorized("log in, or pass a valid token").into_response()
                }
            }
        }
    };
    let since = match parts.headers.get(LAST_EVENT_ID) {
        None => None,
        Some(value) => match value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
        {
            Some(seq) if seq >= 0 => Some(seq),
            _ => {
                return AppError::bad_request("Last-Event-ID must be a seq number").into_response()
            }
        },
    };

    let service = &state.service;
    let limits = &state.runtime.live;
    let hub = service.bus.hub().clone();
    let mailbox = Mailbox::new(limits.queue_bytes, hub.metrics().clone());
    let Ok(id) = hub.register(&user, session, mailbox.clone(), limits.max_sockets_per_user) else {
        return AppError::rate_limited(
            "too many live connections for this account; close some first",
            5,
        )
        .into_response();
    };
    let registered = Registered::new(hub.clone(), id, false);
    let key = (user_topic(&user), Audience::All);
    let outbox_last = match hub.position(&key) {
        Some(_) => None,
        None => service.stream_last(&key.0, key.1).await,
    };
    if hub.subscribe(id, &key, since, outbox_last) == Attached::CatchingUp {
        let since = since.unwrap_or(0);
        let replay = service.stream_replay(&key.0, key.1, since).await;
        hub.finish_catch_up(id, &key, since, replay, None);
    }
    let registration = Arc::new(parking_lot::Mutex::new(Some(registered)));
    let written = Arc::new(AtomicU64::new(0));
    tokio::spawn(watch_for_stalls(
        Arc::downgrade(&registration),
        mailbox.clone(),
        written.clone(),
        limits.sse_stall,
    ));
    let stream = records(
        mailbox,
        registration,
        written,
        hub.metrics().clone(),
        expires_at,
    );
    Sse::new(stream)
        .keep_alive(
            KeepAlive::new()
                .interval(limits.sse_keepalive)
                .text("keep-alive"),
        )
        .into_response()
}

/// The stream's registration in the hub, shared by the stream (which ends
/// it when the response is dropped) and its watchdog (which ends it when
/// the client stops reading).
type Registration = Arc<parking_lot::Mutex<Option<Registered>>>;

/// Ends the registration of a stream whose records wait without being
/// written for `stall` (or whose mailbox closed, an overflow), so a client
/// that stops reading does not hold its place in the hub for ever.
async fn watch_for_stalls(
    registration: Weak<parking_lot::Mutex<Option<Registered>>>,
    mailbox: Arc<Mailbox>,
    written: Arc<AtomicU64>,
    stall: Duration,
) {
    // Sampled four times per `stall`: stuck at five samples in a row means
    // records waited the whole time with none written.
    const SAMPLES: u32 = 4;
    let period = (stall / SAMPLES).max(Duration::from_millis(10));
    let (mut stuck, mut seen) = (0, 0);
    loop {
        tokio::time::sleep(period).await;
        let Some(registration) = registration.upgrade() else {
            return;
        };
        let now = written.load(Ordering::Relaxed);
        if mailbox.queued() > 0 && now == seen {
            stuck += 1;
        } else {
            stuck = 0;
        }
        seen = now;
        if stuck >= SAMPLES || mailbox.is_closed() {
            mailbox.close(close::TOO_SLOW, "the client stopped reading");
            tracing::info!("ended an SSE stream whose client stopped reading");
            registration.lock().take();
            return;
        }
    }
}

/// The mailbox as SSE records, until it closes (logout, a stall) or the
/// token expires.
fn records(
    mailbox: Arc<Mailbox>,
    registration: Registration,
    written: Arc<AtomicU64>,
    metrics: Arc<Metrics>,
    expires_at: Option<i64>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let expiry = expires_at.map(super::token_deadline);
    let state = (mailbox, registration, written, metrics, expiry);
    futures_util::stream::unfold(state, |state| async move {
        loop {
            let (mailbox, _, written, metrics, expiry) = &state;
            let out = match expiry {
                Some(at) => tokio::select! {
                    out = mailbox.recv() => out,
                    () = tokio::time::sleep_until(*at) => return None,
                },
                None => mailbox.recv().await,
            };
            let event = match out {
                Out::Close(..) => return None,
                _ if mailbox.is_closed() => continue,
                Out::Frame(_) => continue,
                Out::Resync(text) => Event::default().event("resync").data(text.as_str()),
                Out::Event(event) => Event::default()
                    .id(event.seq.to_string())
                    .event(&event.event)
                    .data(event.text.as_str()),
            };
            written.fetch_add(1, Ordering::Relaxed);
            Metrics::inc(&metrics.frames_sent);
            return Some((Ok(event), state));
        }
    })
}
