//! The generic event structure of PROTOCOL.md as a validator: for the
//! `giftlist validate-event` command and for the tests, which pass every
//! frame the server sends through it. Server-only: the browser bundle has
//! no use for it.

use super::protocol::split_topic;

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
            if let Err(why) = split_topic(topic) {
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
        Some(Value::Object(payload)) => {
            let is_item = data
                .get("entity_id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.starts_with("i_"));
            if is_item {
                item_extensions(payload, &mut report);
            }
        }
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

/// The fields Giftlist adds to an item (docs/API.md), where present:
/// `quantity`, `claims` and `group`, each exactly as documented.
fn item_extensions(
    item: &serde_json::Map<String, serde_json::Value>,
    report: &mut impl FnMut(&str, &str),
) {
    use serde_json::Value;
    let int_in = |value: &Value, low: i64, high: i64| {
        value.as_i64().is_some_and(|n| (low..=high).contains(&n))
    };
    let id = |value: &Value| value.as_str().is_some_and(|s| !s.is_empty());
    // Exactly `keys`, and perhaps `guest`: the name of a guest (someone
    // without an account) on a claim or pledge.
    let only = |object: &serde_json::Map<String, Value>,
                path: &str,
                keys: &[&str],
                report: &mut dyn FnMut(&str, &str)| {
        for key in object.keys() {
            if key == "guest" && keys.contains(&"by") {
                if !object
                    .get("guest")
                    .and_then(Value::as_str)
                    .is_some_and(|g| !g.trim().is_empty() && g.chars().count() <= 60)
                {
                    report(
                        &format!("{path}.guest"),
                        "must be a name of 1 to 60 characters",
                    );
                }
                continue;
            }
            if !keys.contains(&key.as_str()) {
                report(&format!("{path}.{key}"), "unknown field");
            }
        }
        for key in keys {
            if !object.contains_key(*key) {
                report(&format!("{path}.{key}"), "missing");
            }
        }
    };
    const CENTS_MAX: i64 = 1_000_000_000_000;
    match item.get("quantity") {
        None | Some(Value::Null) => {}
        Some(value) if int_in(value, 1, 999) => {}
        Some(_) => report(
            "$.data.payload.quantity",
            "must be an integer from 1 to 999, or null",
        ),
    }
    match item.get("claims") {
        None => {}
        Some(Value::Array(claims)) => {
            for (n, claim) in claims.iter().enumerate() {
                let path = format!("$.data.payload.claims[{n}]");
                let Some(claim) = claim.as_object() else {
                    report(&path, "must be an object");
                    continue;
                };
                only(claim, &path, &["status", "by", "units"], report);
                if !matches!(
                    claim.get("status").and_then(Value::as_str),
                    Some("reserved" | "purchased")
                ) {
                    report(
                        &format!("{path}.status"),
                        "must be \"reserved\" or \"purchased\"",
                    );
                }
                if !claim.get("by").is_some_and(id) {
                    report(&format!("{path}.by"), "must be a user id");
                }
                if !claim.get("units").is_some_and(|u| int_in(u, 1, 999)) {
                    report(&format!("{path}.units"), "must be an integer from 1 to 999");
                }
            }
        }
        Some(_) => report("$.data.payload.claims", "must be an array"),
    }
    // An item as guests read it (a share link's stream): what is taken,
    // and of a group gift only how far it is funded; never who.
    let shared = item.contains_key("taken");
    match item.get("taken") {
        None | Some(Value::Null) => {}
        Some(value) if value.as_i64().is_some_and(|n| n >= 0) => {}
        Some(_) => report(
            "$.data.payload.taken",
            "must be a non-negative integer or null",
        ),
    }
    match item.get("group") {
        None | Some(Value::Null) => {}
        Some(Value::Object(group)) if shared => {
            let path = "$.data.payload.group";
            only(
                group,
                path,
                &["target_cents", "pledged_cents", "funded"],
                report,
            );
            if !group
                .get("target_cents")
                .is_some_and(|t| int_in(t, 1, CENTS_MAX))
            {
                report(
                    &format!("{path}.target_cents"),
                    "must be an integer from 1 to 10^12",
                );
            }
            if group
                .get("pledged_cents")
                .and_then(Value::as_i64)
                .is_none_or(|n| n < 0)
            {
                report(
                    &format!("{path}.pledged_cents"),
                    "must be a non-negative integer",
                );
            }
            if !group.get("funded").is_some_and(Value::is_boolean) {
                report(&format!("{path}.funded"), "must be a boolean");
            }
        }
        Some(Value::Object(group)) => {
            let path = "$.data.payload.group";
            only(
                group,
                path,
                &[
                    "target_cents",
                    "organiser",
                    "pledged_cents",
                    "paid_cents",
                    "funded",
                    "pledges",
                ],
                report,
            );
            if !group
                .get("target_cents")
                .is_some_and(|t| int_in(t, 1, CENTS_MAX))
            {
                report(
                    &format!("{path}.target_cents"),
                    "must be an integer from 1 to 10^12",
                );
            }
            for key in ["pledged_cents", "paid_cents"] {
                if group
                    .get(key)
                    .and_then(serde_json::Value::as_i64)
                    .is_none_or(|n| n < 0)
                {
                    report(&format!("{path}.{key}"), "must be a non-negative integer");
                }
            }
            if !group.get("funded").is_some_and(Value::is_boolean) {
                report(&format!("{path}.funded"), "must be a boolean");
            }
            if !group.get("organiser").is_some_and(|o| o.is_null() || id(o)) {
                report(&format!("{path}.organiser"), "must be a user id or null");
            }
            match group.get("pledges") {
                Some(Value::Array(pledges)) => {
                    for (n, pledge) in pledges.iter().enumerate() {
                        let path = format!("{path}.pledges[{n}]");
                        let Some(pledge) = pledge.as_object() else {
                            report(&path, "must be an object");
                            continue;
                        };
                        only(
                            pledge,
                            &path,
                            &["by", "amount_cents", "currency", "paid"],
                            report,
                        );
                        if !pledge.get("by").is_some_and(id) {
                            report(&format!("{path}.by"), "must be a user id");
                        }
                        if !pledge
                            .get("amount_cents")
                            .is_some_and(|a| int_in(a, 100, CENTS_MAX))
                        {
                            report(
                                &format!("{path}.amount_cents"),
                                "must be an integer from 100 to 10^12",
                            );
                        }
                        let currency = pledge.get("currency").and_then(Value::as_str);
                        if !currency.is_some_and(|c| {
                            c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())
                        }) {
                            report(&format!("{path}.currency"), "must be an ISO 4217 code");
                        }
                        if !pledge.get("paid").is_some_and(Value::is_boolean) {
                            report(&format!("{path}.paid"), "must be a boolean");
                        }
                    }
                }
                Some(_) => report(&format!("{path}.pledges"), "must be an array"),
                None => {}
            }
        }
        Some(_) => report("$.data.payload.group", "must be an object or null"),
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
    use crate::live::protocol::EventFrame;
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
    fn items_extensions_are_checked_exactly() {
        let mut event = good();
        event["data"]["payload"] = json!({
            "id": "i_77", "quantity": 6,
            "claim": {"status": "reserved", "by": "u_2"},
            "claims": [{"status": "reserved", "by": "u_2", "units": 2}],
            "group": {"target_cents": 30000, "organiser": null, "pledged_cents": 500,
                      "paid_cents": 0, "funded": false,
                      "pledges": [{"by": "u_3", "amount_cents": 500, "currency": "EUR", "paid": false}]}
        });
        assert_eq!(validate_event(&event), vec![]);
        event["data"]["payload"]["quantity"] = json!(null);
        event["data"]["payload"]["group"] = json!(null);
        assert_eq!(validate_event(&event), vec![], "no limit, no group");
        let cases = [
            (
                "/data/payload/quantity",
                json!(0),
                "$.data.payload.quantity",
            ),
            (
                "/data/payload/claims/0/units",
                json!(0),
                "$.data.payload.claims[0].units",
            ),
            (
                "/data/payload/claims/0/status",
                json!("taken"),
                "$.data.payload.claims[0].status",
            ),
            ("/data/payload/group", json!(7), "$.data.payload.group"),
        ];
        for (pointer, value, path) in cases {
            let mut bad = event.clone();
            *bad.pointer_mut(pointer).unwrap() = value.clone();
            let found = validate_event(&bad);
            assert_eq!(found.len(), 1, "{pointer} = {value}: {found:?}");
            assert_eq!(found[0].path, path);
        }
        let mut extra = event.clone();
        extra["data"]["payload"]["claims"][0]["note"] = json!("x");
        assert_eq!(
            validate_event(&extra)[0].path,
            "$.data.payload.claims[0].note"
        );
    }

    #[test]
    fn guests_and_guest_streams_are_checked_exactly() {
        let mut event = good();
        event["data"]["payload"] = json!({
            "id": "i_77", "quantity": 6,
            "claims": [{"status": "reserved", "by": "u_2", "units": 2, "guest": "Grandma"}],
        });
        assert_eq!(validate_event(&event), vec![]);
        event["data"]["payload"]["claims"][0]["guest"] = json!("");
        assert_eq!(
            validate_event(&event)[0].path,
            "$.data.payload.claims[0].guest"
        );
        // A guest stream's item: what is taken, and of a group only how far.
        let mut shared = good();
        shared["data"]["payload"] = json!({
            "id": "i_77", "quantity": 6, "taken": 2,
            "group": {"target_cents": 30000, "pledged_cents": 500, "funded": false},
        });
        assert_eq!(validate_event(&shared), vec![]);
        shared["data"]["payload"]["group"]["pledges"] = json!([]);
        assert_eq!(
            validate_event(&shared)[0].path,
            "$.data.payload.group.pledges"
        );
        shared["data"]["payload"]["group"] = json!(null);
        shared["data"]["payload"]["taken"] = json!(-1);
        assert_eq!(validate_event(&shared)[0].path, "$.data.payload.taken");
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
}
