//! The hub: which connection holds which stream, and fan-out.
//!
//! A stream is a topic as one audience sees it (see [`Audience`]). Each
//! event is serialized once, on arrival, and the same bytes go to every
//! subscriber's [`Mailbox`]. The hub's one lock is never held across an
//! `.await`: fan-out only pushes into unbounded channels whose size the
//! mailbox itself bounds, in bytes. A stream is dropped with its last
//! subscriber.
//!
//! Replay: a stream keeps its most recent events in memory, so a client
//! that reconnects with `since` is usually served from there. Otherwise the
//! subscriber is attached in "catching up" state (live events are kept
//! aside for it), the outbox is read without the lock, and the two are
//! joined by `seq` under the lock: no gap, no duplicate.

use std::{
    collections::{hash_map::Entry, HashMap, HashSet, VecDeque},
    sync::{atomic::Ordering, Arc},
};

use parking_lot::Mutex;

use super::mailbox::{Mailbox, Out, SharedEvent};
use super::protocol::ServerFrame;
use crate::{
    metrics::Metrics,
    model::UserId,
    store::outbox::{Audience, Replay, StoredEvent},
};

/// A topic as one audience sees it.
pub type StreamKey = (String, Audience);

/// Events kept in memory per stream for replay.
pub const WINDOW: usize = 256;

/// Live events kept aside for one subscriber while it catches up from the
/// outbox; beyond this it gets `resync`.
const CATCH_UP_BUFFER: usize = 4096;

/// A connection's id in the hub.
pub type ConnId = u64;

#[derive(Debug)]
struct Conn {
    user: UserId,
    /// The hashed session id, for a connection authenticated by cookie.
    session: Option<String>,
    /// The share link's id, for a guest's connection.
    share: Option<String>,
    mailbox: Arc<Mailbox>,
    streams: HashSet<StreamKey>,
}

#[derive(Debug)]
enum SubState {
    Live,
    CatchingUp(Vec<Arc<SharedEvent>>),
    /// Too much arrived while catching up: answer `resync`.
    Overflowed,
}

#[derive(Debug)]
struct Sub {
    mailbox: Arc<Mailbox>,
    state: SubState,
    /// The last `seq` this subscriber was given: a catch-up may have read
    /// from the outbox events that are fanned out only afterwards, and
    /// those must not reach it twice.
    given: i64,
}

#[derive(Debug, Default)]
struct Stream {
    /// The last `seq` fanned out, once one has been.
    last: Option<i64>,
    /// The most recent events, contiguous, oldest first.
    window: VecDeque<Arc<SharedEvent>>,
    subs: HashMap<ConnId, Sub>,
    /// How many of `subs` each user has: a user who already holds the
    /// stream need not be authorized again (see [`Hub::audience_held`]).
    holders: HashMap<UserId, u32>,
}

#[derive(Debug, Default)]
struct Inner {
    streams: HashMap<StreamKey, Stream>,
    conns: HashMap<ConnId, Conn>,
    /// Live connections (sockets and SSE streams) per user, for the limit.
    conns_per_user: HashMap<UserId, usize>,
    next_id: ConnId,
}

/// How [`Hub::subscribe`] attached a subscriber.
#[derive(Debug, PartialEq, Eq)]
pub enum Attached {
    /// Already held: acknowledged again, nothing replayed.
    AlreadyHeld,
    /// Live now; any replay came from memory and is queued.
    Live,
    /// Needs the outbox: call [`Hub::finish_catch_up`].
    CatchingUp,
}

/// The connections of one process and the streams they hold.
#[derive(Debug)]
pub struct Hub {
    inner: Mutex<Inner>,
    metrics: Arc<Metrics>,
    /// Where notices given to a live connection are reported (see
    /// [`Hub::report_notices`]).
    notices: std::sync::OnceLock<NoticesGiven>,
}

/// A user's notices (their `user:{id}` stream) from after the first `seq`
/// up to the second, queued for one of their live connections: they were
/// seen, and need no mail.
pub type NoticesGiven = tokio::sync::mpsc::UnboundedSender<(UserId, i64, i64)>;

