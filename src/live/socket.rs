//! `GET /ws`: the live socket (PROTOCOL.md sections 2 to 6).
//!
//! The upgrade is done here, on top of hyper, so tungstenite is configured
//! for many sockets (small read buffer, frames and messages of 64 KiB, a
//! bounded write buffer, no compression) and every receive error can be
//! answered with its own close code.
//!
//! Each socket has two halves: this task reads client frames, enforces the
//! heartbeat, the token's expiry and the rate limit, and answers; a writer
//! task drains the connection's [`Mailbox`], which the hub fills.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use futures_util::{
    stream::{SplitSink, SplitStream},
    Sink, SinkExt, Stream, StreamExt,
};
use hyper_util::rt::TokioIo;
use tokio::time::{sleep_until, timeout, Instant};
use tokio_tungstenite::{
    tungstenite::{
        self,
        handshake::derive_accept_key,
        protocol::{frame::coding::CloseCode, CloseFrame, Role, WebSocketConfig},
        Message,
    },
    WebSocketStream,
};
use tower_sessions::Session;
use tracing::{debug, info_span, Instrument};

use super::{
    hub::{Attached, ConnId, Hub, StreamKey},
    mailbox::{Mailbox, Out},
    protocol::{close, codes, ClientFrame, ServerFrame, Topic},
    LiveLimits,
};
use crate::store::outbox::Audience;
use crate::{
    auth::{
        origin::origin_allowed,
        session::{session_key, session_user},
    },
    metrics::Metrics,
    model::{
        error::{AppError, ErrorCode},
        UserId,
    },
    service::{new_id, Service},
    state::AppState,
};

/// How long an unauthenticated socket may wait before its `auth` frame.
const AUTH_WINDOW: Duration = Duration::from_secs(5);

/// How long a closing socket gets to flush its close frame, and for the
/// peer's answer.
const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// What the socket loop needs of a WebSocket: frames in, frames out.
/// tungstenite's stream over the upgraded connection in production; an
/// in-memory pair in the unit tests, which run under paused time.
pub(crate) trait WsIo:
    Stream<Item = Result<Message, tungstenite::Error>>
    + Sink<Message, Error = tungstenite::Error>
    + Unpin
    + Send
    + 'static
{
}

impl<T> WsIo for T where
    T: Stream<Item = Result<Message, tungstenite::Error>>
        + Sink<Message, Error = tungstenite::Error>
        + Unpin
        + Send
        + 'static
{
}

