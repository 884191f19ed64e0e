//! Share links and guests. Tokens are never stored, only their hashes
//! (see `auth::links`); guests are `users` rows without credentials, so
//! claims and pledges refer to them like to anyone else.

use sqlx::{Any, AnyConnection, Executor};
use tracing::instrument;

use crate::model::{share::ShareKind, ListId, UserId};

/// A share link as stored.
#[derive(Clone, Debug)]
pub struct ShareRow {
    pub id: String,
    pub list_id: ListId,
    pub kind: ShareKind,
    pub token_hash: String,
    pub created_by: UserId,
    pub created_at: String,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    list_id: String,
    kind: String,
    token_hash: String,
    created_by: String,
    created_at: String,
    expires_at: Option<i64>,
    revoked_at: Option<String>,
}

impl TryFrom<Row> for ShareRow {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, Self::Error> {
        let kind = ShareKind::parse(&row.kind).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown share kind {:?}", row.kind).into())
        })?;
        Ok(ShareRow {
            id: row.id,
            list_id: ListId(row.list_id),
            kind,
            token_hash: row.token_hash,
            created_by: UserId(row.created_by),
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked: row.revoked_at.is_some(),
        })
    }
}

const SHARE_COLUMNS: &str =
    "id, list_id, kind, token_hash, created_by, created_at, expires_at, revoked_at";

#[instrument(skip_all, fields(share_id = %share.id))]
pub async fn insert_share<'e, E: Executor<'e, Database = Any>>(
    db: E,
    share: &ShareRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into share_links (id, list_id, kind, token_hash, created_by, created_at, expires_at, revoked_at) \
         values ($1, $2, $3, $4, $5, $6, $7, null)",
    )
    .bind(&share.id)
    .bind(share.list_id.as_str())
    .bind(share.kind.as_str())
    .bind(&share.token_hash)
    .bind(share.created_by.as_str())
    .bind(&share.created_at)
    .bind(share.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The link whose token hashes to `hash`, revoked or not.
#[instrument(skip_all)]
pub async fn share_by_hash<'e, E: Executor<'e, Database = Any>>(
    db: E,
    hash: &str,
) -> sqlx::Result<Option<ShareRow>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "select {SHARE_COLUMNS} from share_links where token_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(db)
    .await?;
    row.map(ShareRow::try_from).transpose()
}

#[instrument(skip_all, fields(share_id = %id))]
pub async fn share_by_id<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
) -> sqlx::Result<Option<ShareRow>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "select {SHARE_COLUMNS} from share_links where id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(ShareRow::try_from).transpose()
}

/// A list's links that are not revoked, oldest first.
#[instrument(skip_all, fields(list_id = %list))]
pub async fn shares_of_list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    list: &ListId,
) -> sqlx::Result<Vec<ShareRow>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "select {SHARE_COLUMNS} from share_links where list_id = $1 and revoked_at is null \
         order by created_at, id"
    ))
    .bind(list.as_str())
    .fetch_all(db)
    .await?;
    rows.into_iter().map(ShareRow::try_from).collect()
}

/// Marks a link revoked; `false` when it was already (or does not exist).
#[instrument(skip_all, fields(share_id = %id))]
pub async fn revoke_share<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &str,
    now: &str,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("update share_links set revoked_at = $1 where id = $2 and revoked_at is null")
            .bind(now)
            .bind(id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Which kinds of link a list has that are not revoked: the guest streams
/// its changes are recorded for.
#[instrument(skip_all, fields(list_id = %list))]
pub async fn live_kinds(conn: &mut AnyConnection, list: &ListId) -> sqlx::Result<Vec<ShareKind>> {
    let kinds: Vec<(String,)> = sqlx::query_as(
        "select distinct kind from share_links where list_id = $1 and revoked_at is null",
    )
    .bind(list.as_str())
    .fetch_all(conn)
    .await?;
    Ok(kinds
        .into_iter()
        .filter_map(|(kind,)| ShareKind::parse(&kind))
        .collect())
}

/// A guest as stored: the account row's id and name, and the link.
#[derive(Clone, Debug)]
pub struct GuestRow {
    pub user_id: UserId,
    pub share_id: String,
    pub name: String,
    pub email: Option<String>,
    pub token_hash: String,
}

/// Makes a guest: an account row nobody can log in to (no address, no
/// password) and its guest row. Inside the transaction of the guest's
/// first claim or pledge, so a refused one leaves no guest behind.
#[instrument(skip_all, fields(share_id = %guest.share_id))]
pub async fn insert_guest(
    conn: &mut AnyConnection,
    guest: &GuestRow,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into users (id, email, email_key, name, password_hash, created_at) \
         values ($1, '', $2, $3, '', $4)",
    )
    .bind(guest.user_id.as_str())
    .bind(format!("guest:{}", guest.user_id))
    .bind(&guest.name)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into guests (user_id, share_id, email, token_hash, created_at) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(guest.user_id.as_str())
    .bind(&guest.share_id)
    .bind(guest.email.as_deref())
    .bind(&guest.token_hash)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The guest whose token hashes to `hash`.
#[instrument(skip_all)]
pub async fn guest_by_hash<'e, E: Executor<'e, Database = Any>>(
    db: E,
    hash: &str,
) -> sqlx::Result<Option<GuestRow>> {
    let row: Option<(String, String, String, Option<String>, String)> = sqlx::query_as(
        "select g.user_id, g.share_id, u.name, g.email, g.token_hash from guests g \
         join users u on u.id = g.user_id where g.token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(db)
    .await?;
    Ok(
        row.map(|(user_id, share_id, name, email, token_hash)| GuestRow {
            user_id: UserId(user_id),
            share_id,
            name,
            email,
            token_hash,
        }),
    )
}

/// Takes the link's row lock for the rest of the transaction, if it is not
/// revoked: a revocation then waits for, or is seen by, the change that
/// took it. `false` when the link is revoked (or gone).
#[instrument(skip_all, fields(share_id = %id))]
pub async fn lock_open_share(conn: &mut AnyConnection, id: &str) -> sqlx::Result<bool> {
    let locked =
        sqlx::query("update share_links set kind = kind where id = $1 and revoked_at is null")
            .bind(id)
            .execute(conn)
            .await?;
    Ok(locked.rows_affected() == 1)
}
