//! Claimers' notices that no live page of theirs has been given yet, kept
//! for their digest mail (see `service::notices`).

use sqlx::{Any, Executor};
use tracing::instrument;

use crate::model::{FamilyId, ListId, UserId};

/// A notice as kept: what the mail says of it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct UnseenNotice {
    pub seq: i64,
    pub list_id: String,
    pub list_title: String,
    pub item_id: String,
    pub item_title: String,
    /// 1: the item was removed; 0: changed.
    pub removed: i64,
}

/// A notice to keep, recorded in the change's transaction.
#[derive(Debug)]
pub struct NewNotice<'a> {
    pub user: &'a UserId,
    pub seq: i64,
    pub family: &'a FamilyId,
    pub list: &'a ListId,
    pub list_title: &'a str,
    pub item_id: &'a str,
    pub item_title: &'a str,
    pub removed: bool,
    /// Unix seconds.
    pub created_at: i64,
}

/// Keeps a notice until it is given to a live connection or mailed.
#[instrument(skip_all, fields(user_id = %notice.user, seq = notice.seq))]
pub async fn keep<'e, E: Executor<'e, Database = Any>>(
    db: E,
    notice: NewNotice<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into unseen_notices \
         (user_id, seq, family_id, list_id, list_title, item_id, item_title, removed, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(notice.user.as_str())
    .bind(notice.seq)
    .bind(notice.family.as_str())
    .bind(notice.list.as_str())
    .bind(notice.list_title)
    .bind(notice.item_id)
    .bind(notice.item_title)
    .bind(i64::from(notice.removed))
    .bind(notice.created_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets `user`'s notices after `after` up to `upto` (a live connection
/// of theirs was given them); returns how many there were.
pub async fn seen<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
    after: i64,
    upto: i64,
) -> sqlx::Result<u64> {
    let done =
        sqlx::query("delete from unseen_notices where user_id = $1 and seq > $2 and seq <= $3")
            .bind(user.as_str())
            .bind(after)
            .bind(upto)
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}

/// The people with a notice kept since `before` (unix seconds) or earlier
/// whose last digest went out at `mailed_before` or earlier, or never.
pub async fn due_holders<'e, E: Executor<'e, Database = Any>>(
    db: E,
    before: i64,
    mailed_before: i64,
) -> sqlx::Result<Vec<UserId>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "select distinct n.user_id from unseen_notices n join users u on u.id = n.user_id \
         where n.created_at <= $1 \
         and (u.notices_mailed_at is null or u.notices_mailed_at <= $2) order by n.user_id",
    )
    .bind(before)
    .bind(mailed_before)
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// `user`'s notices kept since `before` or earlier, in `seq` order, about
/// families they are still in (a notice from a family they left is for
/// nobody).
pub async fn due<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
    before: i64,
) -> sqlx::Result<Vec<UnseenNotice>> {
    sqlx::query_as(
        "select n.seq, n.list_id, n.list_title, n.item_id, n.item_title, n.removed \
         from unseen_notices n join memberships m \
         on m.family_id = n.family_id and m.user_id = n.user_id \
         where n.user_id = $1 and n.created_at <= $2 order by n.seq",
    )
    .bind(user.as_str())
    .bind(before)
    .fetch_all(db)
    .await
}

/// Forgets `user`'s notices kept since `before` or earlier (mailed, or
/// for nobody); returns how many there were.
pub async fn forget<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
    before: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query("delete from unseen_notices where user_id = $1 and created_at <= $2")
        .bind(user.as_str())
        .bind(before)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// How many of `user`'s notices are kept.
pub async fn count<'e, E: Executor<'e, Database = Any>>(db: E, user: &UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from unseen_notices where user_id = $1")
        .bind(user.as_str())
        .fetch_one(db)
        .await
}

/// Takes the right to mail `user` their digest at `now`: their last one
/// went out at `mailed_before` or earlier, or never. A conditional update,
/// so with several instances only one mails it.
pub async fn take_digest<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
    now: i64,
    mailed_before: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update users set notices_mailed_at = $1 where id = $2 \
         and (notices_mailed_at is null or notices_mailed_at <= $3)",
    )
    .bind(now)
    .bind(user.as_str())
    .bind(mailed_before)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
