//! The operations of Giftlist: every rule about who may do what, and every
//! transaction, lives here. The JSON API and the pages' server functions
//! are thin edges that parse, call one of these, and map the answer.
//!
//! Each change runs in one write transaction that also records its events
//! in the outbox (see `events`), so a committed change is always announced
//! and a failed one leaves nothing behind, neither rows nor events.

pub mod accounts;
pub mod changes;
pub mod emails;
mod events;
pub mod families;
mod housekeeping;
pub mod imports;
pub mod items;
pub mod lists;
pub mod notices;
pub mod pictures;
pub mod pledges;
pub mod reminders;
pub mod shares;
pub mod surprise;

use chrono::{SecondsFormat, Utc};
use rand::RngCore;

use crate::{
    auth::{jwt::Tokens, limits::AuthLimits, links::LinkKeys, password::Passwords},
    live::bus::Bus,
    model::{error::AppError, ListId, UserId},
    store::{outbox::StoredEvent, Store, WriteTx},
};

/// Everything the operations need; cheap to clone.
#[derive(Clone, Debug)]
pub struct Service {
    pub store: Store,
    pub passwords: Passwords,
    pub tokens: std::sync::Arc<Tokens>,
    /// Log-in and register attempts per client address and per account.
    pub limits: std::sync::Arc<AuthLimits>,
    /// Share and guest link tokens, and the site's public origin.
    pub links: std::sync::Arc<LinkKeys>,
    /// Sends mail in the background (or logs it, unconfigured).
    pub mailer: std::sync::Arc<crate::mail::Mailer>,
    /// Announces committed events to every instance's hub.
    pub bus: std::sync::Arc<Bus>,
    /// Whether an account must confirm its address before it joins a
    /// family (`GIFTLIST_REQUIRE_VERIFIED_EMAIL`).
    pub require_verified_email: bool,
    /// When claimers' missed notices go out by mail.
    pub notice_mails: notices::NoticeMails,
    /// Reads shop pages for link import.
    pub importer: std::sync::Arc<crate::import::Importer>,
}

/// A write transaction that keeps the events it records, so they can be
/// announced once it commits (see [`Service::commit`]).
pub(crate) struct Write {
    tx: WriteTx,
    events: Vec<StoredEvent>,
    /// The kinds of share link a list has, once read in this transaction
    /// (which guest streams its events are recorded for).
    link_kinds: Option<(ListId, Vec<crate::model::share::ShareKind>)>,
}

impl std::ops::Deref for Write {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for Write {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Service {
    /// Starts a change.
    pub(crate) async fn begin_write(&self) -> Result<Write, AppError> {
        Ok(Write {
            tx: self.store.begin_write().await?,
            events: Vec::new(),
            link_kinds: None,
        })
    }

    /// Commits a change and announces its events.
    pub(crate) async fn commit(&self, write: Write) -> Result<(), AppError> {
        self.bus.commit(write.tx, write.events).await?;
        Ok(())
    }
}

/// Who is acting, and the trace id of the request, stored on its events.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: UserId,
    pub trace_id: String,
    /// Set for a guest (someone without an account, through a share
    /// link): the one list they may act on. Only `service::shares` makes
    /// such an actor, and only for claiming and pledging.
    pub guest_of: Option<ListId>,
}

impl Actor {
    /// A member (or any account holder) acting, as the edges make them.
    pub fn user(user_id: UserId, trace_id: String) -> Actor {
        Actor {
            user_id,
            trace_id,
            guest_of: None,
        }
    }

    /// Refuses a guest what only members may do.
    pub(crate) fn member_only(&self) -> Result<(), AppError> {
        match self.guest_of {
            None => Ok(()),
            Some(_) => Err(AppError::forbidden("guests may only claim and chip in")),
        }
    }
}

/// Database failures are ours, never the caller's: logged here, once, with
/// their cause. A database that cannot be reached (down, restarting, no
/// connection to be had in time) is 503 `unavailable` with `Retry-After`:
/// the request may simply be tried again. Anything else is a plain
/// "internal" error.
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if is_unreachable(&err) {
            tracing::warn!(cause = %err, "the database cannot be reached");
            return AppError::unavailable(
                "the database cannot be reached just now; try again in a moment",
                5,
            );
        }
        tracing::error!(cause = %err, "database error");
        AppError::internal()
    }
}

/// Whether `err` says the database is away rather than that a query went
/// wrong: no connection (refused, reset, timed out), or PostgreSQL shutting
/// down or starting up (SQLSTATE classes 08 and 57P).
pub(crate) fn is_unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Now, as stored and shown: ISO 8601 in UTC with milliseconds.
pub(crate) fn now_iso() -> String {
    iso(Utc::now())
}

/// A time as stored: ISO 8601 in UTC with milliseconds, which sorts as text.
pub(crate) fn iso(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
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