/// What the upgrade request proved.
#[derive(Debug)]
enum Credential {
    /// The session cookie, with an allowed `Origin`.
    Session {
        user: UserId,
        session: Option<String>,
    },
    /// A valid `?token=`; it expires at this unix time.
    Token { user: UserId, expires_at: i64 },
    /// A `?share=` link that a guest's page follows the list with.
    Share(Box<crate::service::shares::ShareAccess>, UserId),
    /// A `?token=` or `?share=` that is bad, expired or revoked: closed
    /// with 4401 and this reason.
    Refused(&'static str),
    /// Nothing yet: the first frame must be `auth`; the slot counts it
    /// among the sockets waiting for one.
    Pending(Option<super::pending::PendingSlot>),
}

/// The upgrade handler.
pub async fn upgrade(State(state): State<AppState>, mut request: Request) -> Response {
    let headers = request.headers();
    let Some(key) = websocket_key(headers) else {
        return AppError::bad_request("expected a WebSocket upgrade (version 13)").into_response();
    };
    let origin = headers.get(header::ORIGIN).cloned();
    if let Some(origin) = &origin {
        if !origin_allowed(origin, &state.runtime.allowed_origins) {
            return AppError::forbidden("this origin may not open the live socket").into_response();
        }
    }
    let mut credential = Credential::Pending(None);
    // A cookie counts only together with an allowed Origin.
    if origin.is_some() {
        if let Some(session) = request.extensions().get::<Session>() {
            if let Ok(Some(user)) = session_user(session).await {
                credential = Credential::Session {
                    user,
                    session: session_key(session),
                };
            }
        }
    }
    // A guest's page: the share link is the credential (the session, if
    // any, only says whether the viewer is the list's recipient).
    if let Some(token) = super::query_param(request.uri().query(), "share") {
        let (parts, body) = request.into_parts();
        let ip = state.runtime.proxies.client_of(&parts);
        let viewer = match &credential {
            Credential::Session { user, .. } => Some(user.clone()),
            _ => None,
        };
        credential = match state.service.open_share(&token, viewer.as_ref(), ip).await {
            Ok(access) => {
                // Guests of one link from one address share the per-user
                // socket limit.
                let key = UserId(format!("share:{}@{ip}", access.share.id));
                Credential::Share(Box::new(access), key)
            }
            Err(err) => match err.code {
                ErrorCode::RateLimited | ErrorCode::Internal | ErrorCode::Unavailable => {
                    return err.into_response()
                }
                _ if err.message.contains("revoked") => Credential::Refused("link revoked"),
                _ if err.message.contains("expired") => Credential::Refused("link expired"),
                _ => Credential::Refused("unknown link"),
            },
        };
        request = Request::from_parts(parts, body);
    }
    if matches!(credential, Credential::Pending(_)) {
        if let Some(token) = super::query_token(request.uri().query()) {
            credential = match state.service.tokens.verify(&token) {
                Some(verified) => Credential::Token {
                    user: verified.user_id,
                    expires_at: verified.expires_at,
                },
                None => Credential::Refused("invalid or expired token"),
            };
        }
    }
    if matches!(credential, Credential::Pending(_)) {
        let (parts, body) = request.into_parts();
        let ip = state.runtime.proxies.client_of(&parts);
        let Some(slot) = state.runtime.pending_auth.enter(ip) else {
            return AppError::rate_limited(
                "too many sockets are waiting to authenticate; authenticate the open ones first",
                1,
            )
            .into_response();
        };
        credential = Credential::Pending(Some(slot));
        // Back together: the upgrade needs the request's extensions.
        request = Request::from_parts(parts, body);
    }
    let on_upgrade = hyper::upgrade::on(&mut request);
    // Only what the socket needs, not the whole state: this task lives as
    // long as the socket, once per socket.
    let (service, runtime) = (state.service, state.runtime);
    let span = info_span!("socket", connection_id = tracing::field::Empty);
    tokio::spawn(
        async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let socket = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config(&runtime.live)),
                    )
                    .await;
                    serve(Box::new(socket), &service, &runtime.live, credential).await;
                }
                Err(err) => debug!(cause = %err, "upgrade failed"),
            }
        }
        .instrument(span),
    );
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// The `Sec-WebSocket-Key` of a well-formed version 13 upgrade request.
fn websocket_key(headers: &HeaderMap) -> Option<String> {
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value
                .to_str()
                .unwrap_or("")
                .split(',')
                .any(|part| part.trim().eq_ignore_ascii_case(token))
        })
    };
    if !has_token(header::CONNECTION, "upgrade") || !has_token(header::UPGRADE, "websocket") {
        return None;
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION)?.as_bytes() != b"13" {
        return None;
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)?
        .to_str()
        .ok()?
        .trim();
    (!key.is_empty()).then(|| key.to_owned())
}

/// tungstenite set for ten thousand sockets, not for one big one.
fn config(limits: &LiveLimits) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(Some(limits.max_frame_bytes))
        .max_frame_size(Some(limits.max_frame_bytes))
}

