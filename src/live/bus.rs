//! The bus: how a committed event reaches the hubs.
//!
//! On SQLite there is one process: the event goes to its hub right after
//! the commit. On PostgreSQL there may be several instances behind a load
//! balancer, so every event is announced with `pg_notify` inside the
//! change's own transaction: PostgreSQL delivers notifications only on
//! commit and in commit order, which for one stream is `seq` order. Each
//! instance listens and fans out to its own sockets; any hole (a dropped
//! listener connection) is filled from the outbox.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tracing::{info, warn};

use super::hub::{audience_of, Hub, Published, StreamKey};
use crate::{
    error::StartError,
    service::changes::MAX_REPLAY,
    store::{
        outbox::{self, StoredEvent},
        Store, WriteTx,
    },
};

/// The PostgreSQL notification channel.
const CHANNEL: &str = "giftlist_live";

/// A notification's payload must stay under PostgreSQL's 8000 bytes; a
/// bigger event is announced by reference and read from the outbox.
const MAX_NOTIFY_BYTES: usize = 7000;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Note {
    Event(StoredEvent),
    Ref {
        topic: String,
        audience: String,
        seq: i64,
    },
    /// A logout: close the connections opened with this (hashed) session.
    SessionEnded(String),
}

/// Carries committed events to the hub of every instance.
#[derive(Debug)]
pub struct Bus {
    hub: Arc<Hub>,
    store: Store,
    postgres: bool,
    /// SQLite: commits and their fan-out happen in this order, one at a time.
    order: tokio::sync::Mutex<()>,
    /// PostgreSQL: the listening task, stopped with the bus.
    listener: std::sync::OnceLock<tokio::task::AbortHandle>,
}

impl Drop for Bus {
    fn drop(&mut self) {
        if let Some(task) = self.listener.get() {
            task.abort();
        }
    }
}

