//! The outbox: every change appends its events here, in the change's own
//! transaction, so a committed change is never unannounced and a restart
//! loses nothing. Each stream (a topic as one audience sees it) numbers its
//! events 1, 2, 3, ... with no gaps; the live channel and polling replay
//! from here.

use chrono::{SecondsFormat, Utc};
use sqlx::{AnyConnection, Executor};
use tracing::instrument;

use serde_json::value::RawValue;

use crate::live::protocol::{EventData, EventFrame};

/// At most this many events of a stream are replayed at once (and at
/// least this many are kept by [`prune`]); a client further behind is told
/// to `resync` and reloads instead.
pub const MAX_REPLAY: i64 = 500;

/// What the outbox holds of a stream after some `seq`.
#[derive(Debug)]
pub struct Replay {
    /// The stream's last `seq` in the outbox.
    pub last: i64,
    /// The events after `since`, or `None` when they cannot be replayed:
    /// `since` is ahead of the stream or more than [`MAX_REPLAY`] behind.
    pub events: Option<Vec<StoredEvent>>,
}

/// Who a stream of a topic is for. A list has two: what its members see,
/// and the recipient's view without claims, each numbered on its own so a
/// hidden claim leaves no gap in the recipient's numbers. Family and user
/// topics have one stream for everyone who may subscribe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// The only stream of a topic that everyone allowed sees alike.
    All,
    /// A list's members other than its recipient.
    Members,
    /// A list's recipient.
    Recipient,
    /// Guests of a list's givers' links: availability, never who.
    Guests,
    /// Guests of a list's view links (and its recipient opening any link):
    /// the list without availability.
    Viewers,
}

/// An `audience` column value that names no audience: only a bug or a
/// hand-edited database could store one, and it is refused rather than
/// read as some other audience.
#[derive(Debug, thiserror::Error)]
#[error("unknown audience {0:?}")]
pub struct UnknownAudience(String);

impl TryFrom<String> for Audience {
    type Error = UnknownAudience;

    fn try_from(stored: String) -> Result<Self, Self::Error> {
        match stored.as_str() {
            "all" => Ok(Audience::All),
            "members" => Ok(Audience::Members),
            "recipient" => Ok(Audience::Recipient),
            "guests" => Ok(Audience::Guests),
            "viewers" => Ok(Audience::Viewers),
            _ => Err(UnknownAudience(stored)),
        }
    }
}

impl Audience {
    /// Every audience.
    pub const ALL: [Audience; 5] = [
        Audience::All,
        Audience::Members,
        Audience::Recipient,
        Audience::Guests,
        Audience::Viewers,
    ];

    /// The value stored in the `audience` column; `serde` writes the same.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::All => "all",
            Audience::Members => "members",
            Audience::Recipient => "recipient",
            Audience::Guests => "guests",
            Audience::Viewers => "viewers",
        }
    }
}

/// An event to record: the generic event structure of PROTOCOL.md without
/// `seq` and `timestamp`, which the outbox assigns.
#[derive(Clone, Copy, Debug)]
pub struct NewEvent<'a> {
    pub topic: &'a str,
    pub audience: Audience,
    pub event: &'a str,
    pub entity_id: &'a str,
    /// The entity as this audience reads it, as JSON text.
    pub payload: &'a str,
    pub user_id: Option<&'a str>,
    pub tenant_id: Option<&'a str>,
    pub trace_id: &'a str,
}

/// An event as recorded.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct StoredEvent {
    pub topic: String,
    #[sqlx(try_from = "String")]
    pub audience: Audience,
    pub seq: i64,
    pub event: String,
    pub entity_id: String,
    pub payload: String,
    pub user_id: Option<String>,
    pub tenant_id: Option<String>,
    /// ISO 8601 in UTC with milliseconds, ending in `Z`.
    pub created_at: String,
    pub trace_id: String,
}