/// A socket's life after the upgrade.
async fn serve<S: WsIo>(
    mut socket: Box<S>,
    service: &Service,
    limits: &LiveLimits,
    credential: Credential,
) {
    let mut guest = None;
    let (user, session, expiry) = match credential {
        Credential::Session { user, session } => (user, session, None),
        Credential::Token { user, expires_at } => (user, None, Some(Expiry::token(expires_at))),
        Credential::Share(access, key) => {
            let expiry = access.share.expires_at.map(|at| Expiry {
                at,
                code: close::UNAUTHORIZED,
                reason: "link expired",
            });
            guest = Some(GuestScope {
                share: access.share.id.clone(),
                topic: access.topic(),
                audience: access.audience(),
            });
            (key, None, expiry)
        }
        Credential::Refused(reason) => {
            return close_now(socket, close::UNAUTHORIZED, reason).await;
        }
        Credential::Pending(slot) => {
            let authenticated = first_frame_auth(&mut socket, service).await;
            drop(slot);
            match authenticated {
                Ok((user, expires_at)) => (user, None, Some(Expiry::token(expires_at))),
                Err((code, reason)) => return close_now(socket, code, reason).await,
            }
        }
    };
    let hub = service.bus.hub().clone();
    let metrics = hub.metrics().clone();
    let mailbox = Mailbox::new(limits.queue_bytes, metrics.clone());
    let Ok(id) = hub.register(&user, session, mailbox.clone(), limits.max_sockets_per_user) else {
        return close_now(socket, close::TOO_SLOW, "too many sockets for this user").await;
    };
    if let Some(guest) = &guest {
        hub.set_share(id, &guest.share);
    }
    let connection_id = new_id("c_");
    tracing::Span::current().record("connection_id", connection_id.as_str());
    let _registered = Registered::new(hub.clone(), id, true);
    let welcome = ServerFrame::Welcome {
        connection_id,
        // A guest has no account: the socket says so, and nothing more.
        user_id: match guest {
            Some(_) => GUEST_USER_ID.to_owned(),
            None => user.to_string(),
        },
        heartbeat_ms: limits.heartbeat.as_millis() as u64,
    };
    // Nothing can be queued before this: the connection holds no topic yet.
    mailbox.push(Out::frame(&welcome));

    let (sink, stream) = (*socket).split();
    let writer = tokio::spawn(write(sink, mailbox.clone(), metrics.clone()));
    let mut conn = Connection {
        id,
        user,
        guest,
        hub,
        service,
        limits,
        mailbox,
        limiter: RateLimiter::new(limits.frames_per_minute, limits.frame_burst),
    };
    let stream = conn.read(stream, expiry).await;
    finish(writer, stream).await;
}

/// Keeps a connection counted while it lives, and removes it from the hub
/// however its task ends.
pub(super) struct Registered {
    hub: Arc<Hub>,
    id: ConnId,
    socket: bool,
}

impl Registered {
    pub(super) fn new(hub: Arc<Hub>, id: ConnId, socket: bool) -> Registered {
        let registered = Registered { hub, id, socket };
        registered
            .gauge()
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        registered
    }

    fn gauge(&self) -> &std::sync::atomic::AtomicI64 {
        let metrics = self.hub.metrics();
        if self.socket {
            &metrics.sockets_open
        } else {
            &metrics.sse_open
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.hub.unregister(self.id);
        self.gauge()
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Waits for the first frame, which must be `auth` with a valid token.
async fn first_frame_auth<S: WsIo>(
    socket: &mut S,
    service: &Service,
) -> Result<(UserId, i64), (u16, &'static str)> {
    let deadline = Instant::now() + AUTH_WINDOW;
    loop {
        let next = match timeout(deadline - Instant::now(), socket.next()).await {
            Err(_) => return Err((close::UNAUTHORIZED, "no credentials within 5 s")),
            Ok(None) => return Err((close::NORMAL, "")),
            Ok(Some(Err(err))) => return Err(receive_error_code(&err)),
            Ok(Some(Ok(message))) => message,
        };
        match next {
            Message::Text(text) => {
                let Ok(ClientFrame::Auth { token }) = ClientFrame::parse(&text) else {
                    return Err((close::UNAUTHORIZED, "the first frame must be auth"));
                };
                return match service.tokens.verify(&token) {
                    Some(verified) => Ok((verified.user_id, verified.expires_at)),
                    None => Err((close::UNAUTHORIZED, "invalid or expired token")),
                };
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            Message::Close(_) => return Err((close::NORMAL, "")),
            Message::Binary(_) => {
                return Err((close::UNAUTHORIZED, "the first frame must be auth"));
            }
        }
    }
}

/// The close code for a receive error, per RFC 6455.
fn receive_error_code(err: &tungstenite::Error) -> (u16, &'static str) {
    use tungstenite::{error::ProtocolError, Error};
    match err {
        Error::Capacity(_) => (close::TOO_BIG, "frame too large"),
        Error::Utf8(_) => (close::INVALID_UTF8, "text frame is not UTF-8"),
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => (close::NORMAL, ""),
        Error::Protocol(_) => (close::PROTOCOL_ERROR, "protocol error"),
        _ => (close::NORMAL, ""),
    }
}

fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }))
}

