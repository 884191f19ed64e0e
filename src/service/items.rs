//! Items and claims.

use super::{events, new_id, now_iso, pictures, surprise, Actor, Service, Write};
use crate::{
    model::{
        error::AppError,
        input::{ClaimRequest, ItemPatch, NewItem},
        validate::{self, ItemFields},
        GiftList, Item, ItemId, ListId,
    },
    store::{self, lists},
};

impl Service {
    /// The item and its list, if `actor` belongs to the list's family (else 404).
    pub(super) async fn visible_item(
        &self,
        actor: &Actor,
        id: &ItemId,
    ) -> Result<(Item, GiftList), AppError> {
        let item = lists::item(&mut *self.store.pool().acquire().await?, id)
            .await?
            .ok_or_else(|| AppError::not_found("item"))?;
        // A guest sees the one list of their link, and nothing else.
        if let Some(list_id) = &actor.guest_of {
            if &item.list_id != list_id {
                return Err(AppError::not_found("item"));
            }
            let record = lists::list(self.store.pool(), list_id)
                .await?
                .ok_or_else(|| AppError::not_found("item"))?;
            return Ok((item, record.list));
        }
        let (record, _) = self
            .visible_list(&actor.user_id, &item.list_id)
            .await
            .map_err(|_| AppError::not_found("item"))?;
        writable(&record.list)?;
        Ok((item, record.list))
    }

