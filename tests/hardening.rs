//! The defects of issue 9, each shown fixed through the real server: clean
//! closes, server-function errors and limits, login limits, private
//! metrics (see tests/live.rs), bounded subscribe frames and replay, SSE
//! limits, the PostgreSQL listener's recovery, races on PostgreSQL, outbox
//! pruning, and the connection-level limits.
#![cfg(feature = "ssr")]

mod common;

use std::time::{Duration, Instant};

use common::{
    answer, call, family_on, family_on_two_instances, list_topic, server_with, token_for, tokens,
    ws::{self, open, open_as, seq, Open, Received, Ws},
    Browser, Db, Family, FreshDb, TestServer,
};
use futures::future::join_all;
use giftlist::{
    config::Settings,
    model::UserId,
    store::outbox::{self, Audience},
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{
    self,
    protocol::{frame::coding::CloseCode, CloseFrame},
    Message,
};

on_both_backends!(
    replay_beyond_the_budget_is_a_resync,
    outbox_keeps_what_replay_can_reach,
    racing_changes_record_one_event_each,
);

/// A family on a server whose settings `tune` changes first.
async fn family_with(db: Db, tune: impl FnOnce(&mut Settings)) -> Family {
    family_on(server_with(db, tune).await).await
}

/// A server-function call as the page makes it (form-encoded), from `by`.
async fn server_fn(f: &Family, by: &Browser, name: &str, body: String) -> reqwest::Response {
    by.http
        .post(f.server.url(&format!("/api/fn/{name}")))
        .header("origin", by.origin())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Every event of one stream in the outbox.
async fn stream_events(f: &Family, topic: &str, audience: Audience) -> Vec<outbox::StoredEvent> {
    outbox::since(f.server.state.store.pool(), topic, audience, 0, 100_000)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_close_is_echoed_at_once() {
    let f = family_with(Db::Sqlite, |_| {}).await;
    let mut ws = open_as(&f.server, &f.member_id).await;
    ws.subscribe(&[&list_topic(&f)], json!({}), "s1").await;
    let sent = Instant::now();
    ws.send_raw(Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    })))
    .await;
    match ws.next_within(Duration::from_secs(5)).await {
        Some(Received::Close(code)) => assert_eq!(code, Some(1000), "the code is echoed"),
        other => panic!("expected the close echo, got {other:?}"),
    }
    assert!(
        sent.elapsed() < Duration::from_millis(100),
        "echoed after {:?}",
        sent.elapsed()
    );
    assert!(
        matches!(
            ws.next_within(Duration::from_millis(500)).await,
            Some(Received::Gone)
        ),
        "then the connection ends"
    );
    assert!(sent.elapsed() < Duration::from_millis(600));
    f.server.stop().await;
}

/// Server functions: the caller's mistakes are 400, bodies are limited like
/// the API's, and the cross-site check holds whatever `Authorization` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_answer_like_the_api() {
    let f = family_with(Db::Sqlite, |_| {}).await;
    let fields = "title=Teapot&price=&currency=EUR&notes=&priority=3";
    // Without list_id, and without url: 400 bad_request.
    for body in [
        format!("{fields}&url="),
        format!("list_id={}&{fields}", f.list_id),
    ] {
        let got = answer(server_fn(&f, &f.admin, "add_item", body).await).await;
        assert_eq!(got.status, 400, "{}", got.body);
        assert_eq!(got.body["code"], "bad_request", "{}", got.body);
    }
    // The same call in full works, so the 400s above were about the fields.
    let full = format!("list_id={}&{fields}&url=", f.list_id);
    let got = server_fn(&f, &f.admin, "add_item", full.clone()).await;
    assert!(got.status().is_success(), "{}", got.status());
    // More than 64 KiB: 413 with the API's envelope, nothing stored.
    let big = format!("{full}&pad={}", "x".repeat(70 * 1024));
    answer(server_fn(&f, &f.admin, "add_item", big).await)
        .await
        .expect_error(413, "too_large");
    let items = f
        .admin
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(items, 1);
    // Cross-site, with any Authorization header: refused.
    for authorization in ["Basic YTpi", "Bearer whatever"] {
        let got = f
            .admin
            .http
            .post(f.server.url("/api/fn/add_item"))
            .header("origin", "https://evil.example")
            .header("authorization", authorization)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(full.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 403, "{authorization}");
    }
    f.server.stop().await;
}