/// Closes a socket that never became a connection.
async fn close_now<S: WsIo>(mut socket: Box<S>, code: u16, reason: &'static str) {
    let _ = timeout(CLOSE_GRACE, socket.send(close_frame(code, reason))).await;
    let _ = timeout(CLOSE_GRACE, async {
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}

/// Writes what the mailbox holds until it is closed or the peer is gone.
async fn write<S: WsIo>(
    mut sink: SplitSink<S, Message>,
    mailbox: Arc<Mailbox>,
    metrics: Arc<Metrics>,
) {
    loop {
        let out = mailbox.recv().await;
        let message = match out {
            Out::Close(code, reason) => {
                // After the peer's close, tungstenite refuses a frame of our
                // own but holds its echo of the peer's: flushing sends it.
                if sink.send(close_frame(code, reason)).await.is_err() {
                    let _ = sink.flush().await;
                }
                return;
            }
            // Once a close is decided, nothing else goes out.
            _ if mailbox.is_closed() => continue,
            Out::Frame(text) | Out::Resync(text) => Message::Text(text),
            Out::Event(event) => Message::Text(event.text.clone()),
        };
        if sink.send(message).await.is_err() {
            return;
        }
        Metrics::inc(&metrics.frames_sent);
    }
}

/// After the read loop: give the close frame a moment to go out and the
/// peer a moment to answer, then drop the connection.
async fn finish<S: WsIo>(writer: tokio::task::JoinHandle<()>, stream: Option<SplitStream<S>>) {
    let abort = writer.abort_handle();
    if timeout(CLOSE_GRACE, writer).await.is_err() {
        abort.abort();
        return;
    }
    if let Some(mut stream) = stream {
        let _ = timeout(CLOSE_GRACE, async {
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
    }
}

/// A token bucket: `burst` frames at once, refilled at `per_minute`.
#[derive(Debug)]
struct RateLimiter {
    tokens: f64,
    burst: f64,
    per_second: f64,
    at: Instant,
    /// Frames refused in a row; too many and the socket is closed.
    refused: u32,
}

impl RateLimiter {
    fn new(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            per_second: f64::from(per_minute) / 60.0,
            at: Instant::now(),
            refused: 0,
        }
    }

    fn allow(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + (now - self.at).as_secs_f64() * self.per_second).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused = 0;
            true
        } else {
            self.refused += 1;
            false
        }
    }
}

/// The `user_id` a guest's socket is welcomed with.
pub const GUEST_USER_ID: &str = "guest";

/// When a connection's credential runs out, and how it is closed then.
#[derive(Clone, Copy, Debug)]
struct Expiry {
    /// Unix seconds.
    at: i64,
    code: u16,
    reason: &'static str,
}

impl Expiry {
    fn token(at: i64) -> Expiry {
        Expiry {
            at,
            code: close::POLICY,
            reason: "token expired",
        }
    }
}

/// What a guest's socket may follow: its list's topic, as its link's
/// audience reads it.
#[derive(Clone, Debug)]
struct GuestScope {
    share: String,
    topic: String,
    audience: Audience,
}

/// A live connection's reading side.
struct Connection<'a> {
    id: ConnId,
    user: UserId,
    /// Set on a guest's socket (opened with a share link).
    guest: Option<GuestScope>,
    hub: Arc<Hub>,
    service: &'a Service,
    limits: &'a LiveLimits,
    mailbox: Arc<Mailbox>,
    limiter: RateLimiter,
}

