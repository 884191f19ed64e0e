//! Recording the events of PROTOCOL.md section 7 in the outbox, inside the
//! transaction of the change they announce. Payloads pass through the
//! surprise rule for each audience here, once, when they are recorded.

use super::{surprise, Actor, Write};
use crate::{
    live::protocol::{family_topic, list_topic, user_topic, EventName},
    model::{
        error::AppError,
        share::{ShareKind, SharedList},
        FamilyId, GiftList, Item, UserId,
    },
    store::{
        lists,
        notices::{self, NewNotice},
        outbox::{self, Audience, NewEvent},
        shares,
    },
};
use serde::Serialize;

pub(super) const ADDED: &str = EventName::Added.as_str();
pub(super) const UPDATED: &str = EventName::Updated.as_str();
pub(super) const DELETED: &str = EventName::Deleted.as_str();
pub(super) const STATUS_CHANGED: &str = EventName::StatusChanged.as_str();
pub(super) const MEMBER_JOINED: &str = EventName::MemberJoined.as_str();
pub(super) const MEMBER_LEFT: &str = EventName::MemberLeft.as_str();
pub(super) const REVEALED: &str = EventName::Revealed.as_str();

fn json(payload: &impl Serialize) -> Result<String, AppError> {
    serde_json::to_string(payload).map_err(|err| {
        tracing::error!(cause = %err, "event payload does not serialize");
        AppError::internal()
    })
}

/// Appends events for one change: same actor, family and trace id.
struct Recorder<'a> {
    tx: &'a mut Write,
    actor: &'a Actor,
    tenant: &'a FamilyId,
}

impl Recorder<'_> {
    /// Records `event` about `entity_id` on `topic` for `audience`;
    /// `user_id` is who the event is by (the actor, or who joined).
    /// Returns its `seq` on that stream.
    async fn record(
        &mut self,
        topic: &str,
        audience: Audience,
        event: &str,
        entity_id: &str,
        payload: &str,
        user_id: &UserId,
    ) -> Result<i64, AppError> {
        // Guests learn nothing of who changed what, not even an id.
        let for_guests = matches!(audience, Audience::Guests | Audience::Viewers);
        let stored = outbox::append(
            self.tx,
            NewEvent {
                topic,
                audience,
                event,
                entity_id,
                payload,
                user_id: (!for_guests).then_some(user_id.as_str()),
                tenant_id: (!for_guests).then_some(self.tenant.as_str()),
                trace_id: &self.actor.trace_id,
            },
        )
        .await?;
        let seq = stored.seq;
        self.tx.events.push(stored);
        Ok(seq)
    }
}

/// The streams of a list's topic: the members', the recipient's when the
/// recipient has an account, and while the list has share links that are
/// not revoked, the viewers' and (for givers' links) the guests'. The
/// viewers' stream is kept for a list with only givers' links too: it is
/// what the recipient reads who opens one.
pub(super) async fn list_audiences(
    tx: &mut Write,
    list: &GiftList,
) -> Result<Vec<Audience>, AppError> {
    let mut audiences = vec![Audience::Members];
    if list.recipient_user_id.is_some() {
        audiences.push(Audience::Recipient);
    }
    let kinds = match &tx.link_kinds {
        Some((id, kinds)) if *id == list.id => kinds.clone(),
        _ => {
            let kinds = shares::live_kinds(tx, &list.id).await?;
            tx.link_kinds = Some((list.id.clone(), kinds.clone()));
            kinds
        }
    };
    if kinds.contains(&ShareKind::Givers) {
        audiences.push(Audience::Guests);
    }
    if !kinds.is_empty() {
        audiences.push(Audience::Viewers);
    }
    Ok(audiences)
}

/// `item`, as JSON, as `audience` reads it.
fn item_payload(audience: Audience, item: &Item) -> Result<String, AppError> {
    match audience {
        Audience::Guests | Audience::Viewers => json(&surprise::shared_item_for(audience, item)),
        _ => json(&surprise::item_for_audience(audience, item.clone())),
    }
}

/// An item event on its list's topic, its payload passed through the
/// surprise rule for each stream. `STATUS_CHANGED` goes to the members'
/// stream only, so a claim leaves no trace and no gap in the recipient's
/// numbers.
pub(super) async fn item(
    tx: &mut Write,
    actor: &Actor,
    list: &GiftList,
    event: &str,
    item: &Item,
) -> Result<(), AppError> {
    let audiences = list_audiences(tx, list).await?;
    let mut recorder = Recorder {
        tx,
        actor,
        tenant: &list.family_id,
    };
    let topic = list_topic(&list.id);
    for audience in audiences {
        // Claims and pledges change nothing the recipient (or a viewer)
        // reads: no event, so no gap in their numbers either.
        if event == STATUS_CHANGED && matches!(audience, Audience::Recipient | Audience::Viewers) {
            continue;
        }
        let payload = item_payload(audience, item)?;
        recorder
            .record(
                &topic,
                audience,
                event,
                item.id.as_str(),
                &payload,
                &actor.user_id,
            )
            .await?;
    }
    Ok(())
}

