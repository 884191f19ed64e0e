//! The bus: how a committed event reaches the hubs.
//!
//! On SQLite there is one process: the event goes to its hub right after
//! the commit. On PostgreSQL there may be several instances behind a load
//! balancer, so every event is announced with `pg_notify` inside the
//! change's own transaction: PostgreSQL delivers notifications only on
//! commit and in commit order, which for one stream is `seq` order. Each
//! instance listens and fans out to its own sockets; any hole (a dropped
//! listener connection) is filled from the outbox.
//!
//! The listener's connection is ours to mend: after any error the task
//! drops it, connects and listens afresh (with a growing pause), and only
//! then refills every stream the hub holds from the outbox, or sends it
//! `resync` when too much was missed. Notifications sent while it was away
//! are lost by PostgreSQL's design; the refill is what makes that lossless.

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgListener};
use tracing::{info, warn};

use super::hub::{Hub, Published, StreamKey};
use crate::{
    error::StartError,
    store::{
        outbox::{self, Audience, StoredEvent},
        Store, WriteTx,
    },
};

/// The PostgreSQL notification channel.
const CHANNEL: &str = "giftlist_live";

/// A notification's payload must stay under PostgreSQL's 8000 bytes; a
/// bigger event is announced by reference and read from the outbox.
const MAX_NOTIFY_BYTES: usize = 7000;

/// The listener's connection shows under this name in `pg_stat_activity`.
pub const LISTENER_APPLICATION_NAME: &str = "giftlist-listener";

