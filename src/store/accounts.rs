//! Users and browser sessions.

use sqlx::{Any, Executor};
use tracing::instrument;

use crate::model::{MailChoices, User, UserId};

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
    // A deleted account's row stays (what others made with it refers to
    // it) but is nobody any more.
    let row: Option<UserRow> = sqlx::query_as(
        "select id, email, name from users where id = $1 and email_key not like 'deleted:%'",
    )
    .bind(id.as_str())
    .fetch_optional(db)
    .await?;
    Ok(row.map(User::from))
}

/// Empties a deleted account's row: no address, no name, no password, and
/// an email key that no login can produce. The row itself stays, because
/// lists, items and families made with the account refer to it.
#[instrument(skip_all, fields(user_id = %id))]
pub async fn scrub_user<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &UserId,
    shown_name: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update users set email = '', email_key = 'deleted:' || id, name = $2, \
         password_hash = '' where id = $1",
    )
    .bind(id.as_str())
    .bind(shown_name)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets `user`'s reset and confirmation links.
pub async fn delete_links_of(conn: &mut sqlx::AnyConnection, user: &UserId) -> sqlx::Result<()> {
    for table in ["password_resets", "email_confirmations"] {
        sqlx::query(&format!("delete from {table} where user_id = $1"))
            .bind(user.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A confirmation link, stored by its token's hash, for `email` (keyed
/// `email_key`) to become `user`'s confirmed address.
#[allow(clippy::too_many_arguments)]
#[instrument(skip_all, fields(user_id = %user))]
pub async fn insert_confirmation<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_hash: &str,
    user: &UserId,
    email: &str,
    email_key: &str,
    expires_at: i64,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into email_confirmations \
         (token_hash, user_id, email, email_key, expires_at, created_at) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(user.as_str())
    .bind(email)
    .bind(email_key)
    .bind(expires_at)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// What a confirmation link confirms: whose, which address and its key.
#[derive(Debug, sqlx::FromRow)]
pub struct Confirmation {
    pub user_id: String,
    pub email: String,
    pub email_key: String,
}

/// The open (unused, unexpired at `now`) confirmation hashed `token_hash`.
pub async fn open_confirmation<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<Confirmation>> {
    sqlx::query_as(
        "select user_id, email, email_key from email_confirmations \
         where token_hash = $1 and used_at is null and expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Uses up a confirmation link; `false` when it was not open any more.
pub async fn use_confirmation<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_hash: &str,
    now: i64,
    now_iso: &str,
) -> sqlx::Result<bool> {
    let used = sqlx::query(
        "update email_confirmations set used_at = $1 \
         where token_hash = $2 and used_at is null and expires_at > $3",
    )
    .bind(now_iso)
    .bind(token_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(used.rows_affected() == 1)
}

/// Whether an account other than `except` has the address keyed `email_key`.
pub async fn email_key_taken<'e, E: Executor<'e, Database = Any>>(
    db: E,
    email_key: &str,
    except: &UserId,
) -> sqlx::Result<bool> {
    let found: Option<String> =
        sqlx::query_scalar("select id from users where email_key = $1 and id <> $2")
            .bind(email_key)
            .bind(except.as_str())
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

/// Makes `email` `user`'s address, confirmed at `now`.
#[instrument(skip_all, fields(user_id = %user))]
pub async fn set_confirmed_email<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
    email: &str,
    email_key: &str,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update users set email = $1, email_key = $2, email_verified_at = $3 where id = $4",
    )
    .bind(email)
    .bind(email_key)
    .bind(now)
    .bind(user.as_str())
    .execute(db)
    .await?;
    Ok(())
}

/// Whether `user` has confirmed their address.
pub async fn email_confirmed<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
) -> sqlx::Result<bool> {
    let at: Option<Option<String>> =
        sqlx::query_scalar("select email_verified_at from users where id = $1")
            .bind(user.as_str())
            .fetch_optional(db)
            .await?;
    Ok(matches!(at, Some(Some(_))))
}

/// A stored session: its data as JSON text and when it expires (unix seconds).
#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub data: String,
    pub expires_at: i64,
}

/// Inserts a session (of `user`, once logged in); `Ok(false)` if the id
/// is taken.
pub async fn insert_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id_hash: &str,
    data: &str,
    expires_at: i64,
    user: Option<&str>,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into sessions (id_hash, data, expires_at, user_id) values ($1, $2, $3, $4) \
         on conflict (id_hash) do nothing",
    )
    .bind(id_hash)
    .bind(data)
    .bind(expires_at)
    .bind(user)
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn upsert_session<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id_hash: &str,
    data: &str,
    expires_at: i64,
    user: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into sessions (id_hash, data, expires_at, user_id) values ($1, $2, $3, $4) \
         on conflict (id_hash) do update set data = excluded.data, \
         expires_at = excluded.expires_at, user_id = excluded.user_id",
    )
    .bind(id_hash)
    .bind(data)
    .bind(expires_at)
    .bind(user)
    .execute(db)
    .await?;
    Ok(())
}

