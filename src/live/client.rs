//! The browser's live connection: one WebSocket per tab, shared by every
//! component that follows a topic (PROTOCOL.md sections 2 to 6).
//!
//! Components call [`follow`] while mounted. The connection opens with the
//! session cookie, pings every `heartbeat_ms`, and on loss reconnects with
//! exponential backoff and jitter (about 1 s, doubling, at most 30 s),
//! resubscribing with `since` = the last `seq` seen per topic. After five
//! failed attempts, or at once when the socket never opened in this tab
//! (something blocks it), it also polls each list's `changes` every 10 s
//! until the socket is back. Offline, it waits; back online, it reconnects
//! at once. The state is the [`Status`] signal
//! the header shows. On the server, [`follow`] does nothing.

use leptos::prelude::*;

use super::protocol::{EventFrame, EventName};

/// What the connection is doing, for the header badge.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Status {
    /// Nothing followed: no socket.
    #[default]
    Idle,
    Connecting,
    Live,
    Reconnecting {
        attempt: u32,
        next_in_secs: u32,
    },
    Polling,
    Offline,
    /// A guest's page: its share link was revoked or has expired (the
    /// server closed the socket with 4401). Nothing reconnects.
    LinkEnded,
}

impl Status {
    /// A short name for styles and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Connecting => "connecting",
            Status::Live => "live",
            Status::Reconnecting { .. } => "reconnecting",
            Status::Polling => "polling",
            Status::Offline => "offline",
            Status::LinkEnded => "link-ended",
        }
    }
}

/// The status signal, provided by the app for the header.
#[derive(Clone, Copy, Debug)]
pub struct LiveStatus(pub RwSignal<Status>);

impl LiveStatus {
    pub fn provide() {
        provide_context(LiveStatus(RwSignal::new(Status::Idle)));
    }
}

/// What a follower is told.
#[derive(Clone, Debug)]
pub enum Incoming {
    Event(Box<EventFrame>),
    /// Missed events cannot be replayed: reload over HTTP.
    Resync,
    /// The server refused the topic, or took it away (the viewer left the
    /// family, or was removed from it).
    Forbidden,
}

/// Where an event stands against the `seq` a page's data is at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Already reflected in the data (a replay overlap): skip it.
    Seen,
    /// The next one: apply it; `at` has moved on to it.
    Next,
    /// Events are missing before it: reload.
    Gap,
}

/// Checks `event` against `at`, the `seq` the data is at, and advances
/// `at` when it is the next one. Pages apply events only in this order.
pub fn order(at: StoredValue<i64>, event: &EventFrame) -> Order {
    let seq = at.get_value();
    if event.seq <= seq {
        Order::Seen
    } else if event.seq == seq + 1 {
        at.set_value(event.seq);
        Order::Next
    } else {
        Order::Gap
    }
}

/// Makes this tab's socket a guest's, opened with share link `token`
/// (`/ws?share=`), or a member's again (`None`). A guest's page calls it
/// before it follows its list.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn use_share_link(token: Option<String>) {
    #[cfg(feature = "hydrate")]
    browser::use_share_link(token);
}

/// Follows `topic` while the calling component is mounted, from `since`
/// (the `seq` its data was loaded at). `poll` is the `changes` URL used
/// when the socket cannot be had (lists only).
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn follow(topic: String, since: i64, poll: Option<String>, on: impl Fn(Incoming) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let Some(status) = use_context::<LiveStatus>() else {
            return;
        };
        let id = browser::subscribe(status.0, topic, since, poll, std::rc::Rc::new(on));
        on_cleanup(move || browser::unsubscribe(id));
    }
}

/// A page's data that a topic keeps current, one event at a time.
pub trait LiveData: Copy + 'static {
    /// The `seq` of the topic the data is at.
    fn seq(&self) -> StoredValue<i64>;
    /// Applies the next event (in `seq` order); false when it cannot be
    /// read, and the page must reload.
    fn apply_next(&self, event: &EventFrame) -> bool;
    /// The topic was refused or taken away; false to reload (the page's
    /// own load then says why).
    fn lost_access(&self) -> bool {
        false
    }
}

/// [`follow`] for a [`LiveData`]: events are applied in `seq` order, one
/// already seen is skipped, and a gap, an unreadable event or a `resync`
/// calls `reload`.
pub fn follow_live(
    live: impl LiveData,
    topic: String,
    poll: Option<String>,
    reload: impl Fn() + 'static,
) {
    let since = live.seq().get_value();
    follow(topic, since, poll, move |incoming| {
        let applied = match incoming {
            Incoming::Resync => false,
            Incoming::Forbidden => live.lost_access(),
            Incoming::Event(event) => match order(live.seq(), &event) {
                Order::Seen => true,
                Order::Gap => false,
                Order::Next => live.apply_next(&event),
            },
        };
        if !applied {
            reload();
        }
    });
}

