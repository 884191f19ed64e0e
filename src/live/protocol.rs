//! Wire types of the live channel (PROTOCOL.md sections 3 to 8), shared by
//! the server and the browser so the two ends cannot drift apart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{FamilyId, ListId, UserId};

/// The topic of a list: its items and its own changes.
pub fn list_topic(list: &ListId) -> String {
    format!("gift-list:{list}")
}

/// The topic of a family: its lists and members.
pub fn family_topic(family: &FamilyId) -> String {
    format!("family:{family}")
}

/// The topic of one user's own notices.
pub fn user_topic(user: &UserId) -> String {
    format!("user:{user}")
}

/// The generic event structure's `data`. `P` is how the payload is held:
/// parsed (`serde_json::Value`, the default, as the browser reads it), or
/// as the JSON text the outbox stored (`&RawValue` on the server, which
/// writes it out once and never parses it back).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventData<P = serde_json::Value> {
    pub entity_id: String,
    /// The entity as the API returns it to this subscriber.
    pub payload: P,
    /// Who made the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The family's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// ISO 8601 in UTC, ending in `Z`.
    pub timestamp: String,
}

/// An `event` frame: one change, numbered in its stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// The tag is written, but serde does not consume it when reading a
// struct, so unknown fields cannot be denied here; `validate_event` is strict.
#[serde(tag = "type", rename = "event")]
pub struct EventFrame<P = serde_json::Value> {
    pub seq: i64,
    pub topic: String,
    pub event: String,
    pub data: EventData<P>,
    /// The W3C trace id (32 lower-case hex digits) of the request that made the change.
    pub trace_id: String,
}

impl<P> EventFrame<P> {
    /// The event's name, when it is one this version knows.
    pub fn name(&self) -> Option<EventName> {
        EventName::parse(&self.event)
    }

    /// The same frame with its payload held another way.
    pub fn map_payload<Q>(self, f: impl FnOnce(P) -> Q) -> EventFrame<Q> {
        let data = self.data;
        EventFrame {
            seq: self.seq,
            topic: self.topic,
            event: self.event,
            data: EventData {
                entity_id: data.entity_id,
                payload: f(data.payload),
                user_id: data.user_id,
                tenant_id: data.tenant_id,
                timestamp: data.timestamp,
            },
            trace_id: self.trace_id,
        }
    }
}

/// The event names of PROTOCOL.md section 7. On the wire (and in
/// [`EventFrame::event`]) they are strings, so a newer server's events
/// still pass through an older client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventName {
    Added,
    Updated,
    Deleted,
    StatusChanged,
    MemberJoined,
    /// A member left the family or was removed from it (Giftlist's own).
    MemberLeft,
    /// The recipient's thank-you view opened (Giftlist's own).
    Revealed,
}

impl EventName {
    pub const ALL: [EventName; 7] = [
        EventName::Added,
        EventName::Updated,
        EventName::Deleted,
        EventName::StatusChanged,
        EventName::MemberJoined,
        EventName::MemberLeft,
        EventName::Revealed,
    ];

    /// The name on the wire; `serde` writes the same (checked in a test).
    pub const fn as_str(self) -> &'static str {
        match self {
            EventName::Added => "ADDED",
            EventName::Updated => "UPDATED",
            EventName::Deleted => "DELETED",
            EventName::StatusChanged => "STATUS_CHANGED",
            EventName::MemberJoined => "MEMBER_JOINED",
            EventName::MemberLeft => "MEMBER_LEFT",
            EventName::Revealed => "REVEALED",
        }
    }

    pub fn parse(name: &str) -> Option<EventName> {
        EventName::ALL
            .into_iter()
            .find(|known| known.as_str() == name)
    }
}

/// The answer to `GET /api/v1/lists/{id}/changes?since=N` (polling).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Changes<P = serde_json::Value> {
    /// The events after `since`, in order, and the stream's last `seq`.
    Events {
        events: Vec<EventFrame<P>>,
        seq: i64,
    },
    /// The events cannot be replayed: reload the list over HTTP.
    Resync { resync: bool, seq: i64 },
}

/// [`Changes`] as read: one struct whose fields say which it is. (serde's
/// `untagged` reads through a buffered copy of the input, whose code would
/// add about 15 KB to the browser's bundle.)
#[derive(Deserialize)]
struct ChangesFields<P> {
    #[serde(default = "Option::default")]
    events: Option<Vec<EventFrame<P>>>,
    #[serde(default)]
    resync: bool,
    seq: i64,
}