/// Why a connection was not registered.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManySockets;

/// The result of offering an event to the hub.
#[derive(Debug, PartialEq, Eq)]
pub enum Published {
    Done,
    /// Events between `after` and this one have not arrived: fetch them
    /// from the outbox and publish them first.
    Gap {
        after: i64,
    },
}

impl Hub {
    pub fn new(metrics: Arc<Metrics>) -> Hub {
        Hub {
            inner: Mutex::new(Inner::default()),
            metrics,
            notices: std::sync::OnceLock::new(),
        }
    }

    /// Reports from now on every range of a user's notices queued for one
    /// of their live connections to `to` (once per hub; later calls are
    /// ignored). The hub only sends: whoever holds the receiver records
    /// it, outside the hub's lock.
    pub fn report_notices(&self, to: NoticesGiven) {
        let _ = self.notices.set(to);
    }

    /// Reports `after..=upto` of `key`'s stream as given, when it is a
    /// user's notices.
    fn given(&self, key: &StreamKey, after: i64, upto: i64) {
        if upto <= after || key.1 != Audience::All {
            return;
        }
        let (Some(to), Some(user)) = (self.notices.get(), key.0.strip_prefix("user:")) else {
            return;
        };
        let _ = to.send((UserId(user.to_owned()), after, upto));
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Registers a connection (a socket or an SSE stream). One beyond
    /// `max_per_user` of its user's live connections is refused.
    pub fn register(
        &self,
        user: &UserId,
        session: Option<String>,
        mailbox: Arc<Mailbox>,
        max_per_user: usize,
    ) -> Result<ConnId, TooManySockets> {
        let mut inner = self.inner.lock();
        let count = inner.conns_per_user.entry(user.clone()).or_default();
        if *count >= max_per_user {
            return Err(TooManySockets);
        }
        *count += 1;
        inner.next_id += 1;
        let id = inner.next_id;
        inner.conns.insert(
            id,
            Conn {
                user: user.clone(),
                session,
                share: None,
                mailbox,
                streams: HashSet::new(),
            },
        );
        Ok(id)
    }

    /// Forgets a connection and every stream it held.
    pub fn unregister(&self, id: ConnId) {
        let mut inner = self.inner.lock();
        let Some(conn) = inner.conns.remove(&id) else {
            return;
        };
        if let Entry::Occupied(mut count) = inner.conns_per_user.entry(conn.user.clone()) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
        let held = conn.streams.len() as i64;
        for key in conn.streams {
            Self::detach(&mut inner, id, &conn.user, &key);
        }
        self.metrics
            .subscriptions
            .fetch_sub(held, Ordering::Relaxed);
    }

    fn detach(inner: &mut Inner, id: ConnId, user: &UserId, key: &StreamKey) {
        if let Entry::Occupied(mut stream) = inner.streams.entry(key.clone()) {
            let held = stream.get_mut();
            held.subs.remove(&id);
            if let Entry::Occupied(mut count) = held.holders.entry(user.clone()) {
                *count.get_mut() -= 1;
                if *count.get() == 0 {
                    count.remove();
                }
            }
            if stream.get().subs.is_empty() {
                stream.remove();
            }
        }
    }

    /// The audience with which `user` already holds `topic` on a live
    /// connection of this process. Access to a topic is checked once per
    /// user and topic rather than once per socket: after a restart every
    /// tab of a family reconnects at once, and each would otherwise cost
    /// the same database lookups. The answer is only as old as that other
    /// subscription, which itself stays granted.
    pub fn audience_held(&self, user: &UserId, topic: &str) -> Option<Audience> {
        let mut key = (topic.to_owned(), Audience::All);
        let inner = self.inner.lock();
        [Audience::Members, Audience::Recipient, Audience::All]
            .into_iter()
            .find(|&audience| {
                key.1 = audience;
                inner
                    .streams
                    .get(&key)
                    .is_some_and(|stream| stream.holders.contains_key(user))
            })
    }

    /// How many streams connection `id` holds.
    pub fn held(&self, id: ConnId) -> usize {
        self.inner
            .lock()
            .conns
            .get(&id)
            .map_or(0, |conn| conn.streams.len())
    }

    /// Whether connection `id` holds `key`.
    pub fn holds(&self, id: ConnId, key: &StreamKey) -> bool {
        self.inner
            .lock()
            .conns
            .get(&id)
            .is_some_and(|conn| conn.streams.contains(key))
    }

    /// Whether connection `id` holds `topic`, for whichever audience.
    pub fn holds_topic(&self, id: ConnId, topic: &str) -> bool {
        self.inner
            .lock()
            .conns
            .get(&id)
            .is_some_and(|conn| conn.streams.iter().any(|(held, _)| held == topic))
    }

    /// The last `seq` a stream has seen, when the hub holds the stream and
    /// knows it. A subscriber to a stream the hub does not know yet reads
    /// it from the outbox and passes it to [`Hub::subscribe`].
    pub fn position(&self, key: &StreamKey) -> Option<i64> {
        self.inner
            .lock()
            .streams
            .get(key)
            .and_then(|stream| stream.last)
    }

    /// Attaches connection `id` to a stream. Without `since` it is live at
    /// once; with it, the events after `since` are replayed from memory
    /// when the window holds them all (and they fit the replay budget),
    /// else the caller must read the outbox and call
    /// [`Hub::finish_catch_up`]. `outbox_last` is the stream's last `seq`
    /// as the outbox had it, for a stream whose position the hub does not
    /// know yet: with it, a listener that drops later knows where to
    /// refill from even if no event has arrived meanwhile.
    pub fn subscribe(
        &self,
        id: ConnId,
        key: &StreamKey,
        since: Option<i64>,
        outbox_last: Option<i64>,
    ) -> Attached {
        self.attach(&mut self.inner.lock(), id, key, since, outbox_last)
    }

    /// Queues `reply` (the `subscribed` frame) and attaches every stream of
    /// `streams` (key, `since`, `outbox_last`, as for [`Hub::subscribe`]),
    /// under one lock: an event that is published once the client can have
    /// read the reply finds the streams attached, and comes after the reply.
    pub fn subscribe_replying(
        &self,
        id: ConnId,
        reply: Out,
        streams: &[(StreamKey, Option<i64>, Option<i64>)],
    ) -> Vec<Attached> {
        let mut inner = self.inner.lock();
        if let Some(conn) = inner.conns.get(&id) {
            conn.mailbox.push(reply);
        }
        streams
            .iter()
            .map(|(key, since, outbox_last)| self.attach(&mut inner, id, key, *since, *outbox_last))
            .collect()
    }

    fn attach(
        &self,
        inner: &mut Inner,
        id: ConnId,
        key: &StreamKey,
        since: Option<i64>,
        outbox_last: Option<i64>,
    ) -> Attached {
        let Some(conn) = inner.conns.get_mut(&id) else {
            return Attached::AlreadyHeld;
        };
        if !conn.streams.insert(key.clone()) {
            return Attached::AlreadyHeld;
        }
        let mailbox = conn.mailbox.clone();
        let user = conn.user.clone();
        self.metrics.subscriptions.fetch_add(1, Ordering::Relaxed);
        let stream = inner.streams.entry(key.clone()).or_default();
        if stream.last.is_none() {
            stream.last = outbox_last;
        }
        let state = match (since, stream.last) {
            (None, _) => SubState::Live,
            (Some(since), Some(last)) if since == last => SubState::Live,
            (Some(since), Some(last))
                if since < last
                    && stream
                        .window
                        .front()
                        .is_some_and(|first| first.seq <= since + 1) =>
            {
                let missed = stream.window.iter().filter(|event| event.seq > since);
                let bytes: usize = missed.clone().map(|event| event.text.len()).sum();
                if bytes > mailbox.replay_budget() {
                    self.queue_resync(&mailbox, &key.0, last, None);
                } else {
                    let mut replayed = 0;
                    for event in missed {
                        mailbox.push(Out::Event(event.clone()));
                        replayed += 1;
                    }
                    self.given(key, since, last);
                    Metrics::inc(&self.metrics.replays);
                    self.metrics
                        .events_delivered
                        .fetch_add(replayed, Ordering::Relaxed);
                }
                SubState::Live
            }
            _ => SubState::CatchingUp(Vec::new()),
        };
        let attached = match state {
            SubState::Live => Attached::Live,
            _ => Attached::CatchingUp,
        };
        stream.subs.insert(
            id,
            Sub {
                mailbox,
                state,
                given: 0,
            },
        );
        *stream.holders.entry(user).or_default() += 1;
        attached
    }

    /// Queues a `resync` for one subscriber.
    fn queue_resync(&self, mailbox: &Mailbox, topic: &str, seq: i64, id: Option<String>) {
        Metrics::inc(&self.metrics.resyncs);
        let frame = ServerFrame::Resync {
            topic: topic.to_owned(),
            seq,
            id,
        };
        mailbox.push(Out::Resync(
            serde_json::to_string(&frame).unwrap_or_default().into(),
        ));
    }

    /// Joins what the outbox said with the live events kept aside since
    /// [`Hub::subscribe`], queues them in `seq` order after `since` (or a
    /// `resync` when they cannot all be had, or would not fit the replay
    /// budget), and makes the subscriber live.
    pub fn finish_catch_up(
        &self,
        id: ConnId,
        key: &StreamKey,
        since: i64,
        replay: Replay,
        request_id: Option<String>,
    ) {
        let mut inner = self.inner.lock();
        let Some(stream) = inner.streams.get_mut(key) else {
            return;
        };
        let stream_last = stream.last;
        let Some(sub) = stream.subs.get_mut(&id) else {
            return;
        };
        let kept = match std::mem::replace(&mut sub.state, SubState::Live) {
            SubState::CatchingUp(kept) => Some(kept),
            SubState::Overflowed => None,
            SubState::Live => return,
        };
        let mailbox = sub.mailbox.clone();
        let budget = mailbox.replay_budget();
        let mut queued = Vec::new();
        // A `since` at the very end of the number line can have no next.
        let mut complete = kept.is_some() && replay.events.is_some() && since < i64::MAX;
        if let (true, Some(kept), Some(events)) = (complete, kept, replay.events) {
            let mut next = since + 1;
            let mut bytes = 0;
            let from_outbox = events.iter().filter_map(SharedEvent::from_stored);
            for event in from_outbox.chain(kept) {
                if event.seq < next {
                    continue;
                }
                bytes += event.text.len();
                if event.seq > next || bytes > budget {
                    complete = false;
                    break;
                }
                next += 1;
                queued.push(event);
            }
        }
        if complete {
            sub.given = queued.last().map_or(since, |event| event.seq);
            if !queued.is_empty() {
                Metrics::inc(&self.metrics.replays);
            }
            self.metrics
                .events_delivered
                .fetch_add(queued.len() as u64, Ordering::Relaxed);
            for event in queued {
                mailbox.push(Out::Event(event));
            }
            self.given(key, since, sub.given);
        } else {
            let seq = replay.last.max(stream_last.unwrap_or(0));
            sub.given = seq;
            self.queue_resync(&mailbox, &key.0, seq, request_id);
        }
    }

    /// Detaches connection `id` from a stream; false if it did not hold it.
    pub fn unsubscribe(&self, id: ConnId, key: &StreamKey) -> bool {
        let mut inner = self.inner.lock();
        let Some(conn) = inner.conns.get_mut(&id) else {
            return false;
        };
        if !conn.streams.remove(key) {
            return false;
        }
        let user = conn.user.clone();
        Self::detach(&mut inner, id, &user, key);
        self.metrics.subscriptions.fetch_sub(1, Ordering::Relaxed);
        true
    }

    /// Fans a committed event out to its stream's subscribers. Events of a
    /// stream must arrive in `seq` order; a hole is reported, not skipped.
    pub fn publish(&self, stored: &StoredEvent) -> Published {
        let key = (stored.topic.clone(), stored.audience);
        let mut inner = self.inner.lock();
        let Some(stream) = inner.streams.get_mut(&key) else {
            return Published::Done;
        };
        match stream.last {
            Some(last) if stored.seq <= last => return Published::Done,
            Some(last) if stored.seq > last + 1 => return Published::Gap { after: last },
            _ => {}
        }
        let Some(event) = SharedEvent::from_stored(stored) else {
            return Published::Done;
        };
        stream.last = Some(event.seq);
        if stream.window.len() == WINDOW {
            stream.window.pop_front();
        }
        stream.window.push_back(event.clone());
        let mut delivered = 0;
        for sub in stream.subs.values_mut() {
            match &mut sub.state {
                SubState::Live if event.seq <= sub.given => {}
                SubState::Live => {
                    sub.given = event.seq;
                    if sub.mailbox.push(Out::Event(event.clone())) {
                        delivered += 1;
                    }
                }
                SubState::CatchingUp(kept) if kept.len() < CATCH_UP_BUFFER => {
                    kept.push(event.clone())
                }
                state => *state = SubState::Overflowed,
            }
        }
        self.metrics
            .events_delivered
            .fetch_add(delivered, Ordering::Relaxed);
        if delivered > 0 {
            self.given(&key, event.seq - 1, event.seq);
        }
        Published::Done
    }

    /// Tells every subscriber of a stream to reload (`resync` at `seq`) and
    /// carries on from there: for when events before `seq` cannot be had
    /// (a hole in the outbox, a listener that lost too much). Never a
    /// silent gap.
    pub fn resync_stream(&self, key: &StreamKey, seq: i64) {
        let mut inner = self.inner.lock();
        let Some(stream) = inner.streams.get_mut(key) else {
            return;
        };
        stream.last = Some(seq);
        stream.window.clear();
        for sub in stream.subs.values_mut() {
            match sub.state {
                SubState::Live => self.queue_resync(&sub.mailbox, &key.0, seq, None),
                // Its catch-up will find the hole and answer resync itself.
                _ => sub.state = SubState::Overflowed,
            }
        }
    }

    /// The streams with subscribers and the last `seq` each has seen (when
    /// known).
    pub fn positions(&self) -> Vec<(StreamKey, Option<i64>)> {
        self.inner
            .lock()
            .streams
            .iter()
            .map(|(key, stream)| (key.clone(), stream.last))
            .collect()
    }

    /// Closes every connection opened with this session (logout): 1008.
    pub fn end_session(&self, session: &str) {
        let inner = self.inner.lock();
        for conn in inner.conns.values() {
            if conn.session.as_deref() == Some(session) {
                conn.mailbox
                    .close(super::protocol::close::POLICY, "logged out");
            }
        }
    }

    /// Closes every connection of `user` except those opened with the
    /// session hashed `keep` (a password reset or change, "log out
    /// everywhere"): 1008.
    pub fn end_user(&self, user: &UserId, keep: Option<&str>) {
        let inner = self.inner.lock();
        for conn in inner.conns.values() {
            if &conn.user == user && (keep.is_none() || conn.session.as_deref() != keep) {
                conn.mailbox
                    .close(super::protocol::close::POLICY, "logged out");
            }
        }
    }

    /// Takes `topics` from every connection of `user` (who left a family,
    /// or was removed from it): each held topic is answered with `error`
    /// `forbidden` naming it, and nothing of it arrives any more. The
    /// connections themselves stay, with whatever else they hold.
    pub fn end_access(&self, user: &UserId, topics: &[String]) {
        let topics: HashSet<&str> = topics.iter().map(String::as_str).collect();
        let mut inner = self.inner.lock();
        let mut dropped = Vec::new();
        for (&id, conn) in inner.conns.iter_mut() {
            if &conn.user != user {
                continue;
            }
            let lost: Vec<StreamKey> = conn
                .streams
                .iter()
                .filter(|(topic, _)| topics.contains(topic.as_str()))
                .cloned()
                .collect();
            let mut told = HashSet::new();
            for key in lost {
                conn.streams.remove(&key);
                if told.insert(key.0.clone()) {
                    conn.mailbox.push(Out::frame(&ServerFrame::Error {
                        code: "forbidden".into(),
                        message: "you are no longer a member of this family".into(),
                        topic: Some(key.0.clone()),
                        id: None,
                    }));
                }
                dropped.push((id, key));
            }
        }
        let count = dropped.len() as i64;
        for (id, key) in dropped {
            Self::detach(&mut inner, id, user, &key);
        }
        self.metrics
            .subscriptions
            .fetch_sub(count, Ordering::Relaxed);
    }

    /// Marks connection `id` as a guest's, opened with share link `share`
    /// (see [`Hub::end_share`]).
    pub fn set_share(&self, id: ConnId, share: &str) {
        if let Some(conn) = self.inner.lock().conns.get_mut(&id) {
            conn.share = Some(share.to_owned());
        }
    }

    /// Closes every connection opened with share link `share` (revoked):
    /// 4401.
    pub fn end_share(&self, share: &str) {
        let inner = self.inner.lock();
        for conn in inner.conns.values() {
            if conn.share.as_deref() == Some(share) {
                conn.mailbox
                    .close(super::protocol::close::UNAUTHORIZED, "link revoked");
            }
        }
    }

    /// Closes every connection (shutdown): 1001 would say "going away",
    /// but the protocol's list has 1000.
    pub fn close_all(&self) {
        for conn in self.inner.lock().conns.values() {
            conn.mailbox
                .close(super::protocol::close::NORMAL, "server shutting down");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(hub: &Hub, user: &str) -> ConnId {
        let mailbox = Mailbox::new(64 * 1024, hub.metrics().clone());
        hub.register(&UserId(user.into()), None, mailbox, 16)
            .expect("registered")
    }

    fn stored(topic: &str, seq: i64) -> StoredEvent {
        StoredEvent {
            topic: topic.to_owned(),
            audience: Audience::Members,
            seq,
            event: "UPDATED".into(),
            entity_id: "l_1".into(),
            payload: "{}".into(),
            user_id: None,
            tenant_id: None,
            created_at: "2026-12-02T10:00:00.000Z".into(),
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        }
    }

    /// What a mailbox holds, in order: event seqs, and `resync` as -seq.
    async fn drain(mailbox: &Mailbox) -> Vec<i64> {
        let mut got = Vec::new();
        while mailbox.queued() > 0 {
            match mailbox.recv().await {
                Out::Event(event) => got.push(event.seq),
                Out::Resync(text) => {
                    let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
                    got.push(-frame["seq"].as_i64().unwrap());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        got
    }

    /// A subscriber catching up from `since` = 2 while live events 6..=9
    /// arrive: whatever part of them the outbox read also saw (it may
    /// have run before, during or after them), the subscriber gets 3..=9
    /// once each, in order.
    #[tokio::test]
    async fn catching_up_joins_the_outbox_and_live_events_at_every_boundary() {
        let topic = "gift-list:l_1";
        let key = (topic.to_owned(), Audience::Members);
        for outbox_up_to in 5..=9 {
            for live_before_read in 0..=4 {
                let hub = Hub::new(Arc::new(Metrics::default()));
                let mailbox = Mailbox::new(1 << 20, hub.metrics().clone());
                let id = hub
                    .register(&UserId("u_1".into()), None, mailbox.clone(), 16)
                    .unwrap();
                assert_eq!(
                    hub.subscribe(id, &key, Some(2), Some(5)),
                    Attached::CatchingUp
                );
                // Live events: some before the subscriber's outbox read
                // answers, the rest after (then the subscriber is live).
                for seq in 6..6 + live_before_read {
                    assert_eq!(hub.publish(&stored(topic, seq)), Published::Done);
                }
                let replay = Replay {
                    last: outbox_up_to,
                    events: Some((3..=outbox_up_to).map(|seq| stored(topic, seq)).collect()),
                };
                hub.finish_catch_up(id, &key, 2, replay, None);
                for seq in 6 + live_before_read..=9 {
                    assert_eq!(hub.publish(&stored(topic, seq)), Published::Done);
                }
                assert_eq!(
                    drain(&mailbox).await,
                    (3..=9).collect::<Vec<_>>(),
                    "outbox up to {outbox_up_to}, {live_before_read} live events before"
                );
            }
        }
    }

    /// A hole between the outbox and the kept events, or a replay over the
    /// budget, answers `resync` at the stream's end instead of a gap.
    #[tokio::test]
    async fn catching_up_with_a_hole_or_too_much_is_a_resync() {
        let topic = "gift-list:l_1";
        let key = (topic.to_owned(), Audience::Members);
        let hub = Hub::new(Arc::new(Metrics::default()));
        let mailbox = Mailbox::new(1 << 20, hub.metrics().clone());
        let id = hub
            .register(&UserId("u_1".into()), None, mailbox.clone(), 16)
            .unwrap();
        hub.subscribe(id, &key, Some(2), Some(5));
        hub.publish(&stored(topic, 6));
        hub.publish(&stored(topic, 7));
        // The outbox read returned 3 and 5 but not 4.
        let replay = Replay {
            last: 5,
            events: Some(vec![stored(topic, 3), stored(topic, 5)]),
        };
        hub.finish_catch_up(id, &key, 2, replay, None);
        assert_eq!(drain(&mailbox).await, vec![-7]);

        // A queue of 600 bytes has a 300-byte replay budget: a few events.
        let small = Mailbox::new(600, hub.metrics().clone());
        let id = hub
            .register(&UserId("u_2".into()), None, small.clone(), 16)
            .unwrap();
        let other = ("gift-list:l_2".to_owned(), Audience::Members);
        assert_eq!(
            hub.subscribe(id, &other, Some(0), Some(20)),
            Attached::CatchingUp
        );
        let replay = Replay {
            last: 20,
            events: Some((1..=20).map(|seq| stored("gift-list:l_2", seq)).collect()),
        };
        hub.finish_catch_up(id, &other, 0, replay, None);
        assert_eq!(drain(&small).await, vec![-20]);
    }

    /// A topic's audience is remembered only while the same user holds the
    /// topic on some connection, and never for another user.
    #[test]
    fn an_audience_is_reused_only_while_its_user_holds_the_topic() {
        let hub = Hub::new(Arc::new(Metrics::default()));
        let (ann, ann2, ben) = (
            connect(&hub, "u_ann"),
            connect(&hub, "u_ann"),
            connect(&hub, "u_ben"),
        );
        let ann_id = UserId("u_ann".into());
        let key = ("gift-list:l_1".to_owned(), Audience::Recipient);
        assert_eq!(hub.audience_held(&ann_id, &key.0), None);
        hub.subscribe(ann, &key, None, Some(0));
        hub.subscribe(ann2, &key, None, Some(0));
        assert_eq!(
            hub.audience_held(&ann_id, &key.0),
            Some(Audience::Recipient)
        );
        assert_eq!(hub.audience_held(&UserId("u_ben".into()), &key.0), None);
        hub.subscribe(
            ben,
            &("gift-list:l_1".to_owned(), Audience::Members),
            None,
            Some(0),
        );
        assert_eq!(
            hub.audience_held(&ann_id, &key.0),
            Some(Audience::Recipient)
        );
        assert!(hub.unsubscribe(ann, &key));
        assert_eq!(
            hub.audience_held(&ann_id, &key.0),
            Some(Audience::Recipient)
        );
        hub.unregister(ann2);
        assert_eq!(hub.audience_held(&ann_id, &key.0), None);
    }
}