impl Bus {
    /// The bus for `store`. On PostgreSQL it is listening before this
    /// returns, so no event committed afterwards is missed.
    pub async fn start(hub: Arc<Hub>, store: Store, url: &str) -> Result<Arc<Bus>, StartError> {
        let postgres = store.backend() == crate::config::Backend::Postgres;
        let bus = Arc::new(Bus {
            hub,
            store,
            postgres,
            order: tokio::sync::Mutex::new(()),
            listener: std::sync::OnceLock::new(),
        });
        if postgres {
            let mut listener = PgListener::connect(url)
                .await
                .map_err(|err| StartError::Database(format!("listening for changes: {err}")))?;
            listener
                .listen(CHANNEL)
                .await
                .map_err(|err| StartError::Database(format!("listening for changes: {err}")))?;
            let task = tokio::spawn(listen(Arc::downgrade(&bus), listener));
            let _ = bus.listener.set(task.abort_handle());
        }
        Ok(bus)
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Commits `tx`, which recorded `events`, and announces them. Runs to
    /// the end even if the caller goes away, so a committed change is never
    /// left unannounced by a dropped request.
    pub async fn commit(
        self: &Arc<Self>,
        tx: WriteTx,
        events: Vec<StoredEvent>,
    ) -> sqlx::Result<()> {
        let bus = self.clone();
        let task = tokio::spawn(async move { bus.commit_and_announce(tx, events).await });
        match task.await {
            Ok(result) => result,
            Err(err) => {
                tracing::error!(cause = %err, "commit task failed");
                Err(sqlx::Error::WorkerCrashed)
            }
        }
    }

    async fn commit_and_announce(
        &self,
        mut tx: WriteTx,
        events: Vec<StoredEvent>,
    ) -> sqlx::Result<()> {
        let count = events.len() as u64;
        let metrics = self.hub.metrics();
        if self.postgres {
            for event in &events {
                notify(&mut tx, &announcement(event)).await?;
            }
            tx.commit().await?;
            metrics
                .events_recorded
                .fetch_add(count, std::sync::atomic::Ordering::Relaxed);
            return Ok(());
        }
        let _order = self.order.lock().await;
        tx.commit().await?;
        metrics
            .events_recorded
            .fetch_add(count, std::sync::atomic::Ordering::Relaxed);
        for event in &events {
            self.deliver(event).await;
        }
        Ok(())
    }

    /// Closes the connections of a session that logged out, on every instance.
    pub async fn end_session(&self, session: &str) {
        if self.postgres {
            let note =
                serde_json::to_string(&Note::SessionEnded(session.to_owned())).unwrap_or_default();
            let mut conn = match self.store.writes().acquire().await {
                Ok(conn) => conn,
                Err(err) => {
                    warn!(cause = %err, "cannot announce a logout; closing local connections only");
                    self.hub.end_session(session);
                    return;
                }
            };
            if let Err(err) = notify(&mut conn, &note).await {
                warn!(cause = %err, "cannot announce a logout; closing local connections only");
                self.hub.end_session(session);
            }
        } else {
            self.hub.end_session(session);
        }
    }

    /// Hands `event` to the hub, first filling any hole before it from the
    /// outbox.
    async fn deliver(&self, event: &StoredEvent) {
        let key: StreamKey = (event.topic.clone(), audience_of(&event.audience));
        for _ in 0..3 {
            let Published::Gap { after } = self.hub.publish(event) else {
                return;
            };
            let missing = event.seq - after - 1;
            match outbox::since(
                self.store.pool(),
                &key.0,
                key.1,
                after,
                missing.min(MAX_REPLAY),
            )
            .await
            {
                Ok(found) if found.len() as i64 == missing => {
                    for earlier in &found {
                        self.hub.publish(earlier);
                    }
                }
                Ok(_) => break,
                Err(err) => {
                    warn!(cause = %err, topic = %key.0, "cannot fill a hole in a stream");
                    break;
                }
            }
        }
        // Subscribers will see the hole and reload; better than silence.
        self.hub.reset(&key);
        self.hub.publish(event);
    }

    async fn on_note(&self, payload: &str) {
        match serde_json::from_str::<Note>(payload) {
            Ok(Note::Event(event)) => self.deliver(&event).await,
            Ok(Note::Ref {
                topic,
                audience,
                seq,
            }) => {
                let found = outbox::since(
                    self.store.pool(),
                    &topic,
                    audience_of(&audience),
                    seq - 1,
                    1,
                )
                .await;
                match found {
                    Ok(events) => {
                        for event in &events {
                            self.deliver(event).await;
                        }
                    }
                    Err(err) => warn!(cause = %err, %topic, seq, "cannot read an announced event"),
                }
            }
            Ok(Note::SessionEnded(session)) => self.hub.end_session(&session),
            Err(err) => warn!(cause = %err, "unreadable change notification"),
        }
    }

    /// After the listener lost its connection: every stream with
    /// subscribers catches up from the outbox.
    async fn refill(&self) {
        for (key, last) in self.hub.positions() {
            let Some(last) = last else { continue };
            match outbox::since(self.store.pool(), &key.0, key.1, last, MAX_REPLAY).await {
                Ok(events) => {
                    for event in &events {
                        self.deliver(event).await;
                    }
                }
                Err(err) => warn!(cause = %err, topic = %key.0, "cannot catch up a stream"),
            }
        }
    }
}

fn announcement(event: &StoredEvent) -> String {
    let full = serde_json::to_string(&Note::Event(event.clone())).unwrap_or_default();
    if full.len() <= MAX_NOTIFY_BYTES {
        return full;
    }
    serde_json::to_string(&Note::Ref {
        topic: event.topic.clone(),
        audience: event.audience.clone(),
        seq: event.seq,
    })
    .unwrap_or_default()
}

async fn notify(conn: &mut sqlx::AnyConnection, payload: &str) -> sqlx::Result<()> {
    sqlx::query("select pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(conn)
        .await
        .map(drop)
}

async fn listen(bus: std::sync::Weak<Bus>, mut listener: PgListener) {
    loop {
        let received = listener.try_recv().await;
        let Some(bus) = bus.upgrade() else { return };
        match received {
            Ok(Some(note)) => bus.on_note(note.payload()).await,
            Ok(None) => {
                info!("change listener reconnected; catching up from the outbox");
                bus.refill().await;
            }
            Err(err) => {
                warn!(cause = %err, "change listener failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}
