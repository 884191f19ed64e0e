//! Users and browser sessions.

use sqlx::{Any, Executor};
use tracing::instrument;

use crate::model::{User, UserId};

/// A user with the password hash, for logging in. Never sent anywhere.
#[derive(Debug, sqlx::FromRow)]
pub struct UserWithHash {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
}

impl UserWithHash {
    pub fn user(&self) -> User {
        User {
            id: UserId(self.id.clone()),
            email: self.email.clone(),
            name: self.name.clone(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: String,
    name: String,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: UserId(row.id),
            email: row.email,
            name: row.name,
        }
    }
}

/// Inserts a user; `Ok(false)` when the email key is taken.
#[instrument(skip_all)]
pub async fn insert_user<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &User,
    email_key: &str,
    password_hash: &str,
    now: &str,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into users (id, email, email_key, name, password_hash, created_at) \
         values ($1, $2, $3, $4, $5, $6) on conflict (email_key) do nothing",
    )
    .bind(user.id.as_str())
    .bind(&user.email)
    .bind(email_key)
    .bind(&user.name)
    .bind(password_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

#[instrument(skip_all)]
pub async fn user_by_email_key<'e, E: Executor<'e, Database = Any>>(
    db: E,
    email_key: &str,
) -> sqlx::Result<Option<UserWithHash>> {
    sqlx::query_as("select id, email, name, password_hash from users where email_key = $1")
        .bind(email_key)
        .fetch_optional(db)
        .await
}

#[instrument(skip_all, fields(user_id = %id))]
pub async fn user_by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &UserId,
) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as("select id, email, name from users where id = $1")
        .bind(id.as_str())
        .fetch_optional(db)
        .await?;
    Ok(row.map(User::from))
}

/// A stored session: its data as JSON text and when it expires (unix seconds).
#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub data: String,
    pub expires_at: i64,
}

/// Inserts a session; `Ok(false)` if the id is taken.
pub async fn insert_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id_hash: &str,
    data: &str,
    expires_at: i64,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into sessions (id_hash, data, expires_at) values ($1, $2, $3) \
         on conflict (id_hash) do nothing",
    )
    .bind(id_hash)
    .bind(data)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn upsert_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id_hash: &str,
    data: &str,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into sessions (id_hash, data, expires_at) values ($1, $2, $3) \
         on conflict (id_hash) do update set data = excluded.data, expires_at = excluded.expires_at",
    )
    .bind(id_hash)
    .bind(data)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The session if it exists and has not expired at `now` (unix seconds).
pub async fn live_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id_hash: &str,
    now: i64,
) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as("select data, expires_at from sessions where id_hash = $1 and expires_at > $2")
        .bind(id_hash)
        .bind(now)
        .fetch_optional(db)
        .await
}

pub async fn delete_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query("delete from sessions where id_hash = $1")
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Removes sessions that expired before `now`; returns how many.
pub async fn delete_expired_sessions<'e, E: Executor<'e, Database = Any>>(
    db: E,
    now: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query("delete from sessions where expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?;
    Ok(deleted.rows_affected())
}