impl<'de, P: Deserialize<'de>> Deserialize<'de> for Changes<P> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = ChangesFields::<P>::deserialize(deserializer)?;
        match (fields.resync, fields.events) {
            (true, None) => Ok(Changes::Resync {
                resync: true,
                seq: fields.seq,
            }),
            (false, Some(events)) => Ok(Changes::Events {
                events,
                seq: fields.seq,
            }),
            _ => Err(serde::de::Error::custom(
                "expected either `events` or `resync: true`",
            )),
        }
    }
}

/// The kinds of topic, with their identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Topic {
    /// `gift-list:{list_id}`: a list's items and its own changes.
    List(ListId),
    /// `family:{family_id}`: a family's lists and members.
    Family(FamilyId),
    /// `user:{user_id}`: one user's notices.
    User(UserId),
}

/// The longest topic name accepted, in bytes.
pub const MAX_TOPIC_BYTES: usize = 255;

impl Topic {
    /// Parses `resource-type:identifier` (see [`split_topic`]); another
    /// type is refused too.
    pub fn parse(topic: &str) -> Result<Topic, &'static str> {
        let (kind, id) = split_topic(topic)?;
        match kind {
            "gift-list" => Ok(Topic::List(ListId(id.to_owned()))),
            "family" => Ok(Topic::Family(FamilyId(id.to_owned()))),
            "user" => Ok(Topic::User(UserId(id.to_owned()))),
            _ => Err("the topic type must be gift-list, family or user"),
        }
    }
}

/// A topic's type and identifier, when it has the generic form
/// `resource-type:identifier` (PROTOCOL.md section 4): lower-case type,
/// non-empty identifier, at most [`MAX_TOPIC_BYTES`]. The one check of a
/// topic's form, for the server's topics and the event validator alike.
pub fn split_topic(topic: &str) -> Result<(&str, &str), &'static str> {
    if topic.len() > MAX_TOPIC_BYTES {
        return Err("a topic is at most 255 bytes");
    }
    match topic.split_once(':') {
        Some((kind, id))
            if !kind.is_empty()
                && kind
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !id.is_empty() =>
        {
            Ok((kind, id))
        }
        _ => Err("must be resource-type:identifier, like gift-list:l_1"),
    }
}

/// A frame from the client (PROTOCOL.md section 3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ClientFrame {
    /// Authenticates a socket that neither a cookie nor `?token=` did.
    Auth { token: String },
    /// Asks for topics; `since` maps a topic to the last `seq` seen.
    Subscribe {
        topics: Vec<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        since: BTreeMap<String, u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Stops topics.
    Unsubscribe {
        topics: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Heartbeat; answered with `pong`.
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

/// Why a text frame could not be read as a [`ClientFrame`], and the `id`
/// to echo in the `bad_request` error when the frame carried one.
#[derive(Clone, Debug, PartialEq)]
pub struct BadFrame {
    pub id: Option<String>,
    pub message: String,
}

impl ClientFrame {
    /// The request id to echo in replies, if the client sent one.
    pub fn id(&self) -> Option<&str> {
        match self {
            ClientFrame::Auth { .. } => None,
            ClientFrame::Subscribe { id, .. }
            | ClientFrame::Unsubscribe { id, .. }
            | ClientFrame::Ping { id } => id.as_deref(),
        }
    }

    /// Reads a text frame. Keeps the `id` of a frame it cannot read, so the
    /// error still echoes it.
    pub fn parse(text: &str) -> Result<ClientFrame, BadFrame> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|err| BadFrame {
            id: None,
            message: format!("not JSON: {err}"),
        })?;
        let id = value
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let bad = |message: String| BadFrame {
            id: id.clone(),
            message,
        };
        match value.get("type").and_then(serde_json::Value::as_str) {
            Some("auth" | "subscribe" | "unsubscribe" | "ping") => {}
            Some(other) => return Err(bad(format!("unknown frame type {other:?}"))),
            None => return Err(bad("a frame needs a string \"type\"".into())),
        }
        serde_json::from_value(value).map_err(|err| bad(err.to_string()))
    }
}

/// The error codes of frames and of the JSON API.
pub mod codes {
    use crate::model::error::ErrorCode;

    pub const BAD_REQUEST: &str = ErrorCode::BadRequest.as_str();
    pub const UNAUTHORIZED: &str = ErrorCode::Unauthorized.as_str();
    pub const FORBIDDEN: &str = ErrorCode::Forbidden.as_str();
    pub const NOT_FOUND: &str = ErrorCode::NotFound.as_str();
    pub const CONFLICT: &str = ErrorCode::Conflict.as_str();
    pub const TOO_LARGE: &str = ErrorCode::TooLarge.as_str();
    pub const RATE_LIMITED: &str = ErrorCode::RateLimited.as_str();
    pub const INTERNAL: &str = ErrorCode::Internal.as_str();
    pub const UNAVAILABLE: &str = ErrorCode::Unavailable.as_str();
}

