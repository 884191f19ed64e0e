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

/// The generic event structure's `data`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventData {
    pub entity_id: String,
    /// The entity as the API returns it to this subscriber.
    pub payload: serde_json::Value,
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
pub struct EventFrame {
    pub seq: i64,
    pub topic: String,
    pub event: String,
    pub data: EventData,
    /// The W3C trace id (32 lower-case hex digits) of the request that made the change.
    pub trace_id: String,
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
    /// Parses `resource-type:identifier`; anything else (another type, an
    /// empty id, over 255 bytes) is malformed.
    pub fn parse(topic: &str) -> Result<Topic, &'static str> {
        if topic.len() > MAX_TOPIC_BYTES {
            return Err("a topic is at most 255 bytes");
        }
        let Some((kind, id)) = topic.split_once(':') else {
            return Err("a topic is resource-type:identifier");
        };
        if id.is_empty() {
            return Err("a topic needs an identifier after the colon");
        }
        match kind {
            "gift-list" => Ok(Topic::List(ListId(id.to_owned()))),
            "family" => Ok(Topic::Family(FamilyId(id.to_owned()))),
            "user" => Ok(Topic::User(UserId(id.to_owned()))),
            _ => Err("the topic type must be gift-list, family or user"),
        }
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
    pub const BAD_REQUEST: &str = "bad_request";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const FORBIDDEN: &str = "forbidden";
    pub const NOT_FOUND: &str = "not_found";
    pub const CONFLICT: &str = "conflict";
    pub const TOO_LARGE: &str = "too_large";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const INTERNAL: &str = "internal";
    pub const UNAVAILABLE: &str = "unavailable";
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
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

/// One thing wrong with an event, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// A JSON path from the event's root, like `$.data.timestamp`.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Checks a JSON value against the generic event structure of PROTOCOL.md
/// (an `event` frame may also carry `type: "event"` and `seq`). Returns
/// every violation, empty when the event is valid.
pub fn validate_event(event: &serde_json::Value) -> Vec<Violation> {
    use serde_json::Value;
    let mut found = Vec::new();
    let mut report = |path: &str, message: &str| {
        found.push(Violation {
            path: path.to_owned(),
            message: message.to_owned(),
        })
    };
    let Some(root) = event.as_object() else {
        report("$", "an event is a JSON object");
        return found;
    };
    for key in root.keys() {
        if !["type", "seq", "topic", "event", "data", "trace_id"].contains(&key.as_str()) {
            report(&format!("$.{key}"), "unknown field");
        }
    }
    match root.get("type") {
        None => {}
        Some(Value::String(kind)) if kind == "event" => {}
        Some(_) => report("$.type", "must be \"event\""),
    }
    match root.get("seq") {
        None if root.contains_key("type") => report("$.seq", "an event frame needs seq"),
        None => {}
        Some(seq) if seq.as_u64().is_some_and(|seq| seq >= 1) => {}
        Some(_) => report("$.seq", "must be an integer of 1 or more"),
    }
    match root.get("topic") {
        None => report("$.topic", "missing"),
        Some(Value::String(topic)) => {
            if let Err(why) = check_topic(topic) {
                report("$.topic", why);
            }
        }
        Some(_) => report("$.topic", "must be a string"),
    }
    match root.get("event") {
        None => report("$.event", "missing"),
        Some(Value::String(name)) if is_event_name(name) => {}
        Some(_) => report(
            "$.event",
            "must be an upper-case name like ADDED or STATUS_CHANGED",
        ),
    }
    match root.get("trace_id") {
        None => report("$.trace_id", "missing"),
        Some(Value::String(id)) if is_trace_id(id) => {}
        Some(_) => report(
            "$.trace_id",
            "must be 32 lower-case hex digits, not all zero",
        ),
    }
    let Some(data) = root.get("data") else {
        report("$.data", "missing");
        return found;
    };
    let Some(data) = data.as_object() else {
        report("$.data", "must be an object");
        return found;
    };
    for key in data.keys() {
        if !["entity_id", "payload", "user_id", "tenant_id", "timestamp"].contains(&key.as_str()) {
            report(&format!("$.data.{key}"), "unknown field");
        }
    }
    match data.get("entity_id") {
        None => report("$.data.entity_id", "missing"),
        Some(Value::String(id)) if !id.is_empty() => {}
        Some(_) => report("$.data.entity_id", "must be a non-empty string"),
    }
    match data.get("payload") {
        None => report("$.data.payload", "missing"),
        Some(Value::Object(_)) => {}
        Some(_) => report("$.data.payload", "must be an object (the entity)"),
    }
    for key in ["user_id", "tenant_id"] {
        match data.get(key) {
            None => {}
            Some(Value::String(id)) if !id.is_empty() => {}
            Some(_) => report(
                &format!("$.data.{key}"),
                "must be a non-empty string when present",
            ),
        }
    }
    match data.get("timestamp") {
        None => report("$.data.timestamp", "missing"),
        Some(Value::String(stamp)) if is_utc_timestamp(stamp) => {}
        Some(_) => report(
            "$.data.timestamp",
            "must be ISO 8601 in UTC ending in Z, like 2026-11-28T19:20:00.123Z",
        ),
    }
    found
}

/// Checks every event in `text`: one JSON value, a JSON array of events,
/// or several values one after another (JSON lines). Returns one line per
/// violation, each naming the event (from 1) and the JSON path.
pub fn validate_events_text(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut count = 0;
    for (index, value) in serde_json::Deserializer::from_str(text)
        .into_iter::<serde_json::Value>()
        .enumerate()
    {
        let value = match value {
            Ok(value) => value,
            Err(err) => {
                lines.push(format!("value {}: not JSON: {err}", index + 1));
                return lines;
            }
        };
        let events = match value {
            serde_json::Value::Array(events) => events,
            event => vec![event],
        };
        for event in events {
            count += 1;
            for violation in validate_event(&event) {
                lines.push(format!("event {count}: {violation}"));
            }
        }
    }
    if count == 0 {
        lines.push("no event found in the input".to_owned());
    }
    lines
}

/// A topic of the generic form `resource-type:identifier`.
fn check_topic(topic: &str) -> Result<(), &'static str> {
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
            Ok(())
        }
        _ => Err("must be resource-type:identifier, like gift-list:l_1"),
    }
}