/// The list page's rows' buttons: the one pressed names the action and the
/// gift (`reserve=<item>`); a post naming none, or several, is refused as
/// the caller's mistake and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_button_names_one_action_and_one_gift() {
    let f = family_with(Db::Sqlite, |_| {}).await;
    let item = f.add_item(&f.admin, "Kite").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = format!("list_id={}", f.list_id);
    let claims = || async {
        f.admin
            .get(&format!("/lists/{}", f.list_id))
            .await
            .expect(200)["items"][0]["claims"]
            .clone()
    };
    for body in [
        list.clone(),
        format!("{list}&reserve={item}&delete={item}"),
        format!("{list}&claim={item}"),
    ] {
        let got = answer(server_fn(&f, &f.member, "item_action", body.clone()).await).await;
        assert_eq!(got.status, 400, "{body}: {}", got.body);
        assert_eq!(got.body["code"], "bad_request", "{body}: {}", got.body);
    }
    assert_eq!(claims().await, json!([]), "nothing was claimed");
    let reserve = server_fn(
        &f,
        &f.member,
        "item_action",
        format!("{list}&reserve={item}"),
    )
    .await;
    assert!(reserve.status().is_success(), "{}", reserve.status());
    let held = claims().await;
    assert_eq!(held[0]["status"], "reserved", "{held}");
    assert_eq!(held[0]["by"], f.member_id.as_str(), "{held}");
    // The recipient's own gift: refused, as through the API.
    let own = answer(
        server_fn(
            &f,
            &f.recipient,
            "item_action",
            format!("{list}&buy={item}"),
        )
        .await,
    )
    .await;
    assert_eq!(own.status, 403, "{}", own.body);
    let units = format!("{list}&claim={item}&status=purchased&units=1");
    let buy = server_fn(&f, &f.member, "item_action", units).await;
    assert!(buy.status().is_success(), "{}", buy.status());
    assert_eq!(claims().await[0]["status"], "purchased");
    let release = server_fn(
        &f,
        &f.member,
        "item_action",
        format!("{list}&release={item}"),
    )
    .await;
    assert!(release.status().is_success(), "{}", release.status());
    assert_eq!(claims().await, json!([]));
    let remove = server_fn(&f, &f.admin, "item_action", format!("{list}&delete={item}")).await;
    assert!(remove.status().is_success(), "{}", remove.status());
    let items = f
        .admin
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200)["items"]
        .clone();
    assert_eq!(items, json!([]));
    f.server.stop().await;
}