/// Records `event` with its stream's next `seq`. Call it inside the write
/// transaction of the change it announces: the counter row stays locked
/// until that transaction ends, so concurrent changes get consecutive
/// numbers in commit order.
#[instrument(skip_all, fields(topic = event.topic, audience = event.audience.as_str()))]
pub async fn append(tx: &mut AnyConnection, event: NewEvent<'_>) -> sqlx::Result<StoredEvent> {
    let seq: i64 = sqlx::query_scalar(
        "insert into streams (topic, audience, last_seq) values ($1, $2, 1) \
         on conflict (topic, audience) do update set last_seq = streams.last_seq + 1 \
         returning last_seq",
    )
    .bind(event.topic)
    .bind(event.audience.as_str())
    .fetch_one(&mut *tx)
    .await?;

    let stored = StoredEvent {
        topic: event.topic.to_owned(),
        audience: event.audience,
        seq,
        event: event.event.to_owned(),
        entity_id: event.entity_id.to_owned(),
        payload: event.payload.to_owned(),
        user_id: event.user_id.map(str::to_owned),
        tenant_id: event.tenant_id.map(str::to_owned),
        created_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        trace_id: event.trace_id.to_owned(),
    };
    sqlx::query(
        "insert into events \
         (topic, audience, seq, event, entity_id, payload, user_id, tenant_id, created_at, trace_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&stored.topic)
    .bind(stored.audience.as_str())
    .bind(stored.seq)
    .bind(&stored.event)
    .bind(&stored.entity_id)
    .bind(&stored.payload)
    .bind(&stored.user_id)
    .bind(&stored.tenant_id)
    .bind(&stored.created_at)
    .bind(&stored.trace_id)
    .execute(&mut *tx)
    .await?;
    Ok(stored)
}

/// The last `seq` of a stream: 0 when it has no events yet.
pub async fn last_seq<'e, E>(db: E, topic: &str, audience: Audience) -> sqlx::Result<i64>
where
    E: Executor<'e, Database = sqlx::Any>,
{
    let seq: Option<i64> =
        sqlx::query_scalar("select last_seq from streams where topic = $1 and audience = $2")
            .bind(topic)
            .bind(audience.as_str())
            .fetch_optional(db)
            .await?;
    Ok(seq.unwrap_or(0))
}

/// Whether a stream still holds an event named `event` (one that replay
/// could still hand out).
pub async fn holds_event<'e, E>(
    db: E,
    topic: &str,
    audience: Audience,
    event: &str,
) -> sqlx::Result<bool>
where
    E: Executor<'e, Database = sqlx::Any>,
{
    let found: Option<i64> = sqlx::query_scalar(
        "select seq from events where topic = $1 and audience = $2 and event = $3 limit 1",
    )
    .bind(topic)
    .bind(audience.as_str())
    .bind(event)
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Up to `limit` events of a stream with `seq > after`, in order.
pub async fn since<'e, E>(
    db: E,
    topic: &str,
    audience: Audience,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<StoredEvent>>
where
    E: Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "select topic, audience, seq, event, entity_id, payload, user_id, tenant_id, created_at, trace_id \
         from events where topic = $1 and audience = $2 and seq > $3 order by seq limit $4",
    )
    .bind(topic)
    .bind(audience.as_str())
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Deletes events recorded before `before` (ISO 8601, as stored), except
/// the last `keep` of each stream, which replay and `/changes` can still
/// reach. The streams' counters stay, so numbering goes on without reuse.
/// Returns how many events went.
#[instrument(skip_all)]
pub async fn prune<'e, E>(db: E, before: &str, keep: i64) -> sqlx::Result<u64>
where
    E: Executor<'e, Database = sqlx::Any>,
{
    let deleted = sqlx::query(
        "delete from events where created_at < $1 and seq <= \
         (select s.last_seq from streams s where s.topic = events.topic and s.audience = events.audience) - $2",
    )
    .bind(before)
    .bind(keep)
    .execute(db)
    .await?;
    Ok(deleted.rows_affected())
}

/// A stream's events after `since`, or none when they cannot be replayed
/// (the one resync rule, for the live channel and for polling alike).
pub async fn replay<'e, E>(
    db: E,
    topic: &str,
    audience: Audience,
    since: i64,
) -> sqlx::Result<Replay>
where
    E: Executor<'e, Database = sqlx::Any> + Copy,
{
    let last = last_seq(db, topic, audience).await?;
    if since > last || last - since > MAX_REPLAY {
        return Ok(Replay { last, events: None });
    }
    let events = self::since(db, topic, audience, since, MAX_REPLAY).await?;
    Ok(Replay {
        last,
        events: Some(events),
    })
}

/// A stored payload that is not JSON, which only a bug could cause.
#[derive(Debug)]
pub struct CorruptPayload;

impl StoredEvent {
    /// The event frame subscribers receive for this row, its payload the
    /// stored JSON text as it is (checked to be JSON, not parsed into a
    /// tree): serializing the frame writes it out once, verbatim.
    pub fn frame(&self) -> Result<EventFrame<&RawValue>, CorruptPayload> {
        let payload = serde_json::from_str::<&RawValue>(&self.payload).map_err(|err| {
            tracing::error!(cause = %err, topic = %self.topic, seq = self.seq, "stored payload is not JSON");
            CorruptPayload
        })?;
        Ok(EventFrame {
            seq: self.seq,
            topic: self.topic.clone(),
            event: self.event.clone(),
            data: EventData {
                entity_id: self.entity_id.clone(),
                payload,
                user_id: self.user_id.clone(),
                tenant_id: self.tenant_id.clone(),
                timestamp: self.created_at.clone(),
            },
            trace_id: self.trace_id.clone(),
        })
    }
}
