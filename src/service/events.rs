//! Recording the events of PROTOCOL.md section 7 in the outbox, inside the
//! transaction of the change they announce. Payloads pass through the
//! surprise rule for each audience here, once, when they are recorded.

use super::{surprise, Actor, Write};
use crate::{
    live::protocol::{family_topic, list_topic, user_topic, EventName},
    model::{error::AppError, FamilyId, GiftList, Item, UserId},
    store::outbox::{self, Audience, NewEvent},
};
use serde::Serialize;

pub(super) const ADDED: &str = EventName::Added.as_str();
pub(super) const UPDATED: &str = EventName::Updated.as_str();
pub(super) const DELETED: &str = EventName::Deleted.as_str();
pub(super) const STATUS_CHANGED: &str = EventName::StatusChanged.as_str();
pub(super) const MEMBER_JOINED: &str = EventName::MemberJoined.as_str();

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
    async fn record(
        &mut self,
        topic: &str,
        audience: Audience,
        event: &str,
        entity_id: &str,
        payload: &str,
        user_id: &UserId,
    ) -> Result<(), AppError> {
        let stored = outbox::append(
            self.tx,
            NewEvent {
                topic,
                audience,
                event,
                entity_id,
                payload,
                user_id: Some(user_id.as_str()),
                tenant_id: Some(self.tenant.as_str()),
                trace_id: &self.actor.trace_id,
            },
        )
        .await?;
        self.tx.events.push(stored);
        Ok(())
    }
}

/// The streams of a list's topic: the members', and the recipient's when
/// the recipient has an account.
fn list_audiences(list: &GiftList) -> &'static [Audience] {
    if list.recipient_user_id.is_some() {
        &[Audience::Members, Audience::Recipient]
    } else {
        &[Audience::Members]
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
    let mut recorder = Recorder {
        tx,
        actor,
        tenant: &list.family_id,
    };
    let topic = list_topic(&list.id);
    for &audience in list_audiences(list) {
        if event == STATUS_CHANGED && audience == Audience::Recipient {
            continue;
        }
        let payload = json(&surprise::item_for_audience(audience, item.clone()))?;
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
    let mut recorder = Recorder {
        tx,
        actor,
        tenant: &list.family_id,
    };
    let payload = json(list)?;
    if on_list {
        let topic = list_topic(&list.id);
        for &audience in list_audiences(list) {
            recorder
                .record(
                    &topic,
                    audience,
                    event,
                    list.id.as_str(),
                    &payload,
                    &actor.user_id,
                )
                .await?;
        }
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

/// `MEMBER_JOINED` on the family's topic: the member is the entity, and
/// `data.user_id` is the one who joined.
pub(super) async fn member_joined(
    tx: &mut Write,
    actor: &Actor,
    family: &FamilyId,
    member: &crate::model::Member,
) -> Result<(), AppError> {
    Recorder {
        tx,
        actor,
        tenant: family,
    }
    .record(
        &family_topic(family),
        Audience::All,
        MEMBER_JOINED,
        member.user_id.as_str(),
        &json(member)?,
        &member.user_id,
    )
    .await
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
    let mut notices: Vec<(&UserId, &Item)> = items
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
    notices.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.id.cmp(&y.id)));
    notices.dedup_by(|(a, x), (b, y)| a == b && x.id == y.id);
    for (holder, item) in notices {
        // The holder is never the recipient (the recipient cannot claim),
        // so the members' view is theirs.
        let payload = json(&surprise::item_for_audience(
            Audience::Members,
            (*item).clone(),
        ))?;
        Recorder {
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
    }
    Ok(())
}