/// Notices for the logged-in user from `/events` (their `user:{me}` topic):
/// an item they claimed was changed or removed by someone else. Opens the
/// stream while `logged_in`, closes it otherwise; each notice is pushed
/// onto `notices`.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn claimer_notices(logged_in: bool, notices: RwSignal<Vec<Notice>>) {
    #[cfg(feature = "hydrate")]
    browser::claimer_notices(logged_in, notices);
}

/// The longest wait between reconnect attempts.
const MAX_BACKOFF_SECS: f64 = 30.0;

/// The wait before reconnect attempt `failures` (1 for the first): about
/// 1 s, doubling, at most [`MAX_BACKOFF_SECS`], times a jitter between 0.8
/// and 1.2 taken from `random` (in [0, 1)) so that the tabs of a restarted
/// server do not all come back in the same instant.
pub fn backoff(failures: u32, random: f64) -> std::time::Duration {
    let doublings = failures.saturating_sub(1).min(16) as i32;
    let base = MAX_BACKOFF_SECS.min(2f64.powi(doublings));
    let jitter = 0.8 + 0.4 * random.clamp(0.0, 1.0);
    std::time::Duration::from_secs_f64(base * jitter)
}

/// What a claimer's notice says: which gift, and whether it was removed
/// or changed (the header puts it in words, in the page's language).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The gift's title, when the event carries it.
    pub title: Option<String>,
    pub removed: bool,
}