/// The list page's "delete" needs its box ticked, and only the list's
/// maker or an admin may; nothing is removed otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_list_from_its_page_needs_the_box_ticked() {
    let f = family_with(Db::Sqlite, |_| {}).await;
    let ids = format!("list_id={}&family_id={}", f.list_id, f.family_id);
    let unticked = answer(server_fn(&f, &f.admin, "delete_list", ids.clone()).await).await;
    assert_eq!(
        (unticked.status, unticked.body["code"].as_str()),
        (400, Some("bad_request")),
        "{}",
        unticked.body
    );
    let ticked = format!("{ids}&confirm=on");
    let not_theirs = answer(server_fn(&f, &f.member, "delete_list", ticked.clone()).await).await;
    assert_eq!(not_theirs.status, 403, "{}", not_theirs.body);
    f.member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    let deleted = server_fn(&f, &f.admin, "delete_list", ticked).await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    f.member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect_error(404, "not_found");
    f.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_passwords_is_rate_limited() {
    let fresh = FreshDb::new(Db::Sqlite).await;
    let mut settings = fresh.settings();
    settings.auth_account_burst = 3;
    settings.auth_account_per_minute = 1;
    settings.auth_ip_burst = 8;
    settings.auth_ip_per_minute = 1;
    let server = TestServer::start_with(fresh, settings).await;
    let browser = server.browser();
    let email = browser.register("Ida").await["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let login = |email: String, password: &'static str, forwarded: Option<&'static str>| {
        let mut request = reqwest::Client::new()
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }));
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        async move { answer(request.send().await.unwrap()).await }
    };
    for _ in 0..3 {
        login(email.clone(), "wrong password", None)
            .await
            .expect_error(401, "unauthorized");
    }
    // The account's burst is spent: even the right password waits, from
    // any address.
    let limited = login(email.clone(), "correct horse battery", None).await;
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "Retry-After {retry}");
    limited.expect_error(429, "rate_limited");
    // Other accounts from this address go on until the address's burst
    // (8 attempts, the register included) is spent.
    for n in 0..3 {
        login(format!("nobody{n}@example.org"), "wrong password", None)
            .await
            .expect_error(401, "unauthorized");
    }
    login("nobody@example.org".into(), "wrong password", None)
        .await
        .expect_error(429, "rate_limited");
    // A made-up X-Forwarded-For from an untrusted peer changes nothing.
    login(
        "nobody@example.org".into(),
        "wrong password",
        Some("203.0.113.7"),
    )
    .await
    .expect_error(429, "rate_limited");
    // Registering counts too.
    call(
        reqwest::Client::new()
            .post(server.url("/api/v1/auth/register"))
            .json(&json!({ "email": "new@example.org", "name": "N", "password": "long enough" })),
    )
    .await
    .expect_error(429, "rate_limited");
    server.stop().await;

    // Behind a trusted proxy, each forwarded client has its own budget.
    let fresh = FreshDb::new(Db::Sqlite).await;
    let mut settings = fresh.settings();
    settings.auth_ip_burst = 2;
    settings.auth_ip_per_minute = 1;
    settings.trusted_proxies = vec!["127.0.0.1/32".into()];
    let server = TestServer::start_with(fresh, settings).await;
    let login = |forwarded: &'static str| {
        let request = reqwest::Client::new()
            .post(server.url("/api/v1/auth/login"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({ "email": "who@example.org", "password": "wrong password" }));
        async move { answer(request.send().await.unwrap()).await }
    };
    for _ in 0..2 {
        login("203.0.113.1").await.expect_error(401, "unauthorized");
    }
    login("203.0.113.1").await.expect_error(429, "rate_limited");
    login("198.51.100.2, 203.0.113.2")
        .await
        .expect_error(401, "unauthorized");
    server.stop().await;
}

/// A subscribe frame naming more topics than allowed is refused whole,
/// before any topic is looked up (so unknown topics are not reported one
/// by one, and nothing is subscribed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_topics_are_refused_before_any_lookup() {
    let f = family_with(Db::Sqlite, |s| s.ws_max_topics = 3).await;
    let mut ws = open_as(&f.server, &f.member_id).await;
    let topics: Vec<String> = (0..4).map(|n| format!("gift-list:l_nope{n}")).collect();
    ws.send(json!({ "type": "subscribe", "topics": topics, "id": "big" }))
        .await;
    let error = ws.expect("error").await;
    assert_eq!(
        (error["code"].as_str(), error["id"].as_str()),
        (Some("too_large"), Some("big")),
        "{error}"
    );
    assert!(error.get("topic").is_none(), "{error}");
    ws.expect_silence(Duration::from_millis(200)).await;
    // Within the limit the socket still works.
    ws.subscribe(&[&list_topic(&f)], json!({}), "ok").await;
    f.server.stop().await;
}

/// Items of about 4 KB: twenty of them are more than a 64 KiB queue holds.
async fn add_big_items(f: &Family, count: usize) {
    for n in 0..count {
        f.admin
            .post(
                &format!("/lists/{}/items", f.list_id),
                json!({ "title": format!("Big {n}"), "notes": "n".repeat(2000), "url": format!("https://example.org/{}", "u".repeat(1900)) }),
            )
            .await
            .expect(201);
    }
}

