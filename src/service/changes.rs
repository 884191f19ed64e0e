//! Catching up on a list's changes over HTTP (polling, and the replay the
//! live channel shares): the caller's stream's events after a `seq`.

use serde_json::value::RawValue;

use super::{surprise, Service};
use crate::{
    live::protocol::{list_topic, Changes, Topic},
    model::{error::AppError, FamilyId, ListId, UserId},
    store::outbox::{self, Audience, Replay},
};

impl Service {
    /// The events of `user`'s stream of the list after `since`, or a
    /// resync when `since` is ahead of the stream or too far behind.
    pub async fn list_changes(
        &self,
        user: &UserId,
        id: &ListId,
        since: i64,
    ) -> Result<Changes<Box<RawValue>>, AppError> {
        if since < 0 {
            return Err(AppError::bad_request("since must be 0 or more"));
        }
        let (record, _) = self.visible_list(user, id).await?;
        let audience = surprise::audience(user, &record.list);
        self.stream_changes(&list_topic(id), audience, since).await
    }

    /// The events of one stream after `since`, or a resync (the one rule
    /// of `outbox::replay`), for polling.
    pub(super) async fn stream_changes(
        &self,
        topic: &str,
        audience: Audience,
        since: i64,
    ) -> Result<Changes<Box<RawValue>>, AppError> {
        if since < 0 {
            return Err(AppError::bad_request("since must be 0 or more"));
        }
        let replay = outbox::replay(self.store.pool(), topic, audience, since).await?;
        let Some(events) = replay.events else {
            return Ok(Changes::Resync {
                resync: true,
                seq: replay.last,
            });
        };
        // Each payload stays the stored JSON text: it is checked, not parsed.
        let events = events
            .iter()
            .map(|event| {
                let frame = event.frame().map_err(|_| AppError::internal())?;
                Ok(frame.map_payload(ToOwned::to_owned))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let last = replay.last;
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
        let read = outbox::replay(self.store.pool(), topic, audience, since);
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
