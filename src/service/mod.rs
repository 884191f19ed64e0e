//! The operations of Giftlist: every rule about who may do what, and every
//! transaction, lives here. The JSON API and the pages' server functions
//! are thin edges that parse, call one of these, and map the answer.
//!
//! Each change runs in one write transaction that also records its events
//! in the outbox (see `events`), so a committed change is always announced
//! and a failed one leaves nothing behind, neither rows nor events.

pub mod accounts;
pub mod changes;
mod events;
pub mod families;
pub mod items;
pub mod lists;
pub mod surprise;

use chrono::{SecondsFormat, Utc};
use rand::RngCore;

use crate::{
    auth::{jwt::Tokens, password::Passwords},
    model::{error::AppError, UserId},
    store::Store,
};

/// Everything the operations need; cheap to clone.
#[derive(Clone, Debug)]
pub struct Service {
    pub store: Store,
    pub passwords: Passwords,
    pub tokens: std::sync::Arc<Tokens>,
}

/// Who is acting, and the trace id of the request, stored on its events.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: UserId,
    pub trace_id: String,
}

/// Database failures are ours, never the caller's: logged here, once, with
/// their cause, and answered with a plain "internal" error.
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(cause = %err, "database error");
        AppError::internal()
    }
}

/// Now, as stored and shown: ISO 8601 in UTC with milliseconds.
pub(crate) fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Now, in unix seconds, for expiry comparisons.
pub(crate) fn now_unix() -> i64 {
    Utc::now().timestamp()
}

/// A new opaque id: the kind's prefix and 96 random bits.
pub(crate) fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}