/// A list event: on the list's topic (every stream) with `on_list`, and on
/// the family's topic with `on_family`.
pub(super) async fn list(
    tx: &mut Write,
    actor: &Actor,
    list: &GiftList,
    event: &str,
    on_list: bool,
    on_family: bool,
) -> Result<(), AppError> {
    let audiences = if on_list {
        list_audiences(tx, list).await?
    } else {
        Vec::new()
    };
    // Guests read the list with the name of the person it is for.
    let shared = if audiences.contains(&Audience::Viewers) {
        let recipient = lists::recipient_name(&mut **tx, list).await?;
        Some(json(&SharedList::of(list, recipient))?)
    } else {
        None
    };
    let mut recorder = Recorder {
        tx,
        actor,
        tenant: &list.family_id,
    };
    let payload = json(list)?;
    let topic = list_topic(&list.id);
    for audience in audiences {
        let payload = match (audience, &shared) {
            (Audience::Guests | Audience::Viewers, Some(shared)) => shared,
            _ => &payload,
        };
        recorder
            .record(
                &topic,
                audience,
                event,
                list.id.as_str(),
                payload,
                &actor.user_id,
            )
            .await?;
    }
    if on_family {
        recorder
            .record(
                &family_topic(&list.family_id),
                Audience::All,
                event,
                list.id.as_str(),
                &payload,
                &actor.user_id,
            )
            .await?;
    }
    Ok(())
}

/// `UPDATED` on the family's topic about the family itself (renamed) or
/// one of its members (a new display name): the family or the member is
/// the entity and the payload.
pub(super) async fn family_updated(
    tx: &mut Write,
    actor: &Actor,
    family: &FamilyId,
    entity_id: &str,
    payload: &impl Serialize,
) -> Result<(), AppError> {
    Recorder {
        tx,
        actor,
        tenant: family,
    }
    .record(
        &family_topic(family),
        Audience::All,
        UPDATED,
        entity_id,
        &json(payload)?,
        &actor.user_id,
    )
    .await
    .map(|_| ())
}

/// `MEMBER_JOINED` or `MEMBER_LEFT` on the family's topic: the member is
/// the entity and the payload, and `data.user_id` is `by` (who joined;
/// who left, or the admin who removed them).
pub(super) async fn member(
    tx: &mut Write,
    actor: &Actor,
    family: &FamilyId,
    event: &str,
    member: &crate::model::Member,
    by: &UserId,
) -> Result<(), AppError> {
    Recorder {
        tx,
        actor,
        tenant: family,
    }
    .record(
        &family_topic(family),
        Audience::All,
        event,
        member.user_id.as_str(),
        &json(member)?,
        by,
    )
    .await
    .map(|_| ())
}

/// `REVEALED`: the recipient's thank-you view opens, the one event that
/// brings claims to the recipient's stream. Recorded only after
/// `store::lists::mark_revealed` said the day after the event has come
/// (see `Service::update_list` and `Service::open_due_reveals`); the
/// payload is the list and its items as the members see them, and
/// `data.user_id` is left out: nobody in particular opened it.
pub(super) async fn revealed(
    tx: &mut Write,
    list: &GiftList,
    trace_id: &str,
) -> Result<(), AppError> {
    if list.recipient_user_id.is_none() {
        return Ok(());
    }
    let items = lists::items_of_list(tx, &list.id).await?;
    let payload = json(&serde_json::json!({ "list": list, "items": items }))?;
    let stored = outbox::append(
        tx,
        NewEvent {
            topic: &list_topic(&list.id),
            audience: Audience::Recipient,
            event: REVEALED,
            entity_id: list.id.as_str(),
            payload: &payload,
            user_id: None,
            tenant_id: Some(list.family_id.as_str()),
            trace_id,
        },
    )
    .await?;
    tx.events.push(stored);
    Ok(())
}

/// Tells each holder of a claim on `items`, and each member who pledged to
/// one, that someone else changed or removed the item, with the item as
/// they now see it (one notice per person and item). Nothing for whoever
/// made the change.
///
/// Each notice locks its holder's stream counter: they are recorded in
/// one order (by holder, then item), so two changes cannot wait on each
/// other.
pub(super) async fn claimer_notices(
    tx: &mut Write,
    actor: &Actor,
    list: &GiftList,
    event: &str,
    items: &[&Item],
) -> Result<(), AppError> {
    let mut told: Vec<(&UserId, &Item)> = items
        .iter()
        .flat_map(|item| {
            let pledgers = item
                .group
                .iter()
                .flat_map(|g| g.pledges.iter().map(|p| &p.by));
            item.claims
                .iter()
                .map(|claim| &claim.by)
                .chain(pledgers)
                .map(move |by| (by, *item))
        })
        .filter(|(by, _)| **by != actor.user_id)
        .collect();
    told.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.id.cmp(&y.id)));
    told.dedup_by(|(a, x), (b, y)| a == b && x.id == y.id);
    for (holder, item) in told {
        // The holder is never the recipient (the recipient cannot claim),
        // so the members' view is theirs.
        let payload = json(&surprise::item_for_audience(
            Audience::Members,
            (*item).clone(),
        ))?;
        let seq = Recorder {
            tx,
            actor,
            tenant: &list.family_id,
        }
        .record(
            &user_topic(holder),
            Audience::All,
            event,
            item.id.as_str(),
            &payload,
            &actor.user_id,
        )
        .await?;
        // Kept for the holder's digest mail until a live page of theirs is
        // given it (see `service::notices`).
        notices::keep(
            &mut **tx,
            NewNotice {
                user: holder,
                seq,
                family: &list.family_id,
                list: &list.id,
                list_title: &list.title,
                item_id: item.id.as_str(),
                item_title: &item.title,
                removed: event == DELETED,
                created_at: super::now_unix(),
            },
        )
        .await?;
    }
    Ok(())
}