async fn replay_beyond_the_budget_is_a_resync(db: Db) {
    let f = family_with(db, |s| s.ws_queue_bytes = 64 * 1024).await;
    let topic = list_topic(&f);
    add_big_items(&f, 20).await;
    // From the outbox (nobody holds the stream yet), then from memory (the
    // first socket holds it): both answer resync instead of overflowing.
    let mut sockets = Vec::new();
    for id in ["outbox", "memory"] {
        let mut ws = open_as(&f.server, &f.member_id).await;
        ws.subscribe(&[&topic], json!({ topic.clone(): 0 }), id)
            .await;
        let mut replayed = 0;
        loop {
            match ws.frame().await {
                frame if frame["type"] == "event" => replayed += 1,
                frame => {
                    assert_eq!(
                        frame,
                        json!({ "type": "resync", "topic": topic, "seq": 20, "id": id })
                    );
                    break;
                }
            }
        }
        assert!(replayed < 20, "{replayed} events before the resync");
        sockets.push(ws);
    }
    // The sockets stay open and live.
    f.add_item(&f.admin, "Small").await;
    for ws in &mut sockets {
        assert_eq!(seq(&ws.expect("event").await), 21);
    }
    f.server.stop().await;
}

async fn outbox_keeps_what_replay_can_reach(db: Db) {
    let f = family_with(db, |_| {}).await;
    let topic = list_topic(&f);
    common::append_events(&f.server, &topic, Audience::Members, 600).await;
    // Within the retention nothing goes.
    f.server
        .state
        .service
        .housekeeping(Duration::from_secs(3600))
        .await;
    assert_eq!(
        stream_events(&f, &topic, Audience::Members).await.len(),
        600
    );
    // Past it, the last 500 of each stream stay: what replay can reach.
    f.server.state.service.housekeeping(Duration::ZERO).await;
    let kept = stream_events(&f, &topic, Audience::Members).await;
    assert_eq!(kept.len(), 500);
    assert_eq!((kept[0].seq, kept[499].seq), (101, 600));
    // The family stream (one event: the list's creation) is kept too.
    let family = format!("family:{}", f.family_id);
    assert!(!stream_events(&f, &family, Audience::All).await.is_empty());
    // Numbering goes on after the pruned part.
    f.add_item(&f.admin, "After").await;
    let last = stream_events(&f, &topic, Audience::Members).await;
    assert_eq!(last.last().unwrap().seq, 601);
    f.server.stop().await;
}

/// Statuses of racing requests, each `Err` a status the test refuses.
fn statuses(answers: &[common::Answer]) -> Vec<u16> {
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort_unstable();
    statuses
}

