//! A WebSocket test client for `/ws` that checks every frame the server
//! sends: event frames against the protocol's validator, the others against
//! the server frame types (unknown fields refused).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use giftlist::live::{protocol::ServerFrame, validate::validate_event};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{self, client::IntoClientRequest, http::HeaderValue, Message},
    MaybeTlsStream, WebSocketStream,
};

use super::TestServer;

pub type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for a frame it expects.
pub const WAIT: Duration = Duration::from_secs(5);

/// How to open the socket.
#[derive(Clone, Debug, Default)]
pub struct Open {
    pub cookie: Option<String>,
    pub origin: Option<String>,
    pub token: Option<String>,
    /// A share link's token (`?share=`): a guest's socket.
    pub share: Option<String>,
}

/// What the server sent next.
#[derive(Debug)]
pub enum Received {
    Frame(Value),
    Close(Option<u16>),
    /// The connection ended without a close frame.
    Gone,
}

pub struct Ws {
    pub stream: Stream,
    /// Every frame received, in order.
    pub log: Vec<Value>,
}

/// Asserts that `frame` is a well-formed server frame.
#[track_caller]
pub fn check_frame(frame: &Value) {
    if frame["type"] == "event" {
        let violations = validate_event(frame);
        assert!(violations.is_empty(), "{frame}: {violations:?}");
    } else {
        serde_json::from_value::<ServerFrame>(frame.clone())
            .unwrap_or_else(|err| panic!("not a server frame ({err}): {frame}"));
    }
}

/// Opens `/ws`; the HTTP error when the upgrade is refused.
pub async fn open(server: &TestServer, how: Open) -> Result<Ws, tungstenite::Error> {
    let mut url = format!("ws://{}/ws", server.addr);
    if let Some(token) = &how.token {
        url.push_str(&format!("?token={token}"));
    }
    if let Some(share) = &how.share {
        url.push_str(&format!("?share={share}"));
    }
    let mut request = url.into_client_request()?;
    if let Some(cookie) = &how.cookie {
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(cookie).unwrap());
    }
    if let Some(origin) = &how.origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    // As a browser's handshake does: the answer must still be a plain
    // upgrade, never a compressed one.
    request.headers_mut().insert(
        "accept-encoding",
        HeaderValue::from_static("gzip, deflate, br, zstd"),
    );
    let (stream, answer) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(answer.headers().get("content-encoding"), None);
    Ok(Ws {
        stream,
        log: Vec::new(),
    })
}

/// Opens `/ws` with a `?token=` for `user`; returns the socket after its
/// `welcome`.
pub async fn open_as(server: &TestServer, user: &str) -> Ws {
    let mut ws = open(
        server,
        Open {
            token: Some(super::token_for(server, user)),
            ..Open::default()
        },
    )
    .await
    .expect("upgrade");
    ws.expect("welcome").await;
    ws
}

/// Opens `/ws` as a logged-in browser: its cookie and the server's Origin.
/// Returns the socket after its `welcome`.
pub async fn open_browser(server: &TestServer, browser: &super::Browser) -> Ws {
    let mut ws = open(
        server,
        Open {
            cookie: browser.cookie_header(),
            origin: Some(server.origin()),
            token: None,
            ..Open::default()
        },
    )
    .await
    .expect("upgrade");
    ws.expect("welcome").await;
    ws
}

impl Ws {
    pub async fn send(&mut self, frame: Value) {
        self.stream
            .send(Message::text(frame.to_string()))
            .await
            .expect("send");
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.stream.send(message).await.expect("send");
    }

    /// The next thing from the server, within `wait`; `None` on timeout.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Received> {
        loop {
            let next = tokio::time::timeout(wait, self.stream.next()).await.ok()?;
            return Some(match next {
                None | Some(Err(_)) => Received::Gone,
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|_| panic!("server sent non-JSON text: {text}"));
                    check_frame(&frame);
                    self.log.push(frame.clone());
                    Received::Frame(frame)
                }
                Some(Ok(Message::Close(frame))) => {
                    Received::Close(frame.map(|frame| u16::from(frame.code)))
                }
                Some(Ok(Message::Binary(_))) => panic!("the server never sends binary frames"),
                Some(Ok(_)) => continue,
            });
        }
    }

    /// The next frame, which must come within [`WAIT`].
    pub async fn frame(&mut self) -> Value {
        match self.next_within(WAIT).await {
            Some(Received::Frame(frame)) => frame,
            other => panic!(
                "expected a frame, got {other:?}; received so far: {}",
                serde_json::to_string(&self.log).unwrap_or_default()
            ),
        }
    }

    /// The next frame, which must be of `kind`.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let frame = self.frame().await;
        assert_eq!(frame["type"], kind, "expected {kind}, got {frame}");
        frame
    }

    /// The next `count` frames, which must all be events.
    pub async fn events(&mut self, count: usize) -> Vec<Value> {
        let mut events = Vec::new();
        for _ in 0..count {
            events.push(self.expect("event").await);
        }
        events
    }

    /// Asserts that the server closes the socket with `code` next (frames
    /// before the close are skipped only if `skip_frames`).
    pub async fn expect_close(&mut self, code: u16, skip_frames: bool) {
        loop {
            match self.next_within(WAIT).await {
                Some(Received::Close(got)) => {
                    assert_eq!(got, Some(code), "close code");
                    return;
                }
                Some(Received::Frame(frame)) if skip_frames => {
                    let _ = frame;
                }
                other => panic!("expected close {code}, got {other:?}"),
            }
        }
    }

    /// Asserts that nothing arrives for `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Some(got) = self.next_within(wait).await {
            panic!("expected silence, got {got:?}");
        }
    }

    /// Subscribes and waits for `subscribed`; returns it.
    pub async fn subscribe(&mut self, topics: &[&str], since: Value, id: &str) -> Value {
        self.send(json!({ "type": "subscribe", "topics": topics, "since": since, "id": id }))
            .await;
        let frame = self.expect("subscribed").await;
        assert_eq!(frame["id"], id);
        frame
    }
}

/// An event frame's `seq`.
pub fn seq(event: &Value) -> i64 {
    event["seq"].as_i64().expect("seq")
}
