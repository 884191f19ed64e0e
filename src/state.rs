//! What every request handler can reach: the application state, the
//! settings fixed at start, and the request's trace id.
//!
//! A leaf on purpose: the HTTP edges (`api`, `ui::server`, `live::socket`,
//! `live::sse`, `auth::extract`, `auth::origin`) import it, and it imports
//! none of them, so `server.rs` (which wires the edges together) is never
//! imported back.

use std::sync::Arc;

use axum::{extract::FromRef, http::HeaderMap};
use leptos::prelude::LeptosOptions;
use rand::RngCore;

use crate::{
    auth::client_ip::TrustedProxies,
    live::{pending::PendingAuth, LiveLimits},
    service::Service,
    store::Store,
};

/// What every handler can reach. Cheap to clone: everything inside is shared.
#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Store,
    pub service: Service,
    pub runtime: Arc<Runtime>,
}

/// Settings resolved at start and fixed for the life of the process.
#[derive(Debug)]
pub struct Runtime {
    /// Origins allowed to make cookie-authenticated writes and socket upgrades.
    pub allowed_origins: Vec<String>,
    /// Whether cookies get the `Secure` attribute.
    pub secure_cookies: bool,
    /// The live channel's limits and intervals.
    pub live: LiveLimits,
    /// The session cookie's name: `__Host-` prefixed when served over https.
    pub cookie_name: &'static str,
    /// What `/metrics` requires as its bearer token; `None`: it is not served.
    pub metrics_token: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub proxies: TrustedProxies,
    /// Sockets waiting for their `auth` frame, bounded overall and per address.
    pub pending_auth: Arc<PendingAuth>,
    /// How long a client may take to send a request's headers.
    pub header_timeout: std::time::Duration,
    /// How long announced events are kept (see `store::outbox::prune`).
    pub outbox_retention: std::time::Duration,
    /// `X-Giftlist-Instance` on every answer, when this instance has a name.
    pub instance: Option<axum::http::HeaderValue>,
}

/// The W3C trace id of a request: from a valid `traceparent`, else new.
/// Handlers read it from the request extensions; it is stored on the
/// events the request records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceId(pub String);

impl TraceId {
    /// Adopts the trace id of a valid `traceparent` header
    /// (`00-<32 hex>-<16 hex>-<2 hex>`, ids not all zero), else makes one.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        headers
            .get("traceparent")
            .and_then(|value| value.to_str().ok())
            .and_then(parse_traceparent)
            .map(|id| TraceId(id.to_owned()))
            .unwrap_or_else(TraceId::random)
    }

    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        TraceId(hex::encode(bytes))
    }
}

fn parse_traceparent(value: &str) -> Option<&str> {
    let mut parts = value.trim().split('-');
    let (version, trace_id, parent_id, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let is_hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = is_hex(version, 2)
        && version != "ff"
        && (version != "00" || parts.next().is_none())
        && is_hex(trace_id, 32)
        && trace_id.bytes().any(|b| b != b'0')
        && is_hex(parent_id, 16)
        && parent_id.bytes().any(|b| b != b'0')
        && is_hex(flags, 2);
    valid.then_some(trace_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_adopted_only_when_valid() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(
            parse_traceparent(&format!("00-{id}-00f067aa0ba902b7-01")),
            Some(id)
        );
        for bad in [
            format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
            format!("00-{id}-0000000000000000-01"),
            format!("00-{}-00f067aa0ba902b7-01", id.to_uppercase()),
            format!("ff-{id}-00f067aa0ba902b7-01"),
            format!("00-{id}-00f067aa0ba902b7-01-extra"),
            format!("00-{id}-00f067aa0ba902b7"),
            "garbage".to_string(),
        ] {
            assert_eq!(parse_traceparent(&bad), None, "{bad}");
        }
    }

    #[test]
    fn random_trace_ids_are_32_lower_hex() {
        let TraceId(id) = TraceId::random();
        assert_eq!(id.len(), 32);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