/// WebSocket close codes (PROTOCOL.md section 3).
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const UNSUPPORTED_DATA: u16 = 1003;
    pub const INVALID_UTF8: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const HEARTBEAT_TIMEOUT: u16 = 4408;
    pub const TOO_SLOW: u16 = 4429;
}

/// A frame from the server other than `event` (which is [`EventFrame`]).
/// Read strictly: a field that its `type` does not have is refused.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerFrame {
    /// The first frame on an authenticated socket.
    Welcome {
        connection_id: String,
        user_id: String,
        heartbeat_ms: u64,
    },
    Subscribed {
        topics: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    Unsubscribed {
        topics: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    Error {
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// The events after the client's `since` cannot be replayed: reload
    /// over HTTP; live events continue after `seq`.
    Resync {
        topic: String,
        seq: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

/// [`ServerFrame`] as read: every field any kind of frame has, and the
/// `type` that says which it is. (serde's own reading of a `type`-tagged
/// enum goes through a buffered copy of the input, whose code would cost
/// the browser's bundle about 15 KB; this is one plain struct.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFrameFields {
    #[serde(rename = "type")]
    kind: String,
    connection_id: Option<String>,
    user_id: Option<String>,
    heartbeat_ms: Option<u64>,
    topics: Option<Vec<String>>,
    id: Option<String>,
    code: Option<String>,
    message: Option<String>,
    topic: Option<String>,
    seq: Option<i64>,
}

impl TryFrom<ServerFrameFields> for ServerFrame {
    type Error = String;

    fn try_from(fields: ServerFrameFields) -> Result<Self, String> {
        let present = [
            ("connection_id", fields.connection_id.is_some()),
            ("user_id", fields.user_id.is_some()),
            ("heartbeat_ms", fields.heartbeat_ms.is_some()),
            ("topics", fields.topics.is_some()),
            ("code", fields.code.is_some()),
            ("message", fields.message.is_some()),
            ("topic", fields.topic.is_some()),
            ("seq", fields.seq.is_some()),
        ];
        let kind = fields.kind;
        let id = fields.id;
        let (frame, allowed): (ServerFrame, &[&str]) = match kind.as_str() {
            "welcome" => (
                ServerFrame::Welcome {
                    connection_id: needed(fields.connection_id, "connection_id", &kind)?,
                    user_id: needed(fields.user_id, "user_id", &kind)?,
                    heartbeat_ms: needed(fields.heartbeat_ms, "heartbeat_ms", &kind)?,
                },
                &["connection_id", "user_id", "heartbeat_ms"],
            ),
            "subscribed" => (
                ServerFrame::Subscribed {
                    topics: needed(fields.topics, "topics", &kind)?,
                    id,
                },
                &["topics"],
            ),
            "unsubscribed" => (
                ServerFrame::Unsubscribed {
                    topics: needed(fields.topics, "topics", &kind)?,
                    id,
                },
                &["topics"],
            ),
            "pong" => (ServerFrame::Pong { id }, &[]),
            "error" => (
                ServerFrame::Error {
                    code: needed(fields.code, "code", &kind)?,
                    message: needed(fields.message, "message", &kind)?,
                    topic: fields.topic,
                    id,
                },
                &["code", "message", "topic"],
            ),
            "resync" => (
                ServerFrame::Resync {
                    topic: needed(fields.topic, "topic", &kind)?,
                    seq: needed(fields.seq, "seq", &kind)?,
                    id,
                },
                &["topic", "seq"],
            ),
            other => return Err(format!("unknown frame type `{other}`")),
        };
        match present
            .iter()
            .find(|(name, here)| *here && !allowed.contains(name))
        {
            Some((name, _)) => Err(format!("unknown field `{name}` in `{kind}`")),
            None => Ok(frame),
        }
    }
}

/// `value`, which a frame of type `kind` must have.
fn needed<T>(value: Option<T>, name: &str, kind: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("missing field `{name}` in `{kind}`"))
}

impl<'de> Deserialize<'de> for ServerFrame {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = ServerFrameFields::deserialize(deserializer)?;
        ServerFrame::try_from(fields).map_err(serde::de::Error::custom)
    }
}

impl ServerFrame {
    /// An `error` frame.
    pub fn error(code: &str, message: impl Into<String>) -> ServerFrame {
        ServerFrame::Error {
            code: code.to_owned(),
            message: message.into(),
            topic: None,
            id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_frames_are_read_strictly() {
        let frames = [
            ServerFrame::Welcome {
                connection_id: "c_1".into(),
                user_id: "u_1".into(),
                heartbeat_ms: 30_000,
            },
            ServerFrame::Subscribed {
                topics: vec!["user:u_1".into()],
                id: Some("r1".into()),
            },
            ServerFrame::Unsubscribed {
                topics: vec![],
                id: None,
            },
            ServerFrame::Pong { id: None },
            ServerFrame::Error {
                code: "forbidden".into(),
                message: "no".into(),
                topic: Some("family:f_1".into()),
                id: None,
            },
            ServerFrame::Resync {
                topic: "gift-list:l_1".into(),
                seq: 7,
                id: Some("r2".into()),
            },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(serde_json::from_str::<ServerFrame>(&text).unwrap(), frame);
        }
        for (wrong, why) in [
            (
                json!({ "type": "pong", "topics": [] }),
                "unknown field `topics` in `pong`",
            ),
            (
                json!({ "type": "resync", "topic": "user:u_1" }),
                "missing field `seq`",
            ),
            (json!({ "type": "hello" }), "unknown frame type `hello`"),
            (
                json!({ "type": "pong", "extra": 1 }),
                "unknown field `extra`",
            ),
            (json!({ "topics": [] }), "missing field `type`"),
        ] {
            let err = serde_json::from_value::<ServerFrame>(wrong).unwrap_err();
            assert!(err.to_string().contains(why), "{err}");
        }
    }

    #[test]
    fn changes_are_events_or_resync() {
        let events: Changes = serde_json::from_value(json!({ "events": [], "seq": 3 })).unwrap();
        assert_eq!(
            events,
            Changes::Events {
                events: vec![],
                seq: 3
            }
        );
        let resync: Changes = serde_json::from_value(json!({ "resync": true, "seq": 9 })).unwrap();
        assert_eq!(
            resync,
            Changes::Resync {
                resync: true,
                seq: 9
            }
        );
        for wrong in [
            json!({ "seq": 1 }),
            json!({ "events": [], "resync": true, "seq": 1 }),
        ] {
            assert!(serde_json::from_value::<Changes>(wrong).is_err());
        }
    }

    #[test]
    fn event_names_are_spelled_once() {
        for name in EventName::ALL {
            let json = serde_json::to_value(name).unwrap();
            assert_eq!(json, name.as_str());
            assert_eq!(EventName::parse(name.as_str()), Some(name));
        }
        assert_eq!(EventName::parse("added"), None);
    }

    #[test]
    fn topics_parse_by_kind() {
        assert_eq!(
            Topic::parse("gift-list:l_1"),
            Ok(Topic::List(ListId("l_1".into())))
        );
        assert_eq!(
            Topic::parse("family:f_1"),
            Ok(Topic::Family(FamilyId("f_1".into())))
        );
        assert_eq!(
            Topic::parse("user:u_1"),
            Ok(Topic::User(UserId("u_1".into())))
        );
        for bad in [
            "list:l_1",
            "gift-list:",
            "gift-list",
            "",
            &format!("user:{}", "u".repeat(251)),
        ] {
            assert!(Topic::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_frames_parse_and_bad_ones_keep_their_id() {
        assert_eq!(
            ClientFrame::parse(
                r#"{"type":"subscribe","topics":["gift-list:l_1"],"since":{"gift-list:l_1":41},"id":"r1"}"#
            ),
            Ok(ClientFrame::Subscribe {
                topics: vec!["gift-list:l_1".into()],
                since: [("gift-list:l_1".to_owned(), 41)].into(),
                id: Some("r1".into()),
            })
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"ping"}"#),
            Ok(ClientFrame::Ping { id: None })
        );
        let bad = ClientFrame::parse(r#"{"type":"dance","id":"r9"}"#).unwrap_err();
        assert_eq!(bad.id.as_deref(), Some("r9"));
        let bad = ClientFrame::parse(r#"{"type":"subscribe","topics":"x","id":"r3"}"#).unwrap_err();
        assert_eq!(bad.id.as_deref(), Some("r3"));
        assert!(ClientFrame::parse(r#"{"type":"ping","extra":1}"#).is_err());
        assert!(ClientFrame::parse("not json").unwrap_err().id.is_none());
        assert!(
            ClientFrame::parse(r#"{"type":"subscribe","topics":[],"since":{"a:b":-1}}"#).is_err()
        );
    }

    #[test]
    fn server_frames_serialize_as_the_protocol_shows() {
        let frame = ServerFrame::Error {
            code: codes::FORBIDDEN.into(),
            message: "not a member of this list".into(),
            topic: Some("gift-list:l_9".into()),
            id: Some("r1".into()),
        };
        assert_eq!(
            serde_json::to_value(&frame).unwrap(),
            json!({"type":"error","code":"forbidden","message":"not a member of this list","topic":"gift-list:l_9","id":"r1"})
        );
        assert_eq!(
            serde_json::to_value(ServerFrame::Pong { id: None }).unwrap(),
            json!({"type":"pong"})
        );
    }
}
