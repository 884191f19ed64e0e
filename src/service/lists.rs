//! Gift lists.

use super::{events, new_id, now_iso, surprise, Actor, Service};
use crate::{
    live::protocol::list_topic,
    model::{
        error::AppError,
        input::{ListPatch, NewList},
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
            event_date: None,
            archived: false,
            reveal_after_event: false,
            revealed: false,
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
        let view = surprise::items_audience(user, &list);
        let items = lists::items_of_list(&mut *self.store.pool().acquire().await?, id)
            .await?
            .into_iter()
            .map(|item| surprise::item_for_audience(view, item))
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

    /// Changes a list's settings. The title, the event date, archiving and
    /// whom it is for are for whoever made the list and the admins;
    /// "reveal after the event" for any member but the recipient. Whom it
    /// is for changes only while nothing on it is claimed or pledged (else
    /// the one it was for would read what was taken for them). Decided on the list as it
    /// is under its lock, so two changes at once both take effect. An
    /// archived list changes nothing until it is restored. When the event
    /// is already over and the reveal chosen, the thank-you view opens in
    /// the same change (see [`Service::open_due_reveals`]).
    pub async fn update_list(
        &self,
        actor: &Actor,
        id: &ListId,
        patch: ListPatch,
    ) -> Result<GiftList, AppError> {
        actor.member_only()?;
        let (record, role) = self.visible_list(&actor.user_id, id).await?;
        if patch == ListPatch::default() {
            return Err(AppError::bad_request(
                "give at least one of title, event_date, archived, reveal_after_event, recipient_user_id and recipient_name",
            ));
        }
        let new_recipient = patch.recipient_user_id.is_some() || patch.recipient_name.is_some();
        if patch.title.is_some()
            || patch.event_date.is_some()
            || patch.archived.is_some()
            || new_recipient
        {
            Self::may_manage(actor, &record, role)?;
        }
        match (&patch.recipient_user_id, &patch.recipient_name) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_request(
                    "give exactly one of recipient_user_id and recipient_name",
                ))
            }
            (Some(member), None) => {
                if families::role_of(self.store.pool(), &record.list.family_id, member)
                    .await?
                    .is_none()
                {
                    return Err(AppError::bad_request(
                        "recipient_user_id must be a member of the family",
                    ));
                }
            }
            (None, Some(name)) => validate::person_name(name)?,
            (None, None) => {}
        }
        if patch.reveal_after_event.is_some()
            && surprise::is_recipient(&actor.user_id, &record.list)
        {
            return Err(AppError::forbidden(
                "the person a list is for does not choose what they see after the event",
            ));
        }
        if let Some(title) = &patch.title {
            validate::title(title)?;
        }
        let today = today();
        if let Some(Some(date)) = &patch.event_date {
            event_date(date, &today)?;
        }
        let mut tx = self.begin_write().await?;
        let gone = || AppError::not_found("list");
        if !lists::lock_list(&mut tx, id).await? {
            return Err(gone());
        }
        let current = lists::list(&mut *tx, id).await?.ok_or_else(gone)?.list;
        if current.archived && patch.archived != Some(false) {
            return Err(AppError::conflict(ARCHIVED));
        }
        let (recipient_user_id, recipient_name) =
            match (patch.recipient_user_id, patch.recipient_name) {
                (Some(member), _) => (Some(member), None),
                (None, Some(name)) => (None, Some(name)),
                (None, None) => (
                    current.recipient_user_id.clone(),
                    current.recipient_name.clone(),
                ),
            };
        if recipient_user_id != current.recipient_user_id
            || recipient_name != current.recipient_name
        {
            // Whoever the list was for would read the claims made for
            // them, and whoever it is for now may hold some: only while
            // nothing on it is taken, nor ever was as far as the members'
            // stream can still replay (a claim, a pledge, their release:
            // each a STATUS_CHANGED there).
            let items = lists::items_of_list(&mut tx, id).await?;
            let taken = items.iter().any(|item| {
                !item.claims.is_empty()
                    || item.group.as_ref().is_some_and(|g| !g.pledges.is_empty())
            }) || outbox::holds_event(
                &mut *tx,
                &list_topic(id),
                outbox::Audience::Members,
                events::STATUS_CHANGED,
            )
            .await?;
            if taken {
                return Err(AppError::conflict(RECIPIENT_TAKEN));
            }
        }
        let next = GiftList {
            recipient_user_id,
            recipient_name,
            title: patch.title.unwrap_or_else(|| current.title.clone()),
            event_date: patch
                .event_date
                .unwrap_or_else(|| current.event_date.clone()),
            archived: patch.archived.unwrap_or(current.archived),
            reveal_after_event: patch
                .reveal_after_event
                .unwrap_or(current.reveal_after_event),
            ..current.clone()
        };
        let version = lists::save_settings(&mut *tx, &next, &now_iso())
            .await?
            .ok_or_else(gone)?;
        let mut saved = GiftList {
            version,
            revealed: current.revealed
                && next.reveal_after_event == current.reveal_after_event
                && next.event_date == current.event_date
                && next.recipient_user_id == current.recipient_user_id,
            ..next
        };
        events::list(&mut tx, actor, &saved, events::UPDATED, true, true).await?;
        if lists::mark_revealed(&mut *tx, id, &today, &now_iso()).await? {
            saved.version += 1;
            saved.revealed = true;
            events::revealed(&mut tx, &saved, &actor.trace_id).await?;
        }
        self.commit(tx).await?;
        Ok(saved)
    }

    /// Opens the thank-you view of every list whose event is over (its
    /// date before today, UTC) and whose reveal was chosen: one `REVEALED`
    /// event on each recipient's stream. Run by the housekeeping timer;
    /// with several instances, each list is opened once (the update that
    /// opens it is conditional). Returns how many it opened.
    pub async fn open_due_reveals(&self) -> Result<usize, AppError> {
        let today = today();
        let mut opened = 0;
        for id in lists::due_for_reveal(self.store.pool(), &today).await? {
            let mut tx = self.begin_write().await?;
            if !lists::lock_list(&mut tx, &id).await?
                || !lists::mark_revealed(&mut *tx, &id, &today, &now_iso()).await?
            {
                continue;
            }
            let list = lists::list(&mut *tx, &id)
                .await?
                .ok_or_else(AppError::internal)?
                .list;
            events::revealed(&mut tx, &list, &crate::state::TraceId::random().0).await?;
            self.commit(tx).await?;
            opened += 1;
        }
        Ok(opened)
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
        delete_list_in(&mut tx, actor, &current.list).await?;
        self.commit(tx).await?;
        Ok(())
    }
}

