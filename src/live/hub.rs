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
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
};

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::protocol::ServerFrame;
use crate::{
    metrics::Metrics,
    model::UserId,
    service::changes::event_frame,
    store::outbox::{Audience, StoredEvent},
};

/// A topic as one audience sees it.
pub type StreamKey = (String, Audience);

/// Events kept in memory per stream for replay.
pub const WINDOW: usize = 256;

/// Live events kept aside for one subscriber while it catches up from the
/// outbox; beyond this it gets `resync`.
const CATCH_UP_BUFFER: usize = 4096;

/// An event frame, serialized once for its stream.
#[derive(Debug)]
pub struct SharedEvent {
    pub seq: i64,
    /// The event name (`ADDED`, ...), for SSE's `event:` line.
    pub event: String,
    /// The frame as JSON text.
    pub text: Utf8Bytes,
}

impl SharedEvent {
    /// Serializes an outbox row as its event frame; `None` (logged) when
    /// the stored payload is not JSON, which only a bug could cause.
    pub fn from_stored(stored: &StoredEvent) -> Option<Arc<SharedEvent>> {
        let frame = event_frame(stored.clone()).ok()?;
        let text = serde_json::to_string(&frame).ok()?;
        Some(Arc::new(SharedEvent {
            seq: stored.seq,
            event: stored.event.clone(),
            text: text.into(),
        }))
    }
}

/// What a connection's writer sends next.
#[derive(Clone, Debug)]
pub enum Out {
    /// A control frame: `welcome`, `subscribed`, `error`, `pong`, ...
    Frame(Utf8Bytes),
    /// A `resync` frame (SSE labels it).
    Resync(Utf8Bytes),
    Event(Arc<SharedEvent>),
    /// Close with this code and reason; nothing is sent after it.
    Close(u16, &'static str),
}

impl Out {
    /// A control frame from its type.
    pub fn frame(frame: &ServerFrame) -> Out {
        Out::Frame(serde_json::to_string(frame).unwrap_or_default().into())
    }

    fn len(&self) -> usize {
        match self {
            Out::Frame(text) | Out::Resync(text) => text.len(),
            Out::Event(event) => event.text.len(),
            Out::Close(..) => 0,
        }
    }
}

/// One connection's outbound queue, bounded in bytes. A push that would
/// overflow it closes the connection with 4429 instead: a slow reader
/// never holds up the others, and never grows without bound. A plain
/// deque: an idle socket's queue holds no allocation beyond its last burst.
#[derive(Debug)]
pub struct Mailbox {
    queue: Mutex<VecDeque<Out>>,
    ready: Notify,
    queued: AtomicUsize,
    limit: usize,
    closed: AtomicBool,
    /// Signalled when the mailbox closes, so a writer stuck on a dead peer
    /// can be given up on.
    pub closing: Notify,
    metrics: Arc<Metrics>,
}

/// Capacity an emptied queue keeps.
const IDLE_QUEUE_CAPACITY: usize = 8;

impl Mailbox {
    /// A mailbox holding at most `limit` bytes of frames.
    pub fn new(limit: usize, metrics: Arc<Metrics>) -> Arc<Mailbox> {
        Arc::new(Mailbox {
            queue: Mutex::new(VecDeque::new()),
            ready: Notify::new(),
            queued: AtomicUsize::new(0),
            limit,
            closed: AtomicBool::new(false),
            closing: Notify::new(),
            metrics,
        })
    }

    /// Queues `out`; false when the mailbox is closed or just overflowed.
    pub fn push(&self, out: Out) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        let len = out.len();
        let before = self.queued.fetch_add(len, Ordering::AcqRel);
        if before + len > self.limit {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            if self.close(
                super::protocol::close::TOO_SLOW,
                "too slow: the queue is full",
            ) {
                Metrics::inc(&self.metrics.queue_overflows);
            }
            return false;
        }
        self.queue.lock().push_back(out);
        self.ready.notify_one();
        true
    }