impl Notice {
    /// The notice an event on the user's topic gives.
    pub fn of(event: &EventFrame) -> Notice {
        Notice {
            title: event.data.payload["title"].as_str().map(str::to_string),
            removed: event.name() == Some(EventName::Deleted),
        }
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::{cell::RefCell, collections::HashMap, rc::Rc, time::Duration};

    use leptos::prelude::*;
    use serde_json::Value;
    use wasm_bindgen::{prelude::Closure, JsCast};
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    use super::{Incoming, Status};
    use crate::live::protocol::{Changes, ClientFrame, EventFrame, EventName, ServerFrame};

    type Handler = Rc<dyn Fn(Incoming)>;

    /// Failed attempts before polling starts.
    const ATTEMPTS_BEFORE_POLLING: u32 = 5;
    const POLL_EVERY: Duration = Duration::from_secs(10);
    /// How long an unused socket stays open (a page change re-follows at once).
    const IDLE_CLOSE: Duration = Duration::from_secs(5);

    struct Topic {
        since: i64,
        poll: Option<String>,
        followers: Vec<(u32, Handler)>,
    }

    #[derive(Default)]
    struct State {
        status: Option<RwSignal<Status>>,
        socket: Option<WebSocket>,
        /// Bumped per socket, so an old socket's callbacks are ignored.
        generation: u32,
        welcomed: bool,
        /// Whether this tab ever had a live socket: if not, the socket
        /// cannot open at all (blocked), and polling starts at once.
        ever_live: bool,
        topics: HashMap<String, Topic>,
        next_id: u32,
        failures: u32,
        awaiting_pong: bool,
        ping: Option<IntervalHandle>,
        retry: Option<TimeoutHandle>,
        poll: Option<IntervalHandle>,
        idle_close: Option<TimeoutHandle>,
        listening_online: bool,
        callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
        /// The share link a guest's socket opens with.
        share: Option<String>,
    }

    thread_local! {
        static STATE: RefCell<State> = RefCell::new(State::default());
        static NOTICES: RefCell<Option<NoticeStream>> = const { RefCell::new(None) };
    }

    /// The open `/events` stream and its listeners (kept alive with it).
    type NoticeStream = (web_sys::EventSource, Vec<Closure<dyn FnMut(MessageEvent)>>);

    pub(super) fn claimer_notices(logged_in: bool, notices: RwSignal<Vec<super::Notice>>) {
        NOTICES.with(|open| {
            let mut open = open.borrow_mut();
            if !logged_in {
                if let Some((source, _)) = open.take() {
                    source.close();
                }
                return;
            }
            if open.is_some() {
                return;
            }
            let Ok(source) = web_sys::EventSource::new("/events") else {
                return;
            };
            let mut callbacks = Vec::new();
            for name in [EventName::Updated.as_str(), EventName::Deleted.as_str()] {
                let callback =
                    Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                        let Some(text) = event.data().as_string() else {
                            return;
                        };
                        if let Ok(frame) = serde_json::from_str::<EventFrame>(&text) {
                            notices.update(|all| all.push(super::Notice::of(&frame)));
                        }
                    });
                let _ = source
                    .add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
                callbacks.push(callback);
            }
            *open = Some((source, callbacks));
        });
    }

    pub(super) fn use_share_link(token: Option<String>) {
        let socket = with(|s| {
            if s.share == token {
                return None;
            }
            s.share = token;
            // A socket opened with the other credential is not this page's.
            stop_timers(s);
            s.generation += 1;
            s.welcomed = false;
            s.failures = 0;
            s.socket.take()
        });
        if let Some(socket) = socket {
            let _ = socket.close();
        }
    }

    fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
        STATE.with(|state| f(&mut state.borrow_mut()))
    }

    fn set_status(status: Status) {
        if let Some(signal) = with(|s| s.status) {
            signal.set(status);
        }
    }

    fn online() -> bool {
        window().navigator().on_line()
    }

    pub(super) fn subscribe(
        status: RwSignal<Status>,
        topic: String,
        since: i64,
        poll: Option<String>,
        handler: Handler,
    ) -> u32 {
        listen_online_offline();
        let (id, send) = with(|s| {
            s.status = Some(status);
            if let Some(timer) = s.idle_close.take() {
                timer.clear();
            }
            s.next_id += 1;
            let id = s.next_id;
            let entry = s.topics.entry(topic.clone()).or_insert_with(|| Topic {
                since,
                poll: poll.clone(),
                followers: Vec::new(),
            });
            let fresh = entry.followers.is_empty();
            entry.since = entry.since.max(since);
            entry.followers.push((id, handler));
            let send =
                (fresh && s.welcomed).then(|| subscribe_frame([(topic.as_str(), entry.since)]));
            (id, send)
        });
        match send {
            Some(frame) => send_text(&frame),
            None => ensure_connected(),
        }
        id
    }

    pub(super) fn unsubscribe(id: u32) {
        let frame = with(|s| {
            let mut emptied = None;
            for (name, topic) in s.topics.iter_mut() {
                topic.followers.retain(|(follower, _)| *follower != id);
                if topic.followers.is_empty() {
                    emptied = Some(name.clone());
                }
            }
            let emptied = emptied?;
            s.topics.remove(&emptied);
            if s.topics.is_empty() {
                s.idle_close = set_timeout_with_handle(close_if_unused, IDLE_CLOSE).ok();
            }
            s.welcomed.then(|| {
                frame_text(&ClientFrame::Unsubscribe {
                    topics: vec![emptied],
                    id: None,
                })
            })
        });
        if let Some(frame) = frame {
            send_text(&frame);
        }
    }

    fn close_if_unused() {
        let socket = with(|s| {
            s.idle_close = None;
            if !s.topics.is_empty() {
                return None;
            }
            stop_timers(s);
            s.generation += 1;
            s.welcomed = false;
            s.socket.take()
        });
        if let Some(socket) = socket {
            let _ = socket.close();
        }
        set_status(Status::Idle);
    }

    fn subscribe_frame<'a>(topics: impl IntoIterator<Item = (&'a str, i64)>) -> String {
        let mut names = Vec::new();
        let mut since = std::collections::BTreeMap::new();
        for (topic, seq) in topics {
            names.push(topic.to_owned());
            since.insert(topic.to_owned(), u64::try_from(seq).unwrap_or(0));
        }
        frame_text(&ClientFrame::Subscribe {
            topics: names,
            since,
            id: None,
        })
    }

    /// A client frame as the text sent on the socket.
    fn frame_text(frame: &ClientFrame) -> String {
        serde_json::to_string(frame).unwrap_or_default()
    }

    fn send_text(text: &str) {
        if let Some(socket) = with(|s| s.socket.clone()) {
            let _ = socket.send_with_str(text);
        }
    }

    fn stop_timers(s: &mut State) {
        if let Some(ping) = s.ping.take() {
            ping.clear();
        }
        if let Some(retry) = s.retry.take() {
            retry.clear();
        }
    }

    fn socket_url() -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        let query = with(|s| s.share.clone())
            .map(|token| format!("?share={token}"))
            .unwrap_or_default();
        Some(format!("{scheme}://{}/ws{query}", location.host().ok()?))
    }

    /// Opens the socket if something is followed and none is open.
    fn ensure_connected() {
        let wanted = with(|s| s.socket.is_none() && s.retry.is_none() && !s.topics.is_empty());
        if !wanted {
            return;
        }
        if !online() {
            set_status(Status::Offline);
            return;
        }
        connect();
    }

    fn connect() {
        let Some(url) = socket_url() else { return };
        let Ok(socket) = WebSocket::new(&url) else {
            on_lost(with(|s| s.generation));
            return;
        };
        let generation = with(|s| {
            s.generation += 1;
            s.welcomed = false;
            s.awaiting_pong = false;
            s.socket = Some(socket.clone());
            if s.failures == 0 {
                if let Some(status) = s.status {
                    status.set(Status::Connecting);
                }
            }
            s.generation
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                on_frame(generation, &text);
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            let guest = with(|s| s.share.is_some());
            if guest && event.code() == crate::live::protocol::close::UNAUTHORIZED {
                link_ended(generation);
            } else {
                on_lost(generation);
            }
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // The socket keeps its handlers for its whole life.
        on_message.forget();
        on_close.forget();
    }

    fn on_frame(generation: u32, text: &str) {
        if with(|s| s.generation) != generation {
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return;
        };
        if value["type"] == "event" {
            let Ok(event) = serde_json::from_value::<EventFrame>(value) else {
                return;
            };
            deliver(&event.topic.clone(), Incoming::Event(Box::new(event)));
            return;
        }
        match serde_json::from_value::<ServerFrame>(value) {
            Ok(ServerFrame::Welcome { heartbeat_ms, .. }) => on_welcome(heartbeat_ms),
            Ok(ServerFrame::Pong { .. }) => with(|s| s.awaiting_pong = false),
            Ok(ServerFrame::Resync { topic, seq, .. }) => {
                with(|s| {
                    if let Some(entry) = s.topics.get_mut(&topic) {
                        entry.since = seq;
                    }
                });
                deliver(&topic, Incoming::Resync);
            }
            Ok(ServerFrame::Error {
                code,
                message,
                topic,
                ..
            }) => {
                leptos::logging::warn!("live: {code} {message} {topic:?}");
                if let (Some(topic), "forbidden") = (topic, code.as_str()) {
                    deliver(&topic, Incoming::Forbidden);
                }
            }
            _ => {}
        }
    }

    /// Hands `incoming` to the topic's followers, after noting its `seq`.
    fn deliver(topic: &str, incoming: Incoming) {
        let followers: Vec<Handler> = with(|s| {
            let Some(entry) = s.topics.get_mut(topic) else {
                return Vec::new();
            };
            if let Incoming::Event(event) = &incoming {
                entry.since = entry.since.max(event.seq);
            }
            entry.followers.iter().map(|(_, h)| h.clone()).collect()
        });
        for follower in followers {
            follower(incoming.clone());
        }
    }

    fn on_welcome(heartbeat_ms: u64) {
        let frame = with(|s| {
            s.welcomed = true;
            s.ever_live = true;
            s.failures = 0;
            if let Some(poll) = s.poll.take() {
                poll.clear();
            }
            if let Some(ping) = s.ping.take() {
                ping.clear();
            }
            s.ping = set_interval_with_handle(heartbeat, Duration::from_millis(heartbeat_ms)).ok();
            (!s.topics.is_empty()).then(|| {
                subscribe_frame(
                    s.topics
                        .iter()
                        .map(|(name, topic)| (name.as_str(), topic.since)),
                )
            })
        });
        set_status(Status::Live);
        if let Some(frame) = frame {
            send_text(&frame);
        }
    }

    /// Every `heartbeat_ms`: a ping, unless the last one went unanswered,
    /// which means the connection is dead.
    fn heartbeat() {
        let (dead, socket) = with(|s| (s.awaiting_pong, s.socket.clone()));
        let Some(socket) = socket else { return };
        if dead {
            let generation = with(|s| s.generation);
            let _ = socket.close();
            on_lost(generation);
            return;
        }
        with(|s| s.awaiting_pong = true);
        let _ = socket.send_with_str(r#"{"type":"ping"}"#);
    }

    /// A guest's link was revoked or expired: stop for good.
    fn link_ended(generation: u32) {
        let ended = with(|s| {
            if s.generation != generation {
                return false;
            }
            s.generation += 1;
            s.welcomed = false;
            s.socket = None;
            stop_timers(s);
            if let Some(poll) = s.poll.take() {
                poll.clear();
            }
            true
        });
        if ended {
            set_status(Status::LinkEnded);
        }
    }

    /// The socket closed or failed: back off and try again; poll meanwhile
    /// once the attempts run out.
    fn on_lost(generation: u32) {
        let next = with(|s| {
            if s.generation != generation {
                return None;
            }
            s.generation += 1;
            s.welcomed = false;
            s.socket = None;
            stop_timers(s);
            if s.topics.is_empty() {
                return None;
            }
            s.failures += 1;
            let wait = super::backoff(s.failures, js_sys::Math::random());
            s.retry = set_timeout_with_handle(
                || {
                    with(|s| s.retry = None);
                    ensure_connected();
                },
                wait,
            )
            .ok();
            Some((s.failures, wait, s.ever_live))
        });
        let Some((failures, wait, ever_live)) = next else {
            if with(|s| s.topics.is_empty()) {
                set_status(Status::Idle);
            }
            return;
        };
        if !online() {
            set_status(Status::Offline);
        } else if failures >= ATTEMPTS_BEFORE_POLLING || !ever_live {
            start_polling();
        } else {
            set_status(Status::Reconnecting {
                attempt: failures,
                next_in_secs: wait.as_secs_f64().ceil() as u32,
            });
        }
    }

    fn start_polling() {
        set_status(Status::Polling);
        let already = with(|s| s.poll.is_some());
        if !already {
            let handle = set_interval_with_handle(poll_once, POLL_EVERY).ok();
            with(|s| s.poll = handle);
            poll_once();
        }
    }

    fn poll_once() {
        let targets: Vec<(String, String, i64)> = with(|s| {
            s.topics
                .iter()
                .filter_map(|(name, topic)| {
                    topic
                        .poll
                        .clone()
                        .map(|url| (name.clone(), url, topic.since))
                })
                .collect()
        });
        for (topic, url, since) in targets {
            leptos::task::spawn_local(async move {
                let Some(answer) = fetch_json(&format!("{url}?since={since}")).await else {
                    return;
                };
                let Ok(answer) = serde_json::from_value::<Changes>(answer) else {
                    return;
                };
                let events = match answer {
                    Changes::Resync { seq, .. } => {
                        with(|s| {
                            if let Some(entry) = s.topics.get_mut(&topic) {
                                entry.since = seq;
                            }
                        });
                        deliver(&topic, Incoming::Resync);
                        return;
                    }
                    Changes::Events { events, .. } => events,
                };
                for event in events {
                    deliver(&topic, Incoming::Event(Box::new(event)));
                }
            });
        }
    }

    async fn fetch_json(url: &str) -> Option<Value> {
        let response = wasm_bindgen_futures::JsFuture::from(window().fetch_with_str(url))
            .await
            .ok()?
            .dyn_into::<web_sys::Response>()
            .ok()?;
        if !response.ok() {
            return None;
        }
        let text = wasm_bindgen_futures::JsFuture::from(response.text().ok()?)
            .await
            .ok()?
            .as_string()?;
        serde_json::from_str(&text).ok()
    }

    /// Offline pauses everything; online starts afresh.
    fn listen_online_offline() {
        if with(|s| std::mem::replace(&mut s.listening_online, true)) {
            return;
        }
        let offline = Closure::<dyn FnMut(web_sys::Event)>::new(|_| {
            let socket = with(|s| {
                stop_timers(s);
                if let Some(poll) = s.poll.take() {
                    poll.clear();
                }
                s.generation += 1;
                s.welcomed = false;
                s.socket.take()
            });
            if let Some(socket) = socket {
                let _ = socket.close();
            }
            if !with(|s| s.topics.is_empty()) {
                set_status(Status::Offline);
            }
        });
        let online = Closure::<dyn FnMut(web_sys::Event)>::new(|_| {
            with(|s| {
                s.failures = 0;
                if let Some(retry) = s.retry.take() {
                    retry.clear();
                }
            });
            ensure_connected();
        });
        let window = window();
        let _ =
            window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        with(|s| {
            s.callbacks.push(offline);
            s.callbacks.push(online);
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_with_jitter_around_it() {
        let secs = |failures, random| backoff(failures, random).as_secs_f64();
        // The middle of the jitter: 1, 2, 4, ... 16, then 30 for ever.
        let middle: Vec<f64> = (1..=8).map(|n| secs(n, 0.5)).collect();
        assert_eq!(middle, [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]);
        assert_eq!(secs(u32::MAX, 0.5), 30.0);
        // The jitter spans 0.8 to 1.2 of the base, whatever `random` says.
        assert_eq!(backoff(1, 0.0), Duration::from_millis(800));
        assert_eq!(backoff(1, 1.0), Duration::from_millis(1200));
        assert_eq!(backoff(6, 0.0), Duration::from_secs(24));
        assert_eq!(backoff(6, 7.0), Duration::from_secs(36));
        // Two tabs with different draws wait different times.
        assert_ne!(backoff(3, 0.1), backoff(3, 0.9));
        // A first failure (or a count of 0) waits about a second.
        assert_eq!(secs(0, 0.5), 1.0);
    }
}