async fn racing_changes_record_one_event_each(db: Db) {
    let f = family_with(db, |_| {}).await;
    let topic = list_topic(&f);
    let count = |events: &[outbox::StoredEvent], entity: &str, event: &str| {
        events
            .iter()
            .filter(|e| e.entity_id == entity && e.event == event)
            .count()
    };

    // 20 deletions of one item: one succeeds, one DELETED per stream.
    let item = f.add_item(&f.admin, "Contested").await;
    let id = item["id"].as_str().unwrap().to_owned();
    let path = format!("/items/{id}");
    let answers = join_all((0..20).map(|_| f.admin.delete(&path))).await;
    let got = statuses(&answers);
    assert_eq!(got[0], 204, "{got:?}");
    assert!(got[1..].iter().all(|&s| s == 404), "{got:?}");
    for audience in [Audience::Members, Audience::Recipient] {
        let events = stream_events(&f, &topic, audience).await;
        assert_eq!(count(&events, &id, "DELETED"), 1, "{audience:?}");
    }

    // 20 releases of one claim: one STATUS_CHANGED for the release.
    let item = f.add_item(&f.admin, "Released").await;
    let id = item["id"].as_str().unwrap().to_owned();
    f.claim(&f.member, &id, "reserved").await;
    let path = format!("/items/{id}/claim");
    let answers = join_all((0..20).map(|_| f.member.delete(&path))).await;
    let got = statuses(&answers);
    assert!(got.iter().all(|&s| s < 500), "{got:?}");
    assert_eq!(got.iter().filter(|&&s| s < 300).count(), 1, "{got:?}");
    let events = stream_events(&f, &topic, Audience::Members).await;
    assert_eq!(count(&events, &id, "STATUS_CHANGED"), 2, "claim + release");

    // Lists whose claimers are in opposite orders, deleted at once: no
    // deadlock, every one removed.
    let other = f.server.browser();
    let other_id = other.register("Dan").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = f.invite_code().await;
    other
        .post(&format!("/invites/{code}/accept"), json!(null))
        .await
        .expect(200);
    let mut lists = Vec::new();
    for n in 0..20_u32 {
        let list = f
            .add_list(
                &f.admin,
                json!({ "title": format!("List {n}"), "recipient_user_id": f.recipient_id }),
            )
            .await;
        let (first, second) = if n.is_multiple_of(2) {
            (&f.member, &other)
        } else {
            (&other, &f.member)
        };
        for claimer in [first, second] {
            let item = f
                .admin
                .post(&format!("/lists/{list}/items"), json!({ "title": "Gift" }))
                .await
                .expect(201)["item"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            f.claim(claimer, &item, "reserved").await;
        }
        lists.push(list);
    }
    let paths: Vec<String> = lists.iter().map(|list| format!("/lists/{list}")).collect();
    let answers = join_all(paths.iter().map(|path| f.admin.delete(path))).await;
    assert!(
        statuses(&answers).iter().all(|&s| s == 204),
        "{:?}",
        statuses(&answers)
    );
    for user in [&f.member_id, &other_id] {
        let notices = stream_events(&f, &format!("user:{user}"), Audience::All).await;
        assert_eq!(
            notices.iter().filter(|e| e.event == "DELETED").count(),
            20,
            "one notice per deleted claim of {user}"
        );
    }

    // Adds racing a list's deletion: each add is stored with its event or
    // refused 404, never a 500.
    let list = f
        .add_list(
            &f.admin,
            json!({ "title": "Doomed", "recipient_user_id": f.recipient_id }),
        )
        .await;
    let items_path = format!("/lists/{list}/items");
    let adds = join_all((0..20).map(|n| {
        f.member
            .post(&items_path, json!({ "title": format!("Late {n}") }))
    }));
    let list_path = format!("/lists/{list}");
    let (adds, removed) = tokio::join!(adds, f.admin.delete(&list_path));
    assert_eq!(removed.status, 204);
    let got = statuses(&adds);
    assert!(got.iter().all(|&s| s == 201 || s == 404), "{got:?}");
    let stored = got.iter().filter(|&&s| s == 201).count();
    let events = stream_events(&f, &format!("gift-list:{list}"), Audience::Members).await;
    assert_eq!(
        events.iter().filter(|e| e.event == "ADDED").count(),
        stored,
        "one ADDED per stored item"
    );
    f.server.stop().await;
}

/// SSE streams: counted toward the per-user limit, ended at a Bearer
/// token's expiry, and dropped when the client stops reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_streams_are_bounded() {
    let f = family_with(Db::Sqlite, |s| {
        s.ws_max_sockets_per_user = 2;
        s.sse_stall_ms = 300;
        // Big enough that the stalled stream below never overflows it: the
        // stall, not the queue, must end it.
        s.ws_queue_bytes = 16 * 1024 * 1024;
    })
    .await;
    let events_url = f.server.url("/events");
    // A socket and a stream fill the member's two places.
    let _ws = open_as(&f.server, &f.member_id).await;
    let stream = f.member.http.get(&events_url).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let refused = answer(f.member.http.get(&events_url).send().await.unwrap()).await;
    refused.expect_error(429, "rate_limited");
    drop(stream);

    // A Bearer token living 1 s: the stream ends at its expiry.
    let short = tokens(&f.server, Duration::from_secs(1))
        .issue(&UserId(f.recipient_id.clone()))
        .token;
    let mut response = reqwest::Client::new()
        .get(&events_url)
        .bearer_auth(&short)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let opened = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = response.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its token");
    assert!(opened.elapsed() < Duration::from_secs(3));

    // A reader with a tiny window that never reads: once the big notices
    // stop moving, the stream gives up its place in the hub.
    let connections = || {
        f.server
            .state
            .service
            .bus
            .hub()
            .metrics()
            .sse_open
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(f.server.addr).await.unwrap();
    let token = token_for(&f.server, &f.admin_id);
    stalled
        .write_all(
            format!(
                "GET /events?token={token} HTTP/1.1\r\nHost: {}\r\n\r\n",
                f.server.addr
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut head = [0u8; 12];
    stalled.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    assert_eq!(connections(), 1);
    let topic = format!("user:{}", f.admin_id);
    let notes = "n".repeat(60_000);
    for _ in 0..150 {
        let mut tx = f.server.state.store.begin_write().await.unwrap();
        let payload = json!({ "notes": notes }).to_string();
        let event = outbox::append(
            &mut tx,
            outbox::NewEvent {
                topic: &topic,
                audience: Audience::All,
                event: "UPDATED",
                entity_id: "i_big",
                payload: &payload,
                user_id: None,
                tenant_id: None,
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
            },
        )
        .await
        .unwrap();
        f.server
            .state
            .service
            .bus
            .commit(tx, vec![event])
            .await
            .unwrap();
        if connections() == 0 {
            break;
        }
    }
    let waited = Instant::now();
    while connections() > 0 && waited.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(connections(), 0, "a stalled stream is let go");
    drop(stalled);
    f.server.stop().await;
}

/// `since` and `Last-Event-ID` at the top of the range answer resync,
/// without overflowing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_at_the_top_of_the_range_is_a_resync() {
    let f = family_with(Db::Sqlite, |_| {}).await;
    let topic = list_topic(&f);
    f.add_item(&f.admin, "One").await;
    for since in [i64::MAX as u64, i64::MAX as u64 - 1, u64::MAX] {
        let mut ws = open_as(&f.server, &f.member_id).await;
        ws.subscribe(&[&topic], json!({ topic.clone(): since }), "top")
            .await;
        assert_eq!(
            ws.expect("resync").await,
            json!({ "type": "resync", "topic": topic, "seq": 1, "id": "top" })
        );
    }
    for last in [i64::MAX, i64::MAX - 1] {
        let mut response = f
            .member
            .http
            .get(f.server.url("/events"))
            .header("last-event-id", last.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut text = String::new();
        while !text.contains("\n\n") {
            let chunk = tokio::time::timeout(ws::WAIT, response.chunk())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        assert!(text.starts_with("event: resync\n"), "{text}");
    }
    f.server.stop().await;
}

/// Limits below HTTP: slow headers are cut off, upgrades waiting for
/// `auth` are capped per address, and the cookie is `__Host-` on https.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_bounded_and_cookies_prefixed() {
    let fresh = FreshDb::new(Db::Sqlite).await;
    let mut settings = fresh.settings();
    settings.header_timeout_secs = 1;
    settings.ws_pending_auth_per_ip = 2;
    settings.public_url = Some("https://gifts.example".parse().unwrap());
    let server = TestServer::start_with(fresh, settings).await;

    // Half a request, then nothing: the server hangs up after 1 s.
    let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "slow headers were never cut off");
    assert!(started.elapsed() < Duration::from_secs(3));

    // Two upgrades wait for their auth frame; a third from the same
    // address is refused before the upgrade.
    let pending: Vec<Ws> = join_all((0..2).map(|_| open(&server, Open::default())))
        .await
        .into_iter()
        .map(|ws| ws.expect("upgrade"))
        .collect();
    match open(&server, Open::default()).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("expected 429, got {:?}", other.map(|_| "a socket")),
    }
    drop(pending);
    let mut reopened = None;
    for _ in 0..40 {
        if let Ok(ws) = open(&server, Open::default()).await {
            reopened = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reopened.is_some(), "places free up when sockets go");

    // Served over https: the session cookie is host-only and Secure.
    let register = reqwest::Client::new()
        .post(server.url("/api/v1/auth/register"))
        .header("origin", "https://gifts.example")
        .json(&json!({ "email": "host@example.org", "name": "H", "password": "long enough" }))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 201);
    let cookie = register.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-giftlist_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.to_lowercase().contains("domain="), "{cookie}");
    server.stop().await;
}

