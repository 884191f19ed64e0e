//! Group gifts: members chip in for one item. Marking an item, pledging,
//! withdrawing and taking the organiser's role are each decided under the
//! item's lock and recorded for the members only: the recipient reads
//! nothing of them (`surprise`), and may do none of them.

use super::{events, now_iso, surprise, Actor, Service};
use crate::{
    model::{
        error::AppError,
        input::{GroupRequest, PledgeRequest},
        validate, GiftList, Item, ItemId,
    },
    store::lists,
};

impl Service {
    /// The item under its lock, for a member who is not its list's
    /// recipient (403 for the recipient, whatever the item's state).
    async fn group_change(
        &self,
        actor: &Actor,
        id: &ItemId,
    ) -> Result<(super::Write, Item, GiftList), AppError> {
        let list = self.may_chip_in(actor, id).await?;
        let mut tx = self.begin_write().await?;
        let item = Self::locked_on(&mut tx, &list, id).await?;
        Ok((tx, item, list))
    }

    /// The item's list, for a member who is not its recipient (or a guest
    /// of its givers' link).
    async fn may_chip_in(&self, actor: &Actor, id: &ItemId) -> Result<GiftList, AppError> {
        let (_, list) = self.visible_item(actor, id).await?;
        if surprise::is_recipient(&actor.user_id, &list) {
            return Err(AppError::forbidden(
                "you cannot chip in for gifts on your own list",
            ));
        }
        Ok(list)
    }

    /// The item under its lock, if it is (still) on `list`.
    async fn locked_on(
        tx: &mut super::Write,
        list: &GiftList,
        id: &ItemId,
    ) -> Result<Item, AppError> {
        lists::locked_item(tx, id)
            .await?
            .filter(|item| item.list_id == list.id)
            .ok_or_else(|| AppError::not_found("item"))
    }

    /// Records `STATUS_CHANGED` for the members, commits, and answers with
    /// the item as it is now.
    async fn group_changed(
        &self,
        mut tx: super::Write,
        actor: &Actor,
        list: &GiftList,
        id: &ItemId,
    ) -> Result<Item, AppError> {
        let item = lists::item(&mut tx, id)
            .await?
            .ok_or_else(AppError::internal)?;
        events::item(&mut tx, actor, list, events::STATUS_CHANGED, &item).await?;
        self.commit(tx).await?;
        Ok(item)
    }

    /// Makes an item a group gift, or changes its target. The target
    /// defaults to price × quantity; pledges are kept when it changes, and
    /// the pledgers are told.
    pub async fn mark_group_gift(
        &self,
        actor: &Actor,
        id: &ItemId,
        input: GroupRequest,
    ) -> Result<Item, AppError> {
        actor.member_only()?;
        if let Some(target) = input.target_cents {
            validate::target_cents(target)?;
        }
        let (mut tx, item, list) = self.group_change(actor, id).await?;
        let target = match input.target_cents {
            Some(target) => target,
            None => default_target(&item)?,
        };
        let unchanged = item
            .group
            .as_ref()
            .is_some_and(|group| group.target_cents == target);
        if unchanged {
            drop(tx);
            return Ok(item);
        }
        lists::upsert_group(&mut *tx, id, target, &actor.user_id, &now_iso()).await?;
        if item.group.is_some() {
            let now = lists::item(&mut tx, id)
                .await?
                .ok_or_else(AppError::internal)?;
            events::claimer_notices(&mut tx, actor, &list, events::UPDATED, &[&now]).await?;
        }
        self.group_changed(tx, actor, &list, id).await
    }

    /// Makes a group gift an ordinary item again: only while nobody has
    /// pledged (409 otherwise: nothing a member promised is dropped).
    pub async fn unmark_group_gift(&self, actor: &Actor, id: &ItemId) -> Result<Item, AppError> {
        actor.member_only()?;
        let (mut tx, item, list) = self.group_change(actor, id).await?;
        let Some(group) = &item.group else {
            return Err(AppError::conflict("this item is not a group gift"));
        };
        if !group.pledges.is_empty() {
            return Err(AppError::conflict_with(
                "members have pledged to this gift: they must withdraw their pledges first",
                item,
            ));
        }
        lists::delete_group(&mut *tx, id).await?;
        self.group_changed(tx, actor, &list, id).await
    }