fn is_event_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn is_trace_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && id.bytes().any(|b| b != b'0')
}

/// `YYYY-MM-DDTHH:MM:SS` with optional fraction, ending in `Z`.
fn is_utc_timestamp(stamp: &str) -> bool {
    let Some(body) = stamp.strip_suffix('Z') else {
        return false;
    };
    let (main, fraction) = match body.split_once('.') {
        Some((main, fraction)) => (main, Some(fraction)),
        None => (body, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let b = main.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        let part = &main[from..to];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (Some(_year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        number(0, 4),
        number(5, 7),
        number(8, 10),
        number(11, 13),
        number(14, 16),
        number(17, 19),
    ) else {
        return false;
    };
    (1..=12).contains(&month) && (1..=31).contains(&day) && hour < 24 && minute < 60 && second < 61
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> serde_json::Value {
        json!({
            "type": "event", "seq": 42, "topic": "gift-list:l_1", "event": "ADDED",
            "data": {"entity_id": "i_77", "payload": {}, "user_id": "u_2", "tenant_id": "f_5",
                     "timestamp": "2026-11-28T19:20:00.123Z"},
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"
        })
    }

    #[test]
    fn the_protocol_example_is_valid_and_round_trips() {
        assert_eq!(validate_event(&good()), vec![]);
        let frame: EventFrame = serde_json::from_value(good()).unwrap();
        assert_eq!(serde_json::to_value(&frame).unwrap(), good());
        let mut generic = good();
        generic.as_object_mut().unwrap().remove("type");
        generic.as_object_mut().unwrap().remove("seq");
        assert_eq!(validate_event(&generic), vec![]);
    }

    #[test]
    fn each_violation_names_its_path() {
        let cases = [
            ("/topic", json!("gift-list"), "$.topic"),
            ("/topic", json!("x".repeat(300) + ":1"), "$.topic"),
            ("/event", json!("added"), "$.event"),
            (
                "/trace_id",
                json!("4BF92F3577B34DA6A3CE929D0E0E4736"),
                "$.trace_id",
            ),
            ("/trace_id", json!("0".repeat(32)), "$.trace_id"),
            ("/seq", json!(0), "$.seq"),
            ("/type", json!("welcome"), "$.type"),
            (
                "/data/timestamp",
                json!("2026-11-28T19:20:00+01:00"),
                "$.data.timestamp",
            ),
            (
                "/data/timestamp",
                json!("2026-13-28T19:20:00Z"),
                "$.data.timestamp",
            ),
            ("/data/entity_id", json!(""), "$.data.entity_id"),
            ("/data/payload", json!("text"), "$.data.payload"),
            ("/data/user_id", json!(7), "$.data.user_id"),
        ];
        for (pointer, value, path) in cases {
            let mut event = good();
            *event.pointer_mut(pointer).unwrap() = value.clone();
            let found = validate_event(&event);
            assert_eq!(found.len(), 1, "{pointer} = {value}: {found:?}");
            assert_eq!(found[0].path, path);
        }
        let mut event = good();
        event["data"].as_object_mut().unwrap().remove("timestamp");
        event
            .as_object_mut()
            .unwrap()
            .insert("extra".into(), json!(1));
        let paths: Vec<_> = validate_event(&event).into_iter().map(|v| v.path).collect();
        assert_eq!(paths, vec!["$.extra", "$.data.timestamp"]);
        assert_eq!(validate_event(&json!([1]))[0].path, "$");
    }

    #[test]
    fn text_input_may_hold_one_event_an_array_or_lines() {
        let one = good().to_string();
        assert!(validate_events_text(&one).is_empty());
        assert!(validate_events_text(&format!("[{one},{one}]")).is_empty());
        let mut bad = good();
        bad["trace_id"] = json!("nope");
        let lines = validate_events_text(&format!("{one}\n{bad}\n"));
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("event 2: $.trace_id: "), "{lines:?}");
        assert_eq!(validate_events_text("  ").len(), 1);
        assert!(validate_events_text("{").concat().contains("not JSON"));
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
