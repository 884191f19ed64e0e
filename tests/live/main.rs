//! The live channel of PROTOCOL.md sections 2 to 8: `/ws` and `/events`
//! through the full router, with real WebSocket and HTTP clients, on
//! SQLite and PostgreSQL. Every frame received is checked by the
//! protocol's validator (see `common::ws`). One file per area.
#![cfg(feature = "ssr")]

#[path = "../common/mod.rs"]
mod common;

mod audiences;
mod connect;
mod guests;
mod instances;
mod limits;
mod metrics;
mod replay;
mod sessions;
mod sse;

use common::{
    ws::{self, Ws},
    TestServer,
};
use serde_json::Value;

/// One of the server's `/metrics` counters, read in the process.
pub(crate) fn counter(
    server: &TestServer,
    pick: impl Fn(&giftlist::metrics::Metrics) -> &std::sync::atomic::AtomicU64,
) -> u64 {
    pick(server.state.service.bus.hub().metrics()).load(std::sync::atomic::Ordering::Relaxed)
}

/// A socket by token, subscribed to `topics`, after `subscribed`.
pub(crate) async fn subscribed(
    server: &TestServer,
    user: &str,
    topics: &[&str],
    since: Value,
) -> Ws {
    let mut ws = ws::open_as(server, user).await;
    ws.subscribe(topics, since, "s1").await;
    ws
}
