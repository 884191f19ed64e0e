//! Gifts' pictures (see `service::pictures`): two JPEG sizes per picture,
//! as blobs on both backends.

use sqlx::{Any, AnyConnection, Executor};
use tracing::instrument;

use crate::model::{ListId, PictureId, UserId};

/// Which of a picture's sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Thumb,
    Medium,
}

impl Size {
    /// The size a path segment names (`thumb`, `medium`).
    pub fn parse(name: &str) -> Option<Size> {
        match name {
            "thumb" => Some(Size::Thumb),
            "medium" => Some(Size::Medium),
            _ => None,
        }
    }

    /// Its name in addresses, as [`Size::parse`] reads it.
    pub fn name(self) -> &'static str {
        self.column()
    }

    fn column(self) -> &'static str {
        match self {
            Size::Thumb => "thumb",
            Size::Medium => "medium",
        }
    }
}

/// Stores a picture for `owner`.
#[instrument(skip_all, fields(picture_id = %id))]
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &PictureId,
    owner: &UserId,
    thumb: &[u8],
    medium: &[u8],
    now_secs: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into pictures (id, owner_id, thumb, medium, created_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(id.as_str())
    .bind(owner.as_str())
    .bind(thumb)
    .bind(medium)
    .bind(now_secs)
    .execute(db)
    .await?;
    Ok(())
}

/// Who stored the picture, if it exists.
pub async fn owner<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &PictureId,
) -> sqlx::Result<Option<UserId>> {
    let owner: Option<String> = sqlx::query_scalar("select owner_id from pictures where id = $1")
        .bind(id.as_str())
        .fetch_optional(db)
        .await?;
    Ok(owner.map(UserId))
}

/// One size of a picture, if it exists.
#[instrument(skip_all, fields(picture_id = %id))]
pub async fn bytes<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &PictureId,
    size: Size,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar(&format!(
        "select {} from pictures where id = $1",
        size.column()
    ))
    .bind(id.as_str())
    .fetch_optional(db)
    .await
}

/// The lists whose items show the picture (normally one).
pub async fn lists_showing<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &PictureId,
) -> sqlx::Result<Vec<ListId>> {
    let lists: Vec<String> =
        sqlx::query_scalar("select distinct list_id from items where picture_id = $1")
            .bind(id.as_str())
            .fetch_all(db)
            .await?;
    Ok(lists.into_iter().map(ListId).collect())
}

/// Removes the picture unless an item still shows it.
#[instrument(skip_all, fields(picture_id = %id))]
pub async fn delete_if_unused(conn: &mut AnyConnection, id: &PictureId) -> sqlx::Result<()> {
    sqlx::query(
        "delete from pictures where id = $1 \
         and not exists (select 1 from items where picture_id = $1)",
    )
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes pictures stored before `before` (unix seconds) that no item
/// shows: read from links or uploaded, and never saved on a gift.
pub async fn delete_unused_before<'e, E: Executor<'e, Database = Any>>(
    db: E,
    before: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "delete from pictures where created_at < $1 \
         and not exists (select 1 from items where items.picture_id = pictures.id)",
    )
    .bind(before)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