/// Ends every session of `user` but the one hashed `keep`; returns how
/// many went.
pub async fn delete_sessions_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
    keep: Option<&str>,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query("delete from sessions where user_id = $1 and id_hash <> $2")
        .bind(user.as_str())
        .bind(keep.unwrap_or(""))
        .execute(db)
        .await?;
    Ok(deleted.rows_affected())
}

/// Sets `user`'s password hash.
pub async fn set_password<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
    hash: &str,
) -> sqlx::Result<()> {
    sqlx::query("update users set password_hash = $1 where id = $2")
        .bind(hash)
        .bind(user.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// `user`'s password hash.
pub async fn password_hash<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select password_hash from users where id = $1")
        .bind(user.as_str())
        .fetch_optional(db)
        .await
}

/// Records a reset link (its token's hash) for `user`, valid until
/// `expires_at` (unix seconds).
pub async fn insert_reset<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_hash: &str,
    user: &UserId,
    expires_at: i64,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into password_resets (token_hash, user_id, expires_at, used_at, created_at) \
         values ($1, $2, $3, null, $4)",
    )
    .bind(token_hash)
    .bind(user.as_str())
    .bind(expires_at)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether the reset link hashed `token_hash` is unused and open at
/// `now_unix`.
pub async fn reset_is_open<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_hash: &str,
    now_unix: i64,
) -> sqlx::Result<bool> {
    let found: Option<String> = sqlx::query_scalar(
        "select user_id from password_resets \
         where token_hash = $1 and used_at is null and expires_at > $2",
    )
    .bind(token_hash)
    .bind(now_unix)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Uses the reset link hashed `token_hash` if it is unused and has not
/// expired at `now_unix`: whose it was. One use only, even when two arrive
/// at once (the update decides).
pub async fn use_reset<'e, E: Executor<'e, Database = Any>>(
    db: E,
    token_hash: &str,
    now_unix: i64,
    now: &str,
) -> sqlx::Result<Option<UserId>> {
    let user: Option<String> = sqlx::query_scalar(
        "update password_resets set used_at = $1 \
         where token_hash = $2 and used_at is null and expires_at > $3 returning user_id",
    )
    .bind(now)
    .bind(token_hash)
    .bind(now_unix)
    .fetch_optional(db)
    .await?;
    Ok(user.map(UserId))
}

/// Removes reset links that expired before `now_unix`.
pub async fn delete_expired_resets<'e, E: Executor<'e, Database = Any>>(
    db: E,
    now_unix: i64,
) -> sqlx::Result<u64> {
    let deleted = sqlx::query("delete from password_resets where expires_at <= $1")
        .bind(now_unix)
        .execute(db)
        .await?;
    Ok(deleted.rows_affected())
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

/// Sets `user`'s display name.
pub async fn rename_user<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
    name: &str,
) -> sqlx::Result<()> {
    sqlx::query("update users set name = $1 where id = $2")
        .bind(name)
        .bind(user.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// The choices as stored: a flag per kind of mail turned off.
fn choices_of((reminders_off, notices_off): (i64, i64)) -> MailChoices {
    MailChoices {
        reminders: reminders_off == 0,
        notices: notices_off == 0,
    }
}

/// Which mails `user` asked for; `None` when there is no such account.
pub async fn mail_choices<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
) -> sqlx::Result<Option<MailChoices>> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("select reminders_off, notice_mails_off from users where id = $1")
            .bind(user.as_str())
            .fetch_optional(db)
            .await?;
    Ok(row.map(choices_of))
}

/// Turns `user`'s mails of each kind on or off (`None`: as it was); returns
/// what they now get.
pub async fn set_mail_choices<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
    reminders: Option<bool>,
    notices: Option<bool>,
) -> sqlx::Result<Option<MailChoices>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "update users set reminders_off = coalesce($1, reminders_off), \
         notice_mails_off = coalesce($2, notice_mails_off) where id = $3 \
         returning reminders_off, notice_mails_off",
    )
    .bind(reminders.map(|on| i64::from(!on)))
    .bind(notices.map(|on| i64::from(!on)))
    .bind(user.as_str())
    .fetch_optional(db)
    .await?;
    Ok(row.map(choices_of))
}

/// The members of `family` who want reminder mails, with their address.
#[instrument(skip_all, fields(family_id = %family))]
pub async fn members_to_remind<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &crate::model::FamilyId,
) -> sqlx::Result<Vec<User>> {
    let rows: Vec<UserRow> = sqlx::query_as(
        "select u.id, u.email, u.name from memberships m join users u on u.id = m.user_id \
         where m.family_id = $1 and u.reminders_off = 0 and u.email <> '' order by u.id",
    )
    .bind(family.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(User::from).collect())
}