/// Removes `list`, locked by the caller, inside its transaction: whoever
/// held a claim on one of its items is told (unless it was `actor`), and
/// every stream of the list and the family's hears `DELETED`.
pub(super) async fn delete_list_in(
    tx: &mut super::Write,
    actor: &Actor,
    list: &GiftList,
) -> Result<(), AppError> {
    let items = lists::items_of_list(tx, &list.id).await?;
    // Read while its share links still exist: their guests hear of it.
    events::list_audiences(tx, list).await?;
    lists::delete_list(tx, &list.id).await?;
    let items: Vec<_> = items.iter().collect();
    events::claimer_notices(tx, actor, list, events::DELETED, &items).await?;
    events::list(tx, actor, list, events::DELETED, true, true).await
}

/// What changing whom a list is for is answered once anything is taken.
pub const RECIPIENT_TAKEN: &str =
    "the person a list is for can change only while nothing on it is claimed or chipped in for";

/// What a change to an archived list is answered.
pub const ARCHIVED: &str = "this list is archived: restore it to change it";

/// Today, UTC, as event dates are written.
pub(crate) fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// An event date: a real day, `YYYY-MM-DD`, at most a year back (a list
/// kept after the event) and five years ahead.
fn event_date(value: &str, today: &str) -> Result<(), AppError> {
    use chrono::{Days, NaiveDate};
    let invalid = || {
        AppError::bad_request(
            "event_date must be a day like 2026-12-24, at most a year back and five years ahead",
        )
    };
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| invalid())?;
    let today = NaiveDate::parse_from_str(today, "%Y-%m-%d").map_err(|_| invalid())?;
    let earliest = today.checked_sub_days(Days::new(366)).ok_or_else(invalid)?;
    let latest = today
        .checked_add_days(Days::new(5 * 366))
        .ok_or_else(invalid)?;
    if value.len() != 10 || day < earliest || day > latest {
        return Err(invalid());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_dates_are_real_days_within_reach() {
        let ok = |d: &str| super::event_date(d, "2026-12-06").is_ok();
        assert!(ok("2026-12-24"));
        assert!(ok("2025-12-06"));
        assert!(ok("2031-12-01"));
        assert!(!ok("2025-12-04"), "over a year back");
        assert!(!ok("2032-01-01"), "over five years ahead");
        assert!(!ok("2026-02-30"));
        assert!(!ok("2026-12-6"));
        assert!(!ok("24.12.2026"));
        assert!(!ok(""));
    }
}
