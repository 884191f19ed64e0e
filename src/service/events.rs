//! Recording the events of PROTOCOL.md section 7 in the outbox, inside the
//! transaction of the change they announce. Payloads pass through the
//! surprise rule for each audience here, once, when they are recorded.

use serde::Serialize;
use sqlx::AnyConnection;

use super::{surprise, Actor};
use crate::{
    live::protocol::{family_topic, list_topic, user_topic},
    model::{error::AppError, FamilyId, GiftList, Item, UserId},
    store::outbox::{self, Audience, NewEvent},
};

pub(super) const ADDED: &str = "ADDED";
pub(super) const UPDATED: &str = "UPDATED";
pub(super) const DELETED: &str = "DELETED";
pub(super) const STATUS_CHANGED: &str = "STATUS_CHANGED";
pub(super) const MEMBER_JOINED: &str = "MEMBER_JOINED";

fn json(payload: &impl Serialize) -> Result<String, AppError> {
    serde_json::to_string(payload).map_err(|err| {
        tracing::error!(cause = %err, "event payload does not serialize");
        AppError::internal()
    })
}

#[allow(clippy::too_many_arguments)]
async fn record(
    tx: &mut AnyConnection,
    actor: &Actor,
    user_id: Option<&UserId>,
    topic: &str,
    audience: Audience,
    event: &str,
    entity_id: &str,
    tenant: &FamilyId,
    payload: &str,
) -> Result<(), AppError> {
    outbox::append(
        tx,
        NewEvent {
            topic,
            audience,
            event,
            entity_id,
            payload,
            user_id: user_id.map(UserId::as_str),
            tenant_id: Some(tenant.as_str()),
            trace_id: &actor.trace_id,
        },
    )
    .await?;
    Ok(())
}

/// An item event on its list's topic. Members get the item as it is; the
/// recipient, when they have an account, gets it through the surprise rule,
/// and not at all for `STATUS_CHANGED`, so a claim leaves no trace and no
/// gap in their numbers.
pub(super) async fn item(
    tx: &mut AnyConnection,
    actor: &Actor,
    list: &GiftList,
    event: &str,
    item: &Item,
) -> Result<(), AppError> {
    let topic = list_topic(&list.id);
    let members_payload = json(&surprise::item_for_audience(
        Audience::Members,
        item.clone(),
    ))?;
    record(
        tx,
        actor,
        Some(&actor.user_id),
        &topic,
        Audience::Members,
        event,
        item.id.as_str(),
        &list.family_id,
        &members_payload,
    )
    .await?;
    if list.recipient_user_id.is_some() && event != STATUS_CHANGED {
        let payload = json(&surprise::item_for_audience(
            Audience::Recipient,
            item.clone(),
        ))?;
        record(
            tx,
            actor,
            Some(&actor.user_id),
            &topic,
            Audience::Recipient,
            event,
            item.id.as_str(),
            &list.family_id,
            &payload,
        )
        .await?;
    }
    Ok(())
}

/// A list event: on the list's topic (both streams) and, with
/// `on_family`, on the family's topic.
pub(super) async fn list(
    tx: &mut AnyConnection,
    actor: &Actor,
    list: &GiftList,
    event: &str,
    on_list: bool,
    on_family: bool,
) -> Result<(), AppError> {
    let payload = json(list)?;
    if on_list {
        let topic = list_topic(&list.id);
        let mut audiences = vec![Audience::Members];
        if list.recipient_user_id.is_some() {
            audiences.push(Audience::Recipient);
        }
        for audience in audiences {
            record(
                tx,
                actor,
                Some(&actor.user_id),
                &topic,
                audience,
                event,
                list.id.as_str(),
                &list.family_id,
                &payload,
            )
            .await?;
        }
    }
    if on_family {
        record(
            tx,
            actor,
            Some(&actor.user_id),
            &family_topic(&list.family_id),
            Audience::All,
            event,
            list.id.as_str(),
            &list.family_id,
            &payload,
        )
        .await?;
    }
    Ok(())
}

/// An event on the family's topic about someone: `subject` is both the
/// entity and `data.user_id` (the member who joined).
pub(super) async fn member_joined(
    tx: &mut AnyConnection,
    actor: &Actor,
    family: &FamilyId,
    member: &crate::model::Member,
) -> Result<(), AppError> {
    record(
        tx,
        actor,
        Some(&member.user_id),
        &family_topic(family),
        Audience::All,
        MEMBER_JOINED,
        member.user_id.as_str(),
        family,
        &json(member)?,
    )
    .await
}

/// Tells the holder of a claim on `item` that someone else changed or
/// removed it. Nothing when the holder made the change themselves.
pub(super) async fn claimer_notice(
    tx: &mut AnyConnection,
    actor: &Actor,
    list: &GiftList,
    event: &str,
    item: &Item,
) -> Result<(), AppError> {
    let Some(claim) = &item.claim else {
        return Ok(());
    };
    if claim.by == actor.user_id {
        return Ok(());
    }
    // The holder is never the recipient (the recipient cannot claim), so
    // the members' view is theirs.
    let payload = json(&surprise::item_for_audience(
        Audience::Members,
        item.clone(),
    ))?;
    record(
        tx,
        actor,
        Some(&actor.user_id),
        &user_topic(&claim.by),
        Audience::All,
        event,
        item.id.as_str(),
        &list.family_id,
        &payload,
    )
    .await
}