impl Connection<'_> {
    fn reply(&self, frame: &ServerFrame) {
        self.mailbox.push(Out::frame(frame));
    }

    fn error(
        &self,
        code: &str,
        message: impl Into<String>,
        topic: Option<&str>,
        id: &Option<String>,
    ) {
        self.reply(&ServerFrame::Error {
            code: code.to_owned(),
            message: message.into(),
            topic: topic.map(str::to_owned),
            id: id.clone(),
        });
    }

    /// Reads until the connection closes; returns the stream when it may
    /// still carry the peer's answer to our close frame.
    async fn read<S: WsIo>(
        &mut self,
        mut stream: SplitStream<S>,
        expires: Option<Expiry>,
    ) -> Option<SplitStream<S>> {
        let silence = self.limits.heartbeat * 2;
        let mut deadline = Instant::now() + silence;
        let expiry = expires.map(|expires| super::token_deadline(expires.at));
        let far = Instant::now() + Duration::from_secs(365 * 24 * 3600);
        let mailbox = self.mailbox.clone();
        loop {
            tokio::select! {
                next = stream.next() => {
                    let message = match next {
                        None => return None,
                        Some(Err(err)) => {
                            let (code, reason) = receive_error_code(&err);
                            debug!(cause = %err, code, "receive error");
                            self.mailbox.close(code, reason);
                            return None;
                        }
                        Some(Ok(message)) => message,
                    };
                    deadline = Instant::now() + silence;
                    match message {
                        // Boxed: handling a frame may query the database, and that
                        // future is large; it should not live in every idle socket.
                        Message::Text(text) => Box::pin(self.on_text(&text)).await,
                        Message::Binary(_) => {
                            self.mailbox.close(close::UNSUPPORTED_DATA, "binary frames are not accepted");
                            return Some(stream);
                        }
                        // tungstenite has queued the echo of the peer's
                        // close (same code); the writer flushes it, and the
                        // connection ends at once: nothing more to read.
                        Message::Close(frame) => {
                            let code = frame.map_or(close::NORMAL, |frame| u16::from(frame.code));
                            self.mailbox.close(code, "");
                            return None;
                        }
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    }
                }
                () = sleep_until(deadline) => {
                    if self.mailbox.close(close::HEARTBEAT_TIMEOUT, "heartbeat timeout") {
                        Metrics::inc(&self.hub.metrics().heartbeat_closes);
                    }
                    return Some(stream);
                }
                () = sleep_until(expiry.unwrap_or(far)) => {
                    let (code, reason) = expires.map_or((close::POLICY, "token expired"), |e| (e.code, e.reason));
                    self.mailbox.close(code, reason);
                    return Some(stream);
                }
                () = mailbox.closing.notified() => return Some(stream),
            }
            if self.mailbox.is_closed() {
                return Some(stream);
            }
        }
    }

    async fn on_text(&mut self, text: &str) {
        if !self.limiter.allow() {
            Metrics::inc(&self.hub.metrics().rate_limited);
            if self.limiter.refused > self.limits.frame_burst {
                self.mailbox.close(close::TOO_SLOW, "rate limited");
            } else {
                let id = match ClientFrame::parse(text) {
                    Ok(frame) => frame.id().map(str::to_owned),
                    Err(bad) => bad.id,
                };
                self.error(codes::RATE_LIMITED, "too many frames; slow down", None, &id);
            }
            return;
        }
        match ClientFrame::parse(text) {
            Err(bad) => self.error(codes::BAD_REQUEST, bad.message, None, &bad.id),
            Ok(ClientFrame::Ping { id }) => self.reply(&ServerFrame::Pong { id }),
            Ok(ClientFrame::Auth { .. }) => self.error(
                codes::BAD_REQUEST,
                "this socket is already authenticated",
                None,
                &None,
            ),
            Ok(ClientFrame::Subscribe { topics, since, id }) => {
                self.subscribe(topics, since, id).await;
            }
            Ok(ClientFrame::Unsubscribe { topics, id }) => self.unsubscribe(topics, id),
        }
    }

    async fn subscribe(
        &mut self,
        topics: Vec<String>,
        since: std::collections::BTreeMap<String, u64>,
        id: Option<String>,
    ) {
        // Counted before anything is looked up: one frame must not buy
        // thousands of queries.
        // (Stopping at one over the limit keeps the duplicate check short.)
        let mut names: Vec<String> = Vec::new();
        for name in topics {
            if names.contains(&name) {
                continue;
            }
            if names.len() == self.limits.max_topics {
                self.error(
                    codes::TOO_LARGE,
                    format!("at most {} topics per socket", self.limits.max_topics),
                    None,
                    &id,
                );
                return;
            }
            names.push(name);
        }
        let mut granted: Vec<(String, StreamKey, Option<i64>)> = Vec::new();
        for name in names {
            let topic = match Topic::parse(&name) {
                Ok(topic) => topic,
                Err(why) => {
                    self.error(codes::BAD_REQUEST, why, Some(&name), &id);
                    continue;
                }
            };
            let new = granted
                .iter()
                .filter(|(_, key, _)| !self.hub.holds(self.id, key))
                .count();
            if !self.hub.holds_topic(self.id, &name)
                && self.hub.held(self.id) + new >= self.limits.max_topics
            {
                self.error(
                    codes::TOO_LARGE,
                    format!("at most {} topics per socket", self.limits.max_topics),
                    Some(&name),
                    &id,
                );
                continue;
            }
            let audience = match &self.guest {
                // A guest follows their list, as their link shows it, and
                // nothing else: any other topic is refused as a stranger's.
                Some(scope) if scope.topic == name => scope.audience,
                Some(_) => {
                    self.error(codes::FORBIDDEN, "not yours to follow", Some(&name), &id);
                    continue;
                }
                None => match self.hub.audience_held(&self.user, &name) {
                    Some(audience) => audience,
                    None => match self.service.topic_audience(&self.user, &topic).await {
                        Ok(audience) => audience,
                        Err(err) => {
                            self.error(codes::FORBIDDEN, err.message, Some(&name), &id);
                            continue;
                        }
                    },
                },
            };
            let key = (name.clone(), audience);
            let since = since
                .get(&name)
                .map(|&seq| i64::try_from(seq).unwrap_or(i64::MAX));
            granted.push((name, key, since));
        }
        let mut streams = Vec::with_capacity(granted.len());
        for (_, key, since) in granted {
            let outbox_last = match self.hub.position(&key) {
                Some(_) => None,
                None => self.service.stream_last(&key.0, key.1).await,
            };
            streams.push((key, since, outbox_last));
        }
        // One reply, even when it lists nothing: the client hears back. The
        // streams are attached with it, so that every event published once
        // the client has read it reaches the client (after it).
        let reply = Out::frame(&ServerFrame::Subscribed {
            topics: streams.iter().map(|(key, ..)| key.0.clone()).collect(),
            id: id.clone(),
        });
        let attached = self.hub.subscribe_replying(self.id, reply, &streams);
        for ((key, since, _), attached) in streams.into_iter().zip(attached) {
            if attached != Attached::CatchingUp {
                continue;
            }
            let since = since.unwrap_or(0);
            let replay = self.service.stream_replay(&key.0, key.1, since).await;
            self.hub
                .finish_catch_up(self.id, &key, since, replay, id.clone());
        }
    }

    fn unsubscribe(&mut self, topics: Vec<String>, id: Option<String>) {
        let mut done = Vec::new();
        for name in topics {
            if let Err(why) = Topic::parse(&name) {
                self.error(codes::BAD_REQUEST, why, Some(&name), &id);
                continue;
            }
            for audience in Audience::ALL {
                self.hub.unsubscribe(self.id, &(name.clone(), audience));
            }
            if !done.contains(&name) {
                done.push(name);
            }
        }
        self.reply(&ServerFrame::Unsubscribed { topics: done, id });
    }
}