    /// Takes the organiser's role of a group gift ("I'll buy it, send me
    /// your share"). Until someone does, the first pledger organises.
    pub async fn organise_group_gift(&self, actor: &Actor, id: &ItemId) -> Result<Item, AppError> {
        actor.member_only()?;
        let (mut tx, item, list) = self.group_change(actor, id).await?;
        let Some(group) = &item.group else {
            return Err(AppError::conflict("this item is not a group gift"));
        };
        if group.organiser.as_ref() == Some(&actor.user_id) {
            drop(tx);
            return Ok(item);
        }
        lists::set_organiser(&mut *tx, id, &actor.user_id).await?;
        self.group_changed(tx, actor, &list, id).await
    }

    /// Pledges an amount to a group gift, or changes one's pledge (its
    /// amount, whether it is paid). In the item's currency only; pledges
    /// past the target are allowed (members see them as such).
    pub async fn pledge(
        &self,
        actor: &Actor,
        id: &ItemId,
        input: PledgeRequest,
    ) -> Result<Item, AppError> {
        validate::pledge_cents(input.amount_cents)?;
        if let Some(currency) = &input.currency {
            validate::currency(currency)?;
        }
        let list = self.may_chip_in(actor, id).await?;
        let tx = self.begin_write().await?;
        self.pledge_in(tx, actor, &list, id, input).await
    }

    /// The part of [`Service::pledge`] inside its transaction, once the
    /// caller may chip in on `list` (a guest's account is made in the same
    /// transaction: `service::shares`).
    pub(super) async fn pledge_in(
        &self,
        mut tx: super::Write,
        actor: &Actor,
        list: &GiftList,
        id: &ItemId,
        input: PledgeRequest,
    ) -> Result<Item, AppError> {
        validate::pledge_cents(input.amount_cents)?;
        super::items::writable(list)?;
        let item = Self::locked_on(&mut tx, list, id).await?;
        if item.group.is_none() {
            return Err(AppError::conflict_with(
                "this item is not a group gift",
                item,
            ));
        }
        let currency = input.currency.unwrap_or_else(|| item.currency.clone());
        if currency != item.currency {
            return Err(AppError::bad_request(format!(
                "pledges to this gift are in {}",
                item.currency
            )));
        }
        let unchanged = item.group.as_ref().is_some_and(|group| {
            group.pledges.iter().any(|p| {
                p.by == actor.user_id
                    && p.amount_cents == input.amount_cents
                    && p.paid == input.paid
                    && p.currency == currency
            })
        });
        if unchanged {
            drop(tx);
            return Ok(item);
        }
        lists::upsert_pledge(
            &mut *tx,
            id,
            &actor.user_id,
            input.amount_cents,
            &currency,
            input.paid,
            &now_iso(),
        )
        .await?;
        self.group_changed(tx, actor, list, id).await
    }

    /// Withdraws one's pledge: 409 when there is none.
    pub async fn withdraw_pledge(&self, actor: &Actor, id: &ItemId) -> Result<Item, AppError> {
        let (mut tx, _, list) = self.group_change(actor, id).await?;
        if !lists::delete_pledge(&mut *tx, id, &actor.user_id).await? {
            return Err(AppError::conflict("you have not pledged to this gift"));
        }
        self.group_changed(tx, actor, &list, id).await
    }
}

/// A group gift's target when none is given: what the wanted units cost.
fn default_target(item: &Item) -> Result<i64, AppError> {
    let (Some(price), Some(quantity)) = (item.price_cents, item.quantity) else {
        return Err(AppError::bad_request(
            "give target_cents: the gift has no price, or no limit on how many",
        ));
    };
    let target = price.saturating_mul(quantity);
    validate::target_cents(target).map(|()| target)
}