/// Pauses between attempts to get the listener back: doubling, capped.
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Note {
    Event(StoredEvent),
    Ref {
        topic: String,
        audience: Audience,
        seq: i64,
    },
    /// A logout: close the connections opened with this (hashed) session.
    SessionEnded(String),
    /// A revoked share link: close the guest connections opened with it.
    ShareEnded(String),
    /// A user's sessions ended (all but `keep`, a hashed session id):
    /// close their connections.
    UserEnded {
        user: crate::model::UserId,
        keep: Option<String>,
    },
    /// A user left a family (or was removed): their connections lose
    /// these topics.
    AccessEnded {
        user: crate::model::UserId,
        topics: Vec<String>,
    },
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
    /// Whether committed events reach this instance: always on SQLite; on
    /// PostgreSQL while the listener is connected (and caught up after a
    /// loss). `/readyz` says so.
    listening: std::sync::atomic::AtomicBool,
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
            listening: std::sync::atomic::AtomicBool::new(true),
        });
        if postgres {
            let options: PgConnectOptions = url
                .parse::<PgConnectOptions>()
                .map_err(|err| StartError::Database(format!("listening for changes: {err}")))?
                .application_name(LISTENER_APPLICATION_NAME);
            let listener = connect_listener(&options)
                .await
                .map_err(|err| StartError::Database(format!("listening for changes: {err}")))?;
            let task = tokio::spawn(listen(Arc::downgrade(&bus), options, listener));
            let _ = bus.listener.set(task.abort_handle());
        }
        Ok(bus)
    }

    /// Whether committed events reach this instance now (see `/readyz`).
    pub fn is_listening(&self) -> bool {
        self.listening.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set_listening(&self, listening: bool) {
        self.listening
            .store(listening, std::sync::atomic::Ordering::Relaxed);
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
        self.announce_end(Note::SessionEnded(session.to_owned()))
            .await;
    }

    /// Closes the guest connections of a revoked share link, on every
    /// instance (4401).
    pub async fn end_share(&self, share: &str) {
        self.announce_end(Note::ShareEnded(share.to_owned())).await;
    }

    /// Closes `user`'s connections but those of session `keep`, on every
    /// instance (1008).
    pub async fn end_user(&self, user: &crate::model::UserId, keep: Option<&str>) {
        self.announce_end(Note::UserEnded {
            user: user.clone(),
            keep: keep.map(str::to_owned),
        })
        .await;
    }

    /// Takes `topics` from `user`'s connections on every instance (they
    /// left the family the topics belong to).
    pub async fn end_access(&self, user: &crate::model::UserId, topics: Vec<String>) {
        // A notification holds at most 8000 bytes: a family with many
        // lists is announced in parts (a topic is at most 255 bytes).
        for part in topics.chunks(24) {
            self.announce_end(Note::AccessEnded {
                user: user.clone(),
                topics: part.to_vec(),
            })
            .await;
        }
    }

    /// Announces a logout or a revocation to every instance; when it cannot
    /// be announced, at least this instance's connections are closed.
    async fn announce_end(&self, note: Note) {
        if self.postgres {
            let text = serde_json::to_string(&note).unwrap_or_default();
            let sent = match self.store.writes().acquire().await {
                Ok(mut conn) => notify(&mut conn, &text).await,
                Err(err) => Err(err),
            };
            match sent {
                Ok(()) => return,
                Err(err) => {
                    warn!(cause = %err, "cannot announce an ending; closing local connections only")
                }
            }
        }
        self.end_here(&note);
    }

    fn end_here(&self, note: &Note) {
        match note {
            Note::SessionEnded(session) => self.hub.end_session(session),
            Note::ShareEnded(share) => self.hub.end_share(share),
            Note::UserEnded { user, keep } => self.hub.end_user(user, keep.as_deref()),
            Note::AccessEnded { user, topics } => self.hub.end_access(user, topics),
            Note::Event(_) | Note::Ref { .. } => {}
        }
    }

    /// Hands `event` to the hub, first filling any hole before it from the
    /// outbox. A hole that cannot be filled makes the stream's subscribers
    /// `resync` at this event: they reload, and nothing is silently skipped.
    async fn deliver(&self, event: &StoredEvent) {
        let key: StreamKey = (event.topic.clone(), event.audience);
        for _ in 0..3 {
            let Published::Gap { after } = self.hub.publish(event) else {
                return;
            };
            let missing = event.seq - after - 1;
            if missing > outbox::MAX_REPLAY {
                break;
            }
            match outbox::since(self.store.pool(), &key.0, key.1, after, missing).await {
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
        warn!(topic = %key.0, seq = event.seq, "a hole in a stream could not be filled; sending resync");
        self.hub.resync_stream(&key, event.seq);
    }

    async fn on_note(&self, payload: &str) {
        match serde_json::from_str::<Note>(payload) {
            Ok(Note::Event(event)) => self.deliver(&event).await,
            Ok(Note::Ref {
                topic,
                audience,
                seq,
            }) => {
                let found = outbox::since(self.store.pool(), &topic, audience, seq - 1, 1).await;
                match found {
                    Ok(events) => {
                        for event in &events {
                            self.deliver(event).await;
                        }
                    }
                    Err(err) => warn!(cause = %err, %topic, seq, "cannot read an announced event"),
                }
            }
            Ok(
                note @ (Note::SessionEnded(_)
                | Note::ShareEnded(_)
                | Note::UserEnded { .. }
                | Note::AccessEnded { .. }),
            ) => self.end_here(&note),
            Err(err) => warn!(cause = %err, "unreadable change notification"),
        }
    }

    /// After the listener was away: every stream the hub holds catches up
    /// from the outbox, or is sent `resync` when it missed too much (or
    /// its position was never known).
    async fn refill(&self) {
        for (key, last) in self.hub.positions() {
            let outbox_last = match outbox::last_seq(self.store.pool(), &key.0, key.1).await {
                Ok(seq) => seq,
                Err(err) => {
                    warn!(cause = %err, topic = %key.0, "cannot catch up a stream; sending resync");
                    if let Some(last) = last {
                        self.hub.resync_stream(&key, last);
                    }
                    continue;
                }
            };
            let Some(last) = last.filter(|&last| outbox_last - last <= outbox::MAX_REPLAY) else {
                self.hub.resync_stream(&key, outbox_last);
                continue;
            };
            if outbox_last <= last {
                continue;
            }
            match outbox::since(self.store.pool(), &key.0, key.1, last, outbox::MAX_REPLAY).await {
                Ok(events) => {
                    for event in &events {
                        self.deliver(event).await;
                    }
                }
                Err(err) => {
                    warn!(cause = %err, topic = %key.0, "cannot catch up a stream; sending resync");
                    self.hub.resync_stream(&key, outbox_last);
                }
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
        audience: event.audience,
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

/// A listener connection that is listening on [`CHANNEL`].
async fn connect_listener(options: &PgConnectOptions) -> sqlx::Result<PgListener> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with(options.clone());
    let mut listener = PgListener::connect_with(&pool).await?;
    // sqlx would otherwise reconnect inside `try_recv` by itself, and a
    // reconnect that happens there is one this task never hears of.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// The listening task: notifications to the hub, and after any trouble a
/// fresh connection and a refill.
async fn listen(bus: std::sync::Weak<Bus>, options: PgConnectOptions, mut listener: PgListener) {
    loop {
        let received = listener.try_recv().await;
        let Some(strong) = bus.upgrade() else { return };
        match received {
            Ok(Some(note)) => {
                strong.on_note(note.payload()).await;
                continue;
            }
            Ok(None) => warn!("change listener lost its connection; reconnecting"),
            Err(err) => warn!(cause = %err, "change listener failed; reconnecting"),
        }
        strong.set_listening(false);
        drop(strong);
        drop(listener);
        let mut pause = RECONNECT_FIRST;
        listener = loop {
            match connect_listener(&options).await {
                Ok(listener) => break listener,
                Err(err) => {
                    warn!(cause = %err, pause_ms = pause.as_millis() as u64, "change listener cannot reconnect yet");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(RECONNECT_MAX);
                    if bus.strong_count() == 0 {
                        return;
                    }
                }
            }
        };
        let Some(strong) = bus.upgrade() else { return };
        info!("change listener is back; catching up from the outbox");
        strong.refill().await;
        strong.set_listening(true);
    }
}