/// The socket loop against an in-memory peer, under paused time: the
/// heartbeat, the auth window, the rate limit and token expiry, each at
/// its exact moment and without waiting for real.
#[cfg(test)]
mod tests {
    use std::{
        pin::Pin,
        task::{Context, Poll},
    };

    use serde_json::{json, Value};
    use tokio::sync::mpsc;

    use super::*;
    use crate::{config::Settings, state::AppState};

    /// The server's end of an in-memory WebSocket.
    struct Duplex {
        incoming: mpsc::UnboundedReceiver<Result<Message, tungstenite::Error>>,
        outgoing: mpsc::UnboundedSender<Message>,
    }

    impl Stream for Duplex {
        type Item = Result<Message, tungstenite::Error>;

        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.incoming.poll_recv(cx)
        }
    }

    impl Sink<Message> for Duplex {
        type Error = tungstenite::Error;

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Self::Error> {
            self.outgoing
                .send(message)
                .map_err(|_| tungstenite::Error::ConnectionClosed)
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
    }

    /// The client's end.
    struct Peer {
        send: mpsc::UnboundedSender<Result<Message, tungstenite::Error>>,
        received: mpsc::UnboundedReceiver<Message>,
    }

    /// What the client got next.
    #[derive(Debug, PartialEq)]
    enum Got {
        Frame(Value),
        Close(u16),
        Ended,
    }

    impl Peer {
        fn send(&self, frame: Value) {
            let _ = self.send.send(Ok(Message::text(frame.to_string())));
        }

        async fn next(&mut self) -> Got {
            loop {
                return match self.received.recv().await {
                    None => Got::Ended,
                    Some(Message::Text(text)) => Got::Frame(serde_json::from_str(&text).unwrap()),
                    Some(Message::Close(frame)) => {
                        Got::Close(frame.map_or(0, |frame| u16::from(frame.code)))
                    }
                    Some(_) => continue,
                };
            }
        }

        async fn expect(&mut self, kind: &str) -> Value {
            match self.next().await {
                Got::Frame(frame) if frame["type"] == kind => frame,
                other => panic!("expected {kind}, got {other:?}"),
            }
        }
    }

    /// A prepared server (SQLite in a temporary folder), not listening.
    async fn state(tune: impl FnOnce(&mut Settings)) -> (AppState, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_data_dir(dir.path());
        settings.site_root = dir.path().join("site");
        tune(&mut settings);
        (crate::server::prepare(&settings).await.unwrap(), dir)
    }

    /// A socket with `credential`, served on its own task.
    fn connect(state: &AppState, credential: Credential) -> Peer {
        let (send, incoming) = mpsc::unbounded_channel();
        let (outgoing, received) = mpsc::unbounded_channel();
        let (service, runtime) = (state.service.clone(), state.runtime.clone());
        tokio::spawn(async move {
            let duplex = Box::new(Duplex { incoming, outgoing });
            serve(duplex, &service, &runtime.live, credential).await;
        });
        Peer { send, received }
    }

    fn token(user: &str, lives: Duration) -> Credential {
        Credential::Token {
            user: UserId(user.into()),
            expires_at: chrono::Utc::now().timestamp() + lives.as_secs() as i64,
        }
    }

    #[tokio::test]
    async fn silence_for_two_heartbeats_closes_and_pings_keep_it_open() {
        let (state, _dir) = state(|s| s.heartbeat_ms = 10_000).await;
        tokio::time::pause();
        let mut quiet = connect(&state, token("u_quiet", Duration::from_secs(3600)));
        let mut talker = connect(&state, token("u_talker", Duration::from_secs(3600)));
        quiet.expect("welcome").await;
        talker.expect("welcome").await;
        let start = Instant::now();
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(15)).await;
            talker.send(json!({ "type": "ping" }));
            talker.expect("pong").await;
        }
        // The quiet one was closed at 20 s, the talker lives on at 75 s.
        assert_eq!(quiet.next().await, Got::Close(close::HEARTBEAT_TIMEOUT));
        assert!(start.elapsed() >= Duration::from_secs(75));
        let mut timed = connect(&state, token("u_timed", Duration::from_secs(3600)));
        timed.expect("welcome").await;
        let start = Instant::now();
        assert_eq!(timed.next().await, Got::Close(close::HEARTBEAT_TIMEOUT));
        assert_eq!(start.elapsed().as_secs(), 20, "closed at two heartbeats");
    }

    /// A client that has read `subscribed` may make a change at once: its
    /// event must find the stream attached (it once could not, while the
    /// socket was still reading the stream's position from the outbox, and
    /// the event was then lost as "already seen").
    #[tokio::test]
    async fn streams_are_attached_before_subscribed_is_sent() {
        let (state, _dir) = state(|_| {}).await;
        let hub = state.service.bus.hub();
        for n in 0..20 {
            let user = format!("u_quick{n}");
            let topic = crate::live::protocol::user_topic(&UserId(user.clone()));
            let mut peer = connect(&state, token(&user, Duration::from_secs(3600)));
            peer.expect("welcome").await;
            peer.send(json!({ "type": "subscribe", "topics": [topic] }));
            peer.expect("subscribed").await;
            assert_eq!(hub.position(&(topic, Audience::All)), Some(0), "round {n}");
        }
    }

    #[tokio::test]
    async fn a_socket_without_credentials_has_five_seconds_to_authenticate() {
        let (state, _dir) = state(|_| {}).await;
        tokio::time::pause();
        let mut silent = connect(&state, Credential::Pending(None));
        let start = Instant::now();
        assert_eq!(silent.next().await, Got::Close(close::UNAUTHORIZED));
        // (tokio's timers tick in whole milliseconds)
        let waited = start.elapsed();
        assert!(
            (AUTH_WINDOW..AUTH_WINDOW + Duration::from_millis(5)).contains(&waited),
            "closed after {waited:?}"
        );

        // Just inside the window, a valid token is accepted.
        let mut late = connect(&state, Credential::Pending(None));
        tokio::time::sleep(AUTH_WINDOW - Duration::from_millis(10)).await;
        let token = state.service.tokens.issue(&UserId("u_late".into())).token;
        late.send(json!({ "type": "auth", "token": token }));
        assert_eq!(late.expect("welcome").await["user_id"], "u_late");
    }

    #[tokio::test]
    async fn frames_beyond_the_rate_are_refused_then_the_socket_is_closed() {
        let (state, _dir) = state(|s| {
            s.ws_frames_per_minute = 60;
            s.ws_frame_burst = 3;
        })
        .await;
        tokio::time::pause();
        let mut peer = connect(&state, token("u_fast", Duration::from_secs(3600)));
        peer.expect("welcome").await;
        for n in 0..3 {
            peer.send(json!({ "type": "ping", "id": format!("p{n}") }));
            peer.expect("pong").await;
        }
        peer.send(json!({ "type": "ping", "id": "over" }));
        let refused = peer.expect("error").await;
        assert_eq!(
            (refused["code"].as_str(), refused["id"].as_str()),
            (Some("rate_limited"), Some("over"))
        );
        // One frame a second comes back.
        tokio::time::sleep(Duration::from_secs(1)).await;
        peer.send(json!({ "type": "ping", "id": "later" }));
        assert_eq!(peer.expect("pong").await["id"], "later");
        // A client that keeps pushing past its burst is closed.
        for _ in 0..10 {
            peer.send(json!({ "type": "ping" }));
        }
        loop {
            match peer.next().await {
                Got::Frame(frame) => assert_eq!(frame["code"], "rate_limited", "{frame}"),
                got => {
                    assert_eq!(got, Got::Close(close::TOO_SLOW));
                    break;
                }
            }
        }
    }

    #[tokio::test]
    async fn a_socket_ends_when_its_token_expires() {
        let (state, _dir) = state(|s| s.heartbeat_ms = 3_600_000).await;
        tokio::time::pause();
        let mut peer = connect(&state, token("u_expiring", Duration::from_secs(90)));
        peer.expect("welcome").await;
        let start = Instant::now();
        assert_eq!(peer.next().await, Got::Close(close::POLICY));
        let lived = start.elapsed().as_secs();
        assert!((89..=90).contains(&lived), "closed after {lived} s");
    }
}
