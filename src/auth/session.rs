//! Browser sessions (tower-sessions) kept in the database, so they survive
//! a restart and every instance sees them. Ids are stored as SHA-256
//! hashes: a copy of the table logs nobody in.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
    Session,
};

use crate::{
    model::{error::AppError, UserId},
    store::{accounts, Store},
};

/// The session key under which the logged-in user's id is kept.
const USER_KEY: &str = "user_id";

/// Name of the session cookie over plain http.
pub const COOKIE_NAME: &str = "giftlist_session";

/// Name of the session cookie over https: the `__Host-` prefix makes the
/// browser refuse it unless it is Secure, for this host only, on path `/`,
/// so a sibling subdomain cannot plant or overwrite it.
pub const SECURE_COOKIE_NAME: &str = "__Host-giftlist_session";

/// The session cookie's name for a site served over https (`secure`) or not.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// The session store over the app's database.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    store: Store,
}

impl DbSessionStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn id_hash(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(err: sqlx::Error) -> session_store::Error {
    tracing::error!(cause = %err, "session store failed");
    session_store::Error::Backend("session store unavailable".into())
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|err| session_store::Error::Encode(err.to_string()))
}

/// Whose session it is, kept beside it so all of a user's sessions can be
/// ended at once (a password reset or change, "log out everywhere").
fn owner(record: &Record) -> Option<&str> {
    record.data.get(USER_KEY).and_then(|user| user.as_str())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        // A fresh id on the (astronomically unlikely) collision, never an overwrite.
        while !accounts::insert_session(
            self.store.writes(),
            &id_hash(&record.id),
            &data,
            record.expiry_date.unix_timestamp(),
            owner(record),
        )
        .await
        .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        accounts::upsert_session(
            self.store.writes(),
            &id_hash(&record.id),
            &encode(record)?,
            record.expiry_date.unix_timestamp(),
            owner(record),
        )
        .await
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let Some(row) = accounts::live_session(self.store.pool(), &id_hash(id), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|err| session_store::Error::Decode(err.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(row.expires_at)
            .map_err(|err| session_store::Error::Decode(err.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        accounts::delete_session(self.store.writes(), &id_hash(id))
            .await
            .map_err(backend)
    }
}

/// The user logged in with this session, if any.
///
/// A session store that cannot be read (the database is away) is 503
/// `unavailable`, never "not logged in": a page must not send a logged-in
/// person to the login form because the database restarts.
pub async fn session_user(session: &Session) -> Result<Option<UserId>, AppError> {
    match session.get::<UserId>(USER_KEY).await {
        Ok(user) => Ok(user),
        Err(tower_sessions::session::Error::Store(session_store::Error::Backend(_))) => {
            Err(AppError::unavailable(
                "the database cannot be reached just now; try again in a moment",
                5,
            ))
        }
        Err(err) => {
            tracing::warn!(cause = %err, "unreadable session");
            Ok(None)
        }
    }
}

/// Logs `user` in: a new session id (against session fixation), then the user.
pub async fn log_in(
    session: &Session,
    user: &UserId,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(USER_KEY, user).await
}

/// The key the live channel knows this session by (its hashed id), so a
/// logout can close the sockets and SSE streams it opened.
pub fn session_key(session: &Session) -> Option<String> {
    session.id().map(|id| id_hash(&id))
}

/// Logs out: the session is deleted on the server, its cookie cleared, and
/// the live connections it opened are closed (1008), on every instance.
pub async fn log_out(
    session: &Session,
    bus: &crate::live::bus::Bus,
) -> Result<(), tower_sessions::session::Error> {
    // Loads the session, so its id is known (a store that cannot be read
    // fails the flush below).
    let _ = session_user(session).await;
    let key = session_key(session);
    session.flush().await?;
    if let Some(key) = key {
        bus.end_session(&key).await;
    }
    Ok(())
}
