//! Gifts' pictures: stored by the app (uploaded, or copied from a shop's
//! page by link import), shown to whoever may read a list that shows them.
//!
//! A picture belongs to whoever stored it until an item shows it; only
//! they may put it on an item (so a guessed id cannot move someone else's
//! picture onto a list), and only they may see it before. Once on an item
//! it is read by the same rule as the item: the list's family, or a share
//! link of that list. Pictures say nothing about claims, so the recipient
//! sees them like the rest of the item.

use super::{new_id, now_unix, Actor, Service, Write};
use crate::{
    import::{PictureProblem, Prepared},
    model::{error::AppError, input::ItemPatch, Item, ItemId, ListId, PictureId, UserId},
    store::pictures::{self, Size},
};

/// How long a picture no item shows is kept: time to finish the form it
/// was read or uploaded for.
const UNUSED_KEPT_SECS: i64 = 24 * 3600;

impl Service {
    /// Stores an uploaded picture (JPEG, PNG or WebP, at most 5 MB) for the
    /// caller; its id goes on an item (`picture`) to show it.
    pub async fn upload_picture(
        &self,
        actor: &Actor,
        bytes: Vec<u8>,
    ) -> Result<PictureId, AppError> {
        actor.member_only()?;
        self.importer.count_upload(&actor.user_id)?;
        let prepared = self
            .importer
            .prepare_picture(bytes)
            .await
            .map_err(refusal)?;
        self.keep_picture(&actor.user_id, &prepared).await
    }

    /// Stores a prepared picture for `owner`.
    pub(super) async fn keep_picture(
        &self,
        owner: &UserId,
        prepared: &Prepared,
    ) -> Result<PictureId, AppError> {
        let id = PictureId(new_id(PictureId::PREFIX));
        let mut tx = self.begin_write().await?;
        pictures::insert(
            &mut *tx,
            &id,
            owner,
            &prepared.thumb,
            &prepared.medium,
            now_unix(),
        )
        .await?;
        self.commit(tx).await?;
        Ok(id)
    }

    /// Puts an uploaded picture on an item, or (`None`) takes its picture
    /// off: an edit of the item like any other (its version moves on,
    /// everyone watching the list sees it), by whoever may edit it.
    pub async fn set_item_picture(
        &self,
        actor: &Actor,
        id: &ItemId,
        bytes: Option<Vec<u8>>,
    ) -> Result<Item, AppError> {
        actor.member_only()?;
        // Refused before the picture is decoded, if it would be.
        let (current, _) = self.visible_item(actor, id).await?;
        let picture = match bytes {
            Some(bytes) => Some(self.upload_picture(actor, bytes).await?),
            None => None,
        };
        let patch = ItemPatch {
            version: current.version,
            picture: Some(picture),
            ..ItemPatch::default()
        };
        self.update_item(actor, id, patch).await
    }

    /// One size of a picture, for a logged-in person: its owner, or anyone
    /// who may read a list showing it. 404 otherwise, the same as for a
    /// picture that does not exist.
    pub async fn picture(
        &self,
        user: &UserId,
        id: &PictureId,
        size: Size,
    ) -> Result<Vec<u8>, AppError> {
        let pool = self.store.pool();
        let owned = pictures::owner(pool, id).await?.as_ref() == Some(user);
        let mut readable = owned;
        if !readable {
            for list in pictures::lists_showing(pool, id).await? {
                if self.visible_list(user, &list).await.is_ok() {
                    readable = true;
                    break;
                }
            }
        }
        if !readable {
            return Err(AppError::not_found("picture"));
        }
        self.picture_bytes(id, size).await
    }

    /// One size of a picture on `list`, for a share link's page: the
    /// caller has opened a link of that list (`auth::extract::share_access`).
    pub async fn picture_on_list(
        &self,
        list: &ListId,
        id: &PictureId,
        size: Size,
    ) -> Result<Vec<u8>, AppError> {
        let lists = pictures::lists_showing(self.store.pool(), id).await?;
        if !lists.contains(list) {
            return Err(AppError::not_found("picture"));
        }
        self.picture_bytes(id, size).await
    }

    async fn picture_bytes(&self, id: &PictureId, size: Size) -> Result<Vec<u8>, AppError> {
        pictures::bytes(self.store.pool(), id, size)
            .await?
            .ok_or_else(|| AppError::not_found("picture"))
    }

    /// Removes pictures no item has shown for a day (housekeeping).
    pub(super) async fn forget_unused_pictures(&self) -> Result<u64, AppError> {
        let before = now_unix() - UNUSED_KEPT_SECS;
        Ok(pictures::delete_unused_before(self.store.pool(), before).await?)
    }
}

/// Refuses, inside the change's transaction, a picture that is not the
/// caller's to put on an item.
pub(super) async fn check_owned(
    tx: &mut Write,
    actor: &Actor,
    id: &PictureId,
) -> Result<(), AppError> {
    match pictures::owner(&mut **tx, id).await? {
        Some(owner) if owner == actor.user_id => Ok(()),
        _ => Err(AppError::bad_request(
            "picture must be one you uploaded or read from a link",
        )),
    }
}

/// What a person is told when their file is not a picture we take.
pub fn refusal(problem: PictureProblem) -> AppError {
    match problem {
        PictureProblem::NotAPicture => AppError::bad_request(problem.to_string()),
        PictureProblem::TooLarge => AppError::new(
            crate::model::error::ErrorCode::TooLarge,
            problem.to_string(),
        ),
    }
}