    /// Queues a close; true if this call closed it. Later pushes are dropped.
    pub fn close(&self, code: u16, reason: &'static str) -> bool {
        if self.closed.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.queue.lock().push_back(Out::Close(code, reason));
        self.ready.notify_one();
        self.closing.notify_one();
        true
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Bytes of frames waiting to be written.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// The most a replay may queue at once: half the mailbox, so a replay
    /// never overflows it (which would close the connection, and the
    /// reconnect with the same `since` would overflow it again).
    pub fn replay_budget(&self) -> usize {
        self.limit / 2
    }

    /// The next thing to send, waiting for it. For the one writer of this
    /// connection.
    pub async fn recv(&self) -> Out {
        loop {
            {
                let mut queue = self.queue.lock();
                if let Some(out) = queue.pop_front() {
                    self.queued.fetch_sub(out.len(), Ordering::AcqRel);
                    if queue.is_empty() && queue.capacity() > IDLE_QUEUE_CAPACITY {
                        queue.shrink_to(IDLE_QUEUE_CAPACITY);
                    }
                    return out;
                }
            }
            self.ready.notified().await;
        }
    }
}

/// A connection's id in the hub.
pub type ConnId = u64;

#[derive(Debug)]
struct Conn {
    user: UserId,
    /// The hashed session id, for a connection authenticated by cookie.
    session: Option<String>,
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
}

#[derive(Debug, Default)]
struct Stream {
    /// The last `seq` fanned out, once one has been.
    last: Option<i64>,
    /// The most recent events, contiguous, oldest first.
    window: VecDeque<Arc<SharedEvent>>,
    subs: HashMap<ConnId, Sub>,
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

/// What the outbox said, for [`Hub::finish_catch_up`].
#[derive(Debug)]
pub struct Replay {
    /// The stream's last `seq` in the outbox.
    pub last: i64,
    /// The events after `since`, or `None` when they cannot be replayed.
    pub events: Option<Vec<StoredEvent>>,
}

/// The connections of one process and the streams they hold.
#[derive(Debug)]
pub struct Hub {
    inner: Mutex<Inner>,
    metrics: Arc<Metrics>,
}

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
        }
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
        if let Entry::Occupied(mut count) = inner.conns_per_user.entry(conn.user) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
        let held = conn.streams.len() as i64;
        for key in conn.streams {
            Self::detach(&mut inner, id, &key);
        }
        self.metrics
            .subscriptions
            .fetch_sub(held, Ordering::Relaxed);
    }

    fn detach(inner: &mut Inner, id: ConnId, key: &StreamKey) {
        if let Entry::Occupied(mut stream) = inner.streams.entry(key.clone()) {
            stream.get_mut().subs.remove(&id);
            if stream.get().subs.is_empty() {
                stream.remove();
            }
        }
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
        let mut inner = self.inner.lock();
        let Some(conn) = inner.conns.get_mut(&id) else {
            return Attached::AlreadyHeld;
        };
        if !conn.streams.insert(key.clone()) {
            return Attached::AlreadyHeld;
        }
        let mailbox = conn.mailbox.clone();
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
        stream.subs.insert(id, Sub { mailbox, state });
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
            if !queued.is_empty() {
                Metrics::inc(&self.metrics.replays);
            }
            self.metrics
                .events_delivered
                .fetch_add(queued.len() as u64, Ordering::Relaxed);
            for event in queued {
                mailbox.push(Out::Event(event));
            }
        } else {
            let seq = replay.last.max(stream_last.unwrap_or(0));
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
        Self::detach(&mut inner, id, key);
        self.metrics.subscriptions.fetch_sub(1, Ordering::Relaxed);
        true
    }

    /// Fans a committed event out to its stream's subscribers. Events of a
    /// stream must arrive in `seq` order; a hole is reported, not skipped.
    pub fn publish(&self, stored: &StoredEvent) -> Published {
        let key = (stored.topic.clone(), audience_of(&stored.audience));
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
                SubState::Live => {
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

    /// Closes every connection (shutdown): 1001 would say "going away",
    /// but the protocol's list has 1000.
    pub fn close_all(&self) {
        for conn in self.inner.lock().conns.values() {
            conn.mailbox
                .close(super::protocol::close::NORMAL, "server shutting down");
        }
    }
}

/// The audience named by an outbox row.
pub fn audience_of(stored: &str) -> Audience {
    match stored {
        "members" => Audience::Members,
        "recipient" => Audience::Recipient,
        _ => Audience::All,
    }
}