    pub async fn add_item(
        &self,
        actor: &Actor,
        list_id: &ListId,
        input: NewItem,
    ) -> Result<Item, AppError> {
        actor.member_only()?;
        let (record, _) = self.visible_list(&actor.user_id, list_id).await?;
        writable(&record.list)?;
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
            quantity: fields.quantity,
            claim: None,
            claims: Vec::new(),
            group: None,
            picture: fields.picture,
        };
        let mut tx = self.begin_write().await?;
        // The list may have been removed, or archived, since it was looked up.
        if !lists::lock_list(&mut tx, list_id).await? {
            return Err(AppError::not_found("list"));
        }
        let locked = lists::list(&mut *tx, list_id)
            .await?
            .ok_or_else(|| AppError::not_found("list"))?;
        writable(&locked.list)?;
        if let Some(picture) = &item.picture {
            pictures::check_owned(&mut tx, actor, picture).await?;
        }
        lists::insert_item(&mut *tx, &item, &now_iso()).await?;
        events::item(&mut tx, actor, &record.list, events::ADDED, &item).await?;
        self.commit(tx).await?;
        Ok(surprise::item_for(&actor.user_id, &record.list, item))
    }

    /// Applies `patch` if `patch.version` is still the item's version; a
    /// stale version gets 409 with the item as it is now, never a silent
    /// overwrite. A quantity below what givers hold is refused (409, with
    /// the item and its claims) unless `patch.release_excess`: then the
    /// newest claims give up the excess, and their holders are told.
    pub async fn update_item(
        &self,
        actor: &Actor,
        id: &ItemId,
        patch: ItemPatch,
    ) -> Result<Item, AppError> {
        actor.member_only()?;
        let (current, list) = self.visible_item(actor, id).await?;
        let seen = |item: Item| surprise::item_for(&actor.user_id, &list, item);
        if patch.version != current.version {
            return Err(AppError::stale(seen(current)));
        }
        let expected = patch.version;
        let release_excess = patch.release_excess;
        let fields = ItemFields::from(&current).patched(patch)?;
        let mut tx = self.begin_write().await?;
        // Locked, so the claims checked against the new quantity are the
        // ones it is written over.
        let locked = lists::locked_item(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::not_found("item"))?;
        if locked.version != expected {
            return Err(AppError::stale(seen(locked)));
        }
        let is_recipient = surprise::is_recipient(&actor.user_id, &list);
        // Pledges are in the item's currency: a member may not change it
        // under them. (The recipient, who must not learn of pledges, may:
        // the pledges keep their currency and are no longer counted.)
        let pledged = locked.group.as_ref().is_some_and(|g| !g.pledges.is_empty());
        if pledged && fields.currency != locked.currency && !is_recipient {
            let message = format!(
                "members have pledged in {} to this gift: its currency cannot change",
                locked.currency
            );
            return Err(AppError::conflict_with(message, locked));
        }
        let excess = fields
            .quantity
            .map_or(0, |wanted| locked.units_taken() - wanted);
        if excess > 0 {
            // The recipient must not learn that anything is claimed: their
            // edit goes through as if nothing were, and the givers whose
            // claims it cuts are told.
            if !release_excess && !is_recipient {
                return Err(AppError::conflict_with(
                    format!(
                        "givers hold {} of this item: talk to them first, or confirm to release the newest claims",
                        locked.units_taken()
                    ),
                    locked,
                ));
            }
            release_newest(&mut tx, &locked, excess).await?;
        }
        let replaced = match (&locked.picture, &fields.picture) {
            (old, new) if old == new => None,
            (old, Some(new)) => {
                pictures::check_owned(&mut tx, actor, new).await?;
                old.clone()
            }
            (old, None) => old.clone(),
        };
        let Some(version) = lists::update_item(&mut *tx, id, &fields, expected, &now_iso()).await?
        else {
            return Err(AppError::internal());
        };
        let updated = lists::item(&mut tx, id)
            .await?
            .ok_or_else(AppError::internal)?;
        debug_assert_eq!(updated.version, version);
        if let Some(old) = replaced {
            store::pictures::delete_if_unused(&mut tx, &old).await?;
        }
        events::item(&mut tx, actor, &list, events::UPDATED, &updated).await?;
        // Those whose claims were cut hear of it as well as those who keep
        // theirs: the item they hold changed.
        let told = Item {
            claims: locked.claims.clone(),
            ..updated.clone()
        };
        events::claimer_notices(&mut tx, actor, &list, events::UPDATED, &[&told]).await?;
        self.commit(tx).await?;
        Ok(seen(updated))
    }

    /// Removes an item. Of several removals at once, one removes it and
    /// records its event; the others find it gone (404).
    pub async fn delete_item(&self, actor: &Actor, id: &ItemId) -> Result<(), AppError> {
        actor.member_only()?;
        let (_, list) = self.visible_item(actor, id).await?;
        let mut tx = self.begin_write().await?;
        let item = lists::locked_item(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::not_found("item"))?;
        lists::delete_item(&mut tx, id).await?;
        if let Some(picture) = &item.picture {
            store::pictures::delete_if_unused(&mut tx, picture).await?;
        }
        events::item(&mut tx, actor, &list, events::DELETED, &item).await?;
        events::claimer_notices(&mut tx, actor, &list, events::DELETED, &[&item]).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Claims `input.units` of an item, or changes one's own claim (its
    /// status, its units). Decided under the item's lock: however many
    /// givers ask at once, no more units are held than the item wants, and
    /// the ones too late get 409 with what is left. The recipient may not
    /// claim: they get the same 403 whether or not anything is claimed.
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
        validate::units(input.units)?;
        let tx = self.begin_write().await?;
        self.claim_in(tx, actor, &list, id, input).await
    }

    /// The part of [`Service::claim_item`] inside its transaction, once
    /// the caller may claim on `list`: guests come in here too, their
    /// account made in the same transaction (`service::shares`).
    pub(super) async fn claim_in(
        &self,
        mut tx: Write,
        actor: &Actor,
        list: &GiftList,
        id: &ItemId,
        input: ClaimRequest,
    ) -> Result<Item, AppError> {
        writable(list)?;
        // Locked, so what is read is what this change acts on: two requests
        // at once are decided one after the other.
        let current = lists::locked_item(&mut tx, id)
            .await?
            .filter(|item| item.list_id == list.id)
            .ok_or_else(|| AppError::not_found("item"))?;
        let mine = current.claim_of(&actor.user_id).cloned();
        let held_by_others = current.units_taken() - mine.as_ref().map_or(0, |c| c.units);
        if let Some(wanted) = current.quantity {
            let free = wanted - held_by_others;
            if input.units > free {
                let message = match (wanted, free) {
                    (1, _) => "someone else has already claimed this item".to_string(),
                    (_, free) if free <= 0 => "all of this item is taken".to_string(),
                    (_, 1) => "only 1 is left to claim".to_string(),
                    (_, free) => format!("only {free} are left to claim"),
                };
                return Err(AppError::conflict_with(message, current));
            }
        }
        let now = now_iso();
        let changed = match mine {
            Some(claim) => {
                (claim.status != input.status || claim.units != input.units)
                    && lists::update_claim(&mut *tx, id, &actor.user_id, input.status, input.units)
                        .await?
            }
            None => {
                lists::insert_claim(
                    &mut *tx,
                    id,
                    &actor.user_id,
                    input.status,
                    input.units,
                    &now,
                )
                .await?
            }
        };
        let item = lists::item(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::not_found("item"))?;
        if changed {
            events::item(&mut tx, actor, list, events::STATUS_CHANGED, &item).await?;
        }
        self.commit(tx).await?;
        Ok(item)
    }

    /// Releases one's own claim: 403 for anyone else (and always for the
    /// recipient, who must not learn whether there is a claim), 409 when
    /// nobody holds any of it.
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
        if item.claims.is_empty() {
            return Err(AppError::conflict("nobody has claimed this item"));
        }
        if item.claim_of(&actor.user_id).is_none() {
            return Err(AppError::forbidden(
                "only the person who claimed this item can release it",
            ));
        }
        lists::delete_claim(&mut *tx, id, &actor.user_id).await?;
        let released = lists::item(&mut tx, id)
            .await?
            .ok_or_else(AppError::internal)?;
        events::item(&mut tx, actor, &list, events::STATUS_CHANGED, &released).await?;
        self.commit(tx).await?;
        Ok(released)
    }
}

/// Refuses any change to the gifts of an archived list (409).
pub(super) fn writable(list: &GiftList) -> Result<(), AppError> {
    if list.archived {
        return Err(AppError::conflict(super::lists::ARCHIVED));
    }
    Ok(())
}

/// Takes `excess` units back from `item`'s newest claims: each gives up
/// what it must, and one left with none is released.
async fn release_newest(tx: &mut Write, item: &Item, mut excess: i64) -> Result<(), AppError> {
    for claim in item.claims.iter().rev() {
        if excess <= 0 {
            break;
        }
        let cut = claim.units.min(excess);
        if cut == claim.units {
            lists::delete_claim(&mut **tx, &item.id, &claim.by).await?;
        } else {
            lists::set_claim_units(&mut **tx, &item.id, &claim.by, claim.units - cut).await?;
        }
        excess -= cut;
    }
    Ok(())
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
            quantity: item.quantity,
            picture: item.picture.clone(),
        }
    }
}