/// The PostgreSQL listener loses its connection while another instance
/// writes: every socket ends with all events in order, or a `resync` and
/// then the rest, never a silent gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_listener_loss_leaves_no_silent_gap() {
    let (f, writer) = family_on_two_instances().await;
    let second_list = f
        .add_list(
            &f.admin,
            json!({ "title": "Second", "recipient_user_id": f.recipient_id }),
        )
        .await;
    let topics = [list_topic(&f), format!("gift-list:{second_list}")];
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let mut ws = open_as(&f.server, &f.member_id).await;
        ws.subscribe(&[&topics[0], &topics[1]], json!({}), "both")
            .await;
        sockets.push(ws);
    }
    // The other instance writes, by token (the secret is shared).
    let token = token_for(&writer, &f.admin_id);
    let write = |n: usize| {
        let list = if n.is_multiple_of(2) {
            &f.list_id
        } else {
            &second_list
        };
        reqwest::Client::new()
            .post(writer.url(&format!("/api/v1/lists/{list}/items")))
            .bearer_auth(&token)
            .json(&json!({ "title": format!("Gift {n}") }))
            .send()
    };
    let last_seqs = || async {
        let mut last = [0i64; 2];
        for (at, topic) in topics.iter().enumerate() {
            last[at] = stream_events(&f, topic, Audience::Members)
                .await
                .last()
                .map_or(0, |e| e.seq);
        }
        last
    };
    let start = last_seqs().await;
    let admin_url = format!("{}/postgres", common::postgres_server_url());
    let mut admin_db = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .unwrap();
    let mut killed = 0;
    for n in 0..50 {
        if n == 10 || n == 30 {
            let ended: Vec<(bool,)> = sqlx::query_as(
                "select pg_terminate_backend(pid) from pg_stat_activity \
                 where application_name = $1 and datname = $2",
            )
            .bind(giftlist::live::bus::LISTENER_APPLICATION_NAME)
            .bind(f.server.db.url.expose().rsplit('/').next().unwrap())
            .fetch_all(&mut admin_db)
            .await
            .unwrap();
            killed += ended.len();
        }
        assert_eq!(write(n).await.unwrap().status(), 201);
    }
    assert!(killed >= 2, "the listeners were found and ended ({killed})");
    let end = last_seqs().await;
    assert_eq!((end[0] - start[0], end[1] - start[1]), (25, 25));
    // Each socket, per topic: every seq after `start` in order, except
    // that a resync may jump ahead (the client reloads there).
    for ws in &mut sockets {
        let mut last = start;
        let deadline = Instant::now() + Duration::from_secs(20);
        while last != end {
            assert!(Instant::now() < deadline, "stuck at {last:?}: {:?}", ws.log);
            let frame = ws.frame().await;
            let at = topics
                .iter()
                .position(|t| frame["topic"] == t.as_str())
                .expect("a followed topic");
            let seq = frame["seq"].as_i64().unwrap();
            match frame["type"].as_str() {
                Some("event") => {
                    assert_eq!(seq, last[at] + 1, "a silent gap: {:?}", ws.log);
                    last[at] = seq;
                }
                Some("resync") => last[at] = last[at].max(seq),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    // Both instances' listeners are back: each says it is ready again.
    for server in [&f.server, &writer] {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let ready = reqwest::get(server.url("/readyz")).await.unwrap();
            if ready.status() == 200 {
                break;
            }
            assert!(Instant::now() < deadline, "{}", ready.text().await.unwrap());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    writer.stop().await;
    f.server.stop().await;
}
