//! `GET /events`: the caller's `user:{me}` topic as Server-Sent Events
//! (PROTOCOL.md section 8), through the same hub and mailbox as a socket.

use std::{convert::Infallible, sync::Arc};

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
    hub::{Attached, Mailbox, Out},
    protocol::user_topic,
    socket::Registered,
};
use crate::{
    auth::{
        extract::{caller, AuthMethod},
        session::session_key,
    },
    metrics::Metrics,
    model::error::AppError,
    server::AppState,
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
            (current.id, session, None)
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
    let hub = service.bus.hub().clone();
    let mailbox = Mailbox::new(state.runtime.live.queue_bytes, hub.metrics().clone());
    let Ok(id) = hub.register(&user, session, mailbox.clone(), false, usize::MAX) else {
        return AppError::internal().into_response();
    };
    let registered = Registered::new(hub.clone(), id, false);
    let key = (user_topic(&user), Audience::All);
    if hub.subscribe(id, &key, since) == Attached::CatchingUp {
        let since = since.unwrap_or(0);
        let replay = service.stream_replay(&key.0, key.1, since).await;
        hub.finish_catch_up(id, &key, since, replay, None);
    }
    let stream = records(mailbox, registered, hub.metrics().clone(), expires_at);
    Sse::new(stream)
        .keep_alive(
            KeepAlive::new()
                .interval(state.runtime.live.sse_keepalive)
                .text("keep-alive"),
        )
        .into_response()
}

/// The mailbox as SSE records, until it closes (logout) or a token expires.
fn records(
    mailbox: Arc<Mailbox>,
    registered: Registered,
    metrics: Arc<Metrics>,
    expires_at: Option<i64>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let expiry = expires_at.map(super::token_deadline);
    let state = (mailbox, registered, metrics, expiry);
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            let (mailbox, _, metrics, expiry) = &mut state;
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
            Metrics::inc(&metrics.frames_sent);
            return Some((Ok(event), state));
        }
    })
}
