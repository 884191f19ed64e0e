//! Wire types of the live channel (PROTOCOL.md sections 3 to 8), shared by
//! the server and the browser so the two ends cannot drift apart.

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
#[serde(tag = "type", rename = "event", deny_unknown_fields)]
pub struct EventFrame {
    pub seq: i64,
    pub topic: String,
    pub event: String,
    pub data: EventData,
    /// The W3C trace id (32 lower-case hex digits) of the request that made the change.
    pub trace_id: String,
}
