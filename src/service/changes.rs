//! Catching up on a list's changes over HTTP (polling, and the replay the
//! live channel shares): the caller's stream's events after a `seq`.

use serde::{Deserialize, Serialize};

use super::{surprise, Service};
use crate::{
    live::{
        hub::Replay,
        protocol::{list_topic, EventData, EventFrame, Topic},
    },
    model::{error::AppError, FamilyId, ListId, UserId},
    store::outbox::{self, Audience, StoredEvent},
};

/// At most this many events are replayed at once; a client further behind
/// reloads the list instead.
pub const MAX_REPLAY: i64 = 500;

/// The answer to `GET /api/v1/lists/{id}/changes?since=N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Changes {
    /// The events after `since`, in order, and the stream's last `seq`.
    Events { events: Vec<EventFrame>, seq: i64 },
    /// The events cannot be replayed: reload the list over HTTP.
    Resync { resync: bool, seq: i64 },
}

/// An outbox row as the event frame subscribers receive.
pub fn event_frame(event: StoredEvent) -> Result<EventFrame, AppError> {
    let payload = serde_json::from_str(&event.payload).map_err(|err| {
        tracing::error!(cause = %err, topic = %event.topic, seq = event.seq, "stored payload is not JSON");
        AppError::internal()
    })?;
    Ok(EventFrame {
        seq: event.seq,
        topic: event.topic,
        event: event.event,
        data: EventData {
            entity_id: event.entity_id,
            payload,
            user_id: event.user_id,
            tenant_id: event.tenant_id,
            timestamp: event.created_at,
        },
        trace_id: event.trace_id,
    })
}

impl Service {
    /// The events of `user`'s stream of the list after `since`, or a
    /// resync when `since` is ahead of the stream or too far behind.
    pub async fn list_changes(
        &self,
        user: &UserId,
        id: &ListId,
        since: i64,
    ) -> Result<Changes, AppError> {
        if since < 0 {
            return Err(AppError::bad_request("since must be 0 or more"));
        }
        let (record, _) = self.visible_list(user, id).await?;
        let audience = surprise::audience(user, &record.list);
        let topic = list_topic(id);
        let last = outbox::last_seq(self.store.pool(), &topic, audience).await?;
        if since > last || last - since > MAX_REPLAY {
            return Ok(Changes::Resync {
                resync: true,
                seq: last,
            });
        }
        let events = outbox::since(self.store.pool(), &topic, audience, since, MAX_REPLAY)
            .await?
            .into_iter()
            .map(event_frame)
            .collect::<Result<Vec<_>, _>>()?;
        let seq = events.last().map_or(last, |event| event.seq.max(last));
        Ok(Changes::Events { events, seq })
    }
}

impl Service {
    /// The stream of `topic` that `user` may read, or `forbidden` alike for
    /// topics that do not exist and those of others (no existence oracle).
    pub async fn topic_audience(&self, user: &UserId, topic: &Topic) -> Result<Audience, AppError> {
        let forbidden = || AppError::forbidden("not yours to follow");
        match topic {
            Topic::List(list) => {
                let (record, _) = self
                    .visible_list(user, list)
                    .await
                    .map_err(|_| forbidden())?;
                Ok(surprise::audience(user, &record.list))
            }
            Topic::Family(family) => {
                self.role_in(family, user).await.map_err(|_| forbidden())?;
                Ok(Audience::All)
            }
            Topic::User(owner) if owner == user => Ok(Audience::All),
            Topic::User(_) => Err(forbidden()),
        }
    }

    /// A stream's last `seq` in the outbox, for a hub that starts holding
    /// it; `None` (logged) when the database cannot say.
    pub async fn stream_last(&self, topic: &str, audience: Audience) -> Option<i64> {
        outbox::last_seq(self.store.pool(), topic, audience)
            .await
            .inspect_err(
                |err| tracing::warn!(cause = %err, %topic, "cannot read a stream's position"),
            )
            .ok()
    }

    /// What the outbox holds of a stream after `since`: its events, or
    /// `None` when `since` is ahead of the stream or too far behind.
    pub async fn stream_replay(&self, topic: &str, audience: Audience, since: i64) -> Replay {
        let read = async {
            let last = outbox::last_seq(self.store.pool(), topic, audience).await?;
            if since > last || last - since > MAX_REPLAY {
                return Ok::<_, sqlx::Error>(Replay { last, events: None });
            }
            let events =
                outbox::since(self.store.pool(), topic, audience, since, MAX_REPLAY).await?;
            Ok(Replay {
                last,
                events: Some(events),
            })
        };
        read.await.unwrap_or_else(|err| {
            tracing::warn!(cause = %err, %topic, "cannot read the outbox for a replay; sending resync");
            Replay { last: 0, events: None }
        })
    }
}

impl Service {
    /// The last `seq` of a family's topic, for a page that loads the family
    /// and then follows it. Read before the family itself: a change in
    /// between is then replayed, and applying it twice changes nothing.
    pub async fn family_seq(&self, user: &UserId, family: &FamilyId) -> Result<i64, AppError> {
        self.role_in(family, user).await?;
        let topic = crate::live::protocol::family_topic(family);
        Ok(outbox::last_seq(self.store.pool(), &topic, Audience::All).await?)
    }
}
