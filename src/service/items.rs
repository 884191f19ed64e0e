//! Items and claims.

use super::{events, new_id, now_iso, surprise, Actor, Service};
use crate::{
    model::{
        error::AppError,
        input::{ClaimRequest, ItemPatch, NewItem},
        validate::ItemFields,
        GiftList, Item, ItemId, ListId,
    },
    store::lists,
};

impl Service {
    /// The item and its list, if `actor` belongs to the list's family (else 404).
    async fn visible_item(&self, actor: &Actor, id: &ItemId) -> Result<(Item, GiftList), AppError> {
        let item = lists::item(self.store.pool(), id)
            .await?
            .ok_or_else(|| AppError::not_found("item"))?;
        let (record, _) = self
            .visible_list(&actor.user_id, &item.list_id)
            .await
            .map_err(|_| AppError::not_found("item"))?;
        Ok((item, record.list))
    }

    pub async fn add_item(
        &self,
        actor: &Actor,
        list_id: &ListId,
        input: NewItem,
    ) -> Result<Item, AppError> {
        let (record, _) = self.visible_list(&actor.user_id, list_id).await?;
        let fields = ItemFields::from_new(input)?;
        let item = Item {
            id: ItemId(new_id(ItemId::PREFIX)),
            list_id: list_id.clone(),
            title: fields.title,
            url: fields.url,
            price_cents: fields.price_cents,
            currency: fields.currency,
            notes: fields.notes,
            priority: fields.priority,
            version: 1,
            created_by: actor.user_id.clone(),
            claim: None,
        };
        let mut tx = self.begin_write().await?;
        // The list may have been removed since it was looked up.
        if !lists::lock_list(&mut tx, list_id).await? {
            return Err(AppError::not_found("list"));
        }
        lists::insert_item(&mut *tx, &item, &now_iso()).await?;
        events::item(&mut tx, actor, &record.list, events::ADDED, &item).await?;
        self.commit(tx).await?;
        Ok(surprise::item_for(&actor.user_id, &record.list, item))
    }

    /// Applies `patch` if `patch.version` is still the item's version; a
    /// stale version gets 409 with the item as it is now, never a silent
    /// overwrite.
    pub async fn update_item(
        &self,
        actor: &Actor,
        id: &ItemId,
        patch: ItemPatch,
    ) -> Result<Item, AppError> {
        let (current, list) = self.visible_item(actor, id).await?;
        let stale = |item: Item| AppError::stale(surprise::item_for(&actor.user_id, &list, item));
        if patch.version != current.version {
            return Err(stale(current));
        }
        let expected = patch.version;
        let fields = ItemFields::from(&current).patched(patch)?;
        let mut tx = self.begin_write().await?;
        let Some(version) = lists::update_item(&mut *tx, id, &fields, expected, &now_iso()).await?
        else {
            drop(tx);
            let now = lists::item(self.store.pool(), id)
                .await?
                .ok_or_else(|| AppError::not_found("item"))?;
            return Err(stale(now));
        };
        // Re-read in the transaction: the claim may have changed meanwhile.
        let updated = lists::item(&mut *tx, id)
            .await?
            .ok_or_else(AppError::internal)?;
        debug_assert_eq!(updated.version, version);
        events::item(&mut tx, actor, &list, events::UPDATED, &updated).await?;
        events::claimer_notice(&mut tx, actor, &list, events::UPDATED, &updated).await?;
        self.commit(tx).await?;
        Ok(surprise::item_for(&actor.user_id, &list, updated))
    }

    /// Removes an item. Of several removals at once, one removes it and
    /// records its event; the others find it gone (404).
    pub async fn delete_item(&self, actor: &Actor, id: &ItemId) -> Result<(), AppError> {
        let (_, list) = self.visible_item(actor, id).await?;
        let mut tx = self.begin_write().await?;
        let item = lists::locked_item(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::not_found("item"))?;
        lists::delete_item(&mut tx, id).await?;
        events::item(&mut tx, actor, &list, events::DELETED, &item).await?;
        events::claimer_notice(&mut tx, actor, &list, events::DELETED, &item).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Claims an item, or changes the status of one's own claim. One holder
    /// per item, decided by the database. The recipient may not claim: they
    /// get the same 403 whether or not the item is claimed.
    pub async fn claim_item(
        &self,
        actor: &Actor,
        id: &ItemId,
        input: ClaimRequest,
    ) -> Result<Item, AppError> {
        let (_, list) = self.visible_item(actor, id).await?;
        if surprise::is_recipient(&actor.user_id, &list) {
            return Err(AppError::forbidden(
                "you cannot claim items on your own list",
            ));
        }
        let mut tx = self.begin_write().await?;
        // Locked, so what is read is what this change acts on: two requests
        // at once are decided one after the other.
        let current = lists::locked_item(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::not_found("item"))?;
        let taken = || AppError::conflict("someone else has already claimed this item");
        let changed = match &current.claim {
            Some(claim) if claim.by == actor.user_id => {
                claim.status != input.status
                    && lists::update_claim(&mut *tx, id, &actor.user_id, input.status).await?
            }
            Some(_) => return Err(taken()),
            // The primary key decides too, should anything get past the lock.
            None => {
                if !lists::insert_claim(&mut *tx, id, &actor.user_id, input.status, &now_iso())
                    .await?
                {
                    return Err(taken());
                }
                true
            }
        };
        let item = lists::item(&mut *tx, id)
            .await?
            .ok_or_else(|| AppError::not_found("item"))?;
        if changed {
            events::item(&mut tx, actor, &list, events::STATUS_CHANGED, &item).await?;
        }
        self.commit(tx).await?;
        Ok(item)
    }

    /// Releases one's own claim: 403 for anyone else (and always for the
    /// recipient, who must not learn whether there is a claim), 409 when
    /// nobody holds it.
    pub async fn release_item(&self, actor: &Actor, id: &ItemId) -> Result<Item, AppError> {
        let (_, list) = self.visible_item(actor, id).await?;
        if surprise::is_recipient(&actor.user_id, &list) {
            return Err(AppError::forbidden(
                "you cannot claim or release items on your own list",
            ));
        }
        let mut tx = self.begin_write().await?;
        let item = lists::locked_item(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::not_found("item"))?;
        let unclaimed = || AppError::conflict("nobody has claimed this item");
        match &item.claim {
            None => return Err(unclaimed()),
            Some(claim) if claim.by != actor.user_id => {
                return Err(AppError::forbidden(
                    "only the person who claimed this item can release it",
                ))
            }
            Some(_) => {}
        }
        if !lists::delete_claim(&mut *tx, id, &actor.user_id).await? {
            return Err(unclaimed());
        }
        let released = Item {
            claim: None,
            ..item
        };
        events::item(&mut tx, actor, &list, events::STATUS_CHANGED, &released).await?;
        self.commit(tx).await?;
        Ok(released)
    }
}

impl From<&Item> for ItemFields {
    fn from(item: &Item) -> Self {
        ItemFields {
            title: item.title.clone(),
            url: item.url.clone(),
            price_cents: item.price_cents,
            currency: item.currency.clone(),
            notes: item.notes.clone(),
            priority: item.priority,
        }
    }
}
