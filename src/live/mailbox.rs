//! One connection's outbound queue, and what goes in it: frames
//! serialized once and shared by every subscriber of a stream.

use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};

use parking_lot::Mutex;
use std::collections::VecDeque;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::protocol::{close, ServerFrame};
use crate::{metrics::Metrics, store::outbox::StoredEvent};

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
        let frame = stored.frame().ok()?;
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
            if self.close(close::TOO_SLOW, "too slow: the queue is full") {
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
