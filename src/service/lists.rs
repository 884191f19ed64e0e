//! Gift lists.

use super::{events, new_id, now_iso, surprise, Actor, Service};
use crate::{
    live::protocol::list_topic,
    model::{
        error::AppError,
        input::{NewList, RenameList},
        validate, FamilyId, GiftList, ItemId, ListDetail, ListId, Role, UserId,
    },
    store::{
        families,
        lists::{self, ListRecord},
        outbox,
    },
};

impl Service {
    /// The list, if `user` belongs to its family (else 404), with their role.
    pub(crate) async fn visible_list(
        &self,
        user: &UserId,
        id: &ListId,
    ) -> Result<(ListRecord, Role), AppError> {
        let record = lists::list(self.store.pool(), id)
            .await?
            .ok_or_else(|| AppError::not_found("list"))?;
        let role = families::role_of(self.store.pool(), &record.list.family_id, user)
            .await?
            .ok_or_else(|| AppError::not_found("list"))?;
        Ok((record, role))
    }

    /// A new list in `family`, for a member or for someone without an account.
    pub async fn create_list(
        &self,
        actor: &Actor,
        family: &FamilyId,
        input: NewList,
    ) -> Result<GiftList, AppError> {
        self.role_in(family, &actor.user_id).await?;
        validate::title(&input.title)?;
        match (&input.recipient_user_id, &input.recipient_name) {
            (Some(recipient), None) => {
                if families::role_of(self.store.pool(), family, recipient)
                    .await?
                    .is_none()
                {
                    return Err(AppError::bad_request(
                        "recipient_user_id must be a member of the family",
                    ));
                }
            }
            (None, Some(name)) => validate::person_name(name)?,
            _ => {
                return Err(AppError::bad_request(
                    "give exactly one of recipient_user_id and recipient_name",
                ))
            }
        }
        let list = GiftList {
            id: ListId(new_id(ListId::PREFIX)),
            family_id: family.clone(),
            title: input.title,
            recipient_user_id: input.recipient_user_id,
            recipient_name: input.recipient_name,
            version: 1,
        };
        let mut tx = self.begin_write().await?;
        lists::insert_list(&mut *tx, &list, &actor.user_id, &now_iso()).await?;
        events::list(&mut tx, actor, &list, events::ADDED, false, true).await?;
        self.commit(tx).await?;
        Ok(list)
    }

    /// The list with its items as `user` may see them, and the last `seq`
    /// of their stream.
    pub async fn list_detail(&self, user: &UserId, id: &ListId) -> Result<ListDetail, AppError> {
        let (record, _) = self.visible_list(user, id).await?;
        let list = record.list;
        let audience = surprise::audience(user, &list);
        // The seq first: an event recorded in between is then replayed
        // once more rather than missed.
        let seq = outbox::last_seq(self.store.pool(), &list_topic(id), audience).await?;
        let items = lists::items_of_list(&mut *self.store.pool().acquire().await?, id)
            .await?
            .into_iter()
            .map(|item| surprise::item_for_audience(audience, item))
            .collect();
        Ok(ListDetail { list, items, seq })
    }

    /// The ids of a list's items, oldest first, for whoever may see it.
    pub async fn item_ids_by_age(
        &self,
        user: &UserId,
        id: &ListId,
    ) -> Result<Vec<ItemId>, AppError> {
        self.visible_list(user, id).await?;
        Ok(lists::item_ids_by_age(self.store.pool(), id).await?)
    }

    /// Whether `user` may rename and remove the list (see `may_manage`).
    pub async fn may_manage_list(&self, user: &UserId, id: &ListId) -> Result<bool, AppError> {
        let (record, role) = self.visible_list(user, id).await?;
        Ok(role == Role::Admin || &record.created_by == user)
    }

    /// Renaming and removing a list is for whoever made it and the admins.
    fn may_manage(actor: &Actor, record: &ListRecord, role: Role) -> Result<(), AppError> {
        if role == Role::Admin || record.created_by == actor.user_id {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "only the person who made this list or a family admin may change it",
            ))
        }
    }

    pub async fn rename_list(
        &self,
        actor: &Actor,
        id: &ListId,
        input: RenameList,
    ) -> Result<GiftList, AppError> {
        let (record, role) = self.visible_list(&actor.user_id, id).await?;
        Self::may_manage(actor, &record, role)?;
        validate::title(&input.title)?;
        let mut tx = self.begin_write().await?;
        let version = lists::rename_list(&mut *tx, id, &input.title)
            .await?
            .ok_or_else(|| AppError::not_found("list"))?;
        let list = GiftList {
            title: input.title,
            version,
            ..record.list
        };
        events::list(&mut tx, actor, &list, events::UPDATED, true, true).await?;
        self.commit(tx).await?;
        Ok(list)
    }

    /// Removes the list and its items. Whoever held a claim on one of them
    /// is told (unless it was the one removing). Of several removals at
    /// once, one removes it; the others find it gone (404).
    pub async fn delete_list(&self, actor: &Actor, id: &ListId) -> Result<(), AppError> {
        let (record, role) = self.visible_list(&actor.user_id, id).await?;
        Self::may_manage(actor, &record, role)?;
        let mut tx = self.begin_write().await?;
        let gone = || AppError::not_found("list");
        if !lists::lock_list(&mut tx, id).await? {
            return Err(gone());
        }
        let current = lists::list(&mut *tx, id).await?.ok_or_else(gone)?;
        let items = lists::items_of_list(&mut tx, id).await?;
        // Read while its share links still exist: their guests hear of it.
        events::list_audiences(&mut tx, &current.list).await?;
        lists::delete_list(&mut tx, id).await?;
        let items: Vec<_> = items.iter().collect();
        events::claimer_notices(&mut tx, actor, &current.list, events::DELETED, &items).await?;
        events::list(&mut tx, actor, &current.list, events::DELETED, true, true).await?;
        self.commit(tx).await?;
        Ok(())
    }
}
