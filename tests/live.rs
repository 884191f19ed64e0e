//! The live channel of PROTOCOL.md sections 2 to 8: `/ws` and `/events`
//! through the full router, with real WebSocket and HTTP clients, on
//! SQLite and PostgreSQL. Every frame received is checked by the
//! protocol's validator (see `common::ws`).
#![cfg(feature = "ssr")]

mod common;

use std::time::Duration;

use common::{
    family, family_on, list_topic, server_with, token_for, tokens,
    ws::{self, open, open_browser, seq, Open, Received, Ws},
    Db, Family, FreshDb, TestServer,
};
use futures::future::join_all;
use giftlist::{
    auth::{jwt::Tokens, secret::JwtSecret},
    model::UserId,
};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, Message};

on_both_backends!(
    the_three_ways_in_each_start_with_welcome,
    refused_credentials_close_with_4401,
    foreign_origins_are_refused_at_the_upgrade,
    topics_are_granted_only_to_their_audience,
    two_sockets_of_one_user_both_receive,
    recipient_stream_has_no_claims_and_no_gaps,
    family_and_user_topics_carry_their_events,
    reconnect_with_since_replays_exactly_the_missed_events,
    since_out_of_reach_gets_resync,
    restart_keeps_seq_and_replays_across_it,
    a_slow_reader_is_closed_and_fifty_others_keep_up,
    silence_closes_with_4408_and_pings_keep_alive,
    limits_on_sockets_topics_and_frame_rate,
    bad_frames_get_their_documented_answer,
    logout_closes_the_sessions_sockets_and_streams,
    an_expiring_token_closes_its_socket,
    sse_by_cookie_bearer_and_query_token,
    sse_replays_after_last_event_id,
    metrics_count_connections_and_events,
);

/// One of the server's `/metrics` counters, read in the process.
fn counter(
    server: &TestServer,
    pick: impl Fn(&giftlist::metrics::Metrics) -> &std::sync::atomic::AtomicU64,
) -> u64 {
    pick(server.state.service.bus.hub().metrics()).load(std::sync::atomic::Ordering::Relaxed)
}

/// A socket by token, subscribed to `topics`, after `subscribed`.
async fn subscribed(server: &TestServer, user: &str, topics: &[&str], since: Value) -> Ws {
    let mut ws = ws::open_as(server, user).await;
    ws.subscribe(topics, since, "s1").await;
    ws
}

async fn the_three_ways_in_each_start_with_welcome(db: Db) {
    let f = family(db).await;
    let server = &f.server;
    // 1. The session cookie, with the allowed Origin.
    let mut by_cookie = open(
        server,
        Open {
            cookie: f.member.cookie_header(),
            origin: Some(server.origin()),
            token: None,
        },
    )
    .await
    .unwrap();
    let welcome = by_cookie.expect("welcome").await;
    assert_eq!(welcome["user_id"], f.member_id.as_str());
    assert_eq!(welcome["heartbeat_ms"], 30_000);
    assert!(welcome["connection_id"].as_str().unwrap().starts_with("c_"));
    // 2. ?token=, from a script (no Origin).
    let mut by_query = open(
        server,
        Open {
            token: Some(token_for(server, &f.member_id)),
            ..Open::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        by_query.expect("welcome").await["user_id"],
        f.member_id.as_str()
    );
    // 3. The first frame.
    let mut by_frame = open(server, Open::default()).await.unwrap();
    by_frame.expect_silence(Duration::from_millis(200)).await;
    by_frame
        .send(json!({ "type": "auth", "token": token_for(server, &f.recipient_id) }))
        .await;
    let welcome = by_frame.expect("welcome").await;
    assert_eq!(welcome["user_id"], f.recipient_id.as_str());
    assert_ne!(welcome["connection_id"], by_query.log[0]["connection_id"]);
    // Each works: ping, pong.
    for ws in [&mut by_cookie, &mut by_query, &mut by_frame] {
        ws.send(json!({ "type": "ping", "id": "p" })).await;
        assert_eq!(
            ws.expect("pong").await,
            json!({ "type": "pong", "id": "p" })
        );
    }
    f.server.stop().await;
}

async fn refused_credentials_close_with_4401(db: Db) {
    let f = family(db).await;
    let server = &f.server;
    let expect_4401 = |how: Open| async move {
        let mut ws = open(server, how)
            .await
            .expect("the upgrade itself succeeds");
        ws.expect_close(4401, false).await;
    };
    // A token that is not ours, and one signed with another secret.
    expect_4401(Open {
        token: Some("not.a.token".into()),
        ..Open::default()
    })
    .await;
    let forged = Tokens::new(
        &JwtSecret::load(Some(&"x".repeat(40)), server.db.dir.path()).unwrap(),
        Duration::from_secs(60),
    )
    .issue(&UserId(f.member_id.clone()))
    .token;
    expect_4401(Open {
        token: Some(forged),
        ..Open::default()
    })
    .await;
    // An expired one.
    let expired = tokens(server, Duration::ZERO)
        .issue(&UserId(f.member_id.clone()))
        .token;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    expect_4401(Open {
        token: Some(expired.clone()),
        ..Open::default()
    })
    .await;
    // The cookie without Origin is ignored: the socket must authenticate,
    // and a first frame that is not auth closes it.
    let mut ws = open(
        server,
        Open {
            cookie: f.member.cookie_header(),
            ..Open::default()
        },
    )
    .await
    .unwrap();
    ws.send(json!({ "type": "subscribe", "topics": [list_topic(&f)] }))
        .await;
    ws.expect_close(4401, false).await;
    // A cookie naming no live session is ignored too.
    let mut ws = open(
        server,
        Open {
            cookie: Some("giftlist_session=forged".into()),
            origin: Some(server.origin()),
            token: None,
        },
    )
    .await
    .unwrap();
    ws.send(json!({ "type": "auth", "token": expired })).await;
    ws.expect_close(4401, false).await;
    // Nothing within 5 s.
    let mut ws = open(server, Open::default()).await.unwrap();
    let started = std::time::Instant::now();
    match ws.next_within(Duration::from_secs(7)).await {
        Some(Received::Close(Some(4401))) => {}
        other => panic!("expected 4401 after 5 s, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(4900));
    assert!(
        ws.log.is_empty(),
        "nothing is sent before welcome: {:?}",
        ws.log
    );
    f.server.stop().await;
}

async fn foreign_origins_are_refused_at_the_upgrade(db: Db) {
    let f = family(db).await;
    let server = &f.server;
    for origin in [
        "http://evil.example",
        &format!("https://{}", server.addr),
        "null",
    ] {
        let refused = open(
            server,
            Open {
                cookie: f.member.cookie_header(),
                origin: Some(origin.to_owned()),
                token: Some(token_for(server, &f.member_id)),
            },
        )
        .await;
        match refused {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
            other => panic!("{origin}: expected 403, got {:?}", other.map(|_| ())),
        }
    }
    // A plain GET is not an upgrade.
    let plain = reqwest::get(server.url("/ws")).await.unwrap();
    assert_eq!(plain.status(), 400);
    f.server.stop().await;
}

async fn topics_are_granted_only_to_their_audience(db: Db) {
    let f = family(db).await;
    // A second family, of someone else, with a list.
    let stranger = f.server.browser();
    let stranger_id = stranger.register("Eve").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_family = stranger
        .post("/families", json!({ "name": "Others" }))
        .await
        .expect(201)["family"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_list = stranger
        .post(
            &format!("/families/{other_family}/lists"),
            json!({ "title": "Eve's", "recipient_name": "Eve" }),
        )
        .await
        .expect(201)["list"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut ws = open_browser(&f.server, &f.member).await;
    let mine = list_topic(&f);
    let family_topic = format!("family:{}", f.family_id);
    let user_topic = format!("user:{}", f.member_id);
    let theirs = format!("gift-list:{other_list}");
    let unknown = "gift-list:l_doesnotexist".to_owned();
    ws.send(json!({
        "type": "subscribe",
        "topics": [mine, theirs, format!("family:{other_family}"), format!("user:{stranger_id}"),
                   unknown, "list:l_1", "gift-list:", "x".repeat(300), family_topic, user_topic],
        "id": "r1"
    }))
    .await;
    let mut errors = Vec::new();
    let mut subscribed = None;
    for _ in 0..8 {
        let frame = ws.frame().await;
        match frame["type"].as_str() {
            Some("error") => errors.push(frame),
            Some("subscribed") => subscribed = Some(frame),
            _ => panic!("unexpected {frame}"),
        }
    }
    assert_eq!(
        subscribed.unwrap(),
        json!({ "type": "subscribed", "topics": [mine, family_topic, user_topic], "id": "r1" })
    );
    let codes: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e["code"].as_str().unwrap(), e["topic"].as_str().unwrap()))
        .collect();
    let long = "x".repeat(300);
    assert_eq!(
        codes,
        vec![
            ("forbidden", theirs.as_str()),
            ("forbidden", &format!("family:{other_family}")),
            ("forbidden", &format!("user:{stranger_id}")),
            ("forbidden", "gift-list:l_doesnotexist"),
            ("bad_request", "list:l_1"),
            ("bad_request", "gift-list:"),
            ("bad_request", long.as_str()),
        ]
    );
    // No existence oracle: another family's list reads like an unknown one.
    assert_eq!(errors[0]["message"], errors[3]["message"]);
    assert!(errors.iter().all(|e| e["id"] == "r1"));
    // Nothing of the other family arrives.
    stranger
        .post(
            &format!("/lists/{other_list}/items"),
            json!({ "title": "Secret" }),
        )
        .await
        .expect(201);
    ws.expect_silence(Duration::from_millis(300)).await;
    f.server.stop().await;
}

async fn two_sockets_of_one_user_both_receive(db: Db) {
    let f = family(db).await;
    let topic = list_topic(&f);
    let mut first = open_browser(&f.server, &f.member).await;
    first.subscribe(&[&topic], json!({}), "a").await;
    let mut second = subscribed(&f.server, &f.member_id, &[&topic], json!({})).await;
    // Subscribing again is acknowledged again and never duplicates events.
    second
        .subscribe(&[&topic], json!({ topic.clone(): 0 }), "again")
        .await;
    let item = f.add_item(&f.admin, "Kite").await;
    for ws in [&mut first, &mut second] {
        let event = ws.expect("event").await;
        assert_eq!(event["event"], "ADDED");
        assert_eq!(event["seq"], 1);
        assert_eq!(event["topic"], topic.as_str());
        assert_eq!(event["data"]["entity_id"], item["id"]);
        assert_eq!(event["data"]["payload"], item);
        assert_eq!(event["data"]["tenant_id"], f.family_id.as_str());
        ws.expect_silence(Duration::from_millis(200)).await;
    }
    // Unsubscribed, a socket hears no more; the other still does.
    second
        .send(json!({ "type": "unsubscribe", "topics": [topic], "id": "u" }))
        .await;
    assert_eq!(
        second.expect("unsubscribed").await,
        json!({ "type": "unsubscribed", "topics": [topic], "id": "u" })
    );
    f.add_item(&f.admin, "Yo-yo").await;
    assert_eq!(first.expect("event").await["seq"], 2);
    second.expect_silence(Duration::from_millis(300)).await;
    f.server.stop().await;
}

async fn recipient_stream_has_no_claims_and_no_gaps(db: Db) {
    let f = family(db).await;
    let topic = list_topic(&f);
    let mut member = subscribed(&f.server, &f.member_id, &[&topic], json!({})).await;
    let mut recipient = subscribed(&f.server, &f.recipient_id, &[&topic], json!({})).await;
    let item = f.add_item(&f.admin, "Bike").await;
    let id = item["id"].as_str().unwrap();
    f.claim(&f.member, id, "reserved").await;
    f.admin
        .patch(
            &format!("/items/{id}"),
            json!({ "version": 1, "title": "Red bike" }),
        )
        .await
        .expect(200);
    f.claim(&f.member, id, "purchased").await;
    f.member
        .delete(&format!("/items/{id}/claim"))
        .await
        .expect(200);
    f.admin.delete(&format!("/items/{id}")).await.expect(204);

    let seen = member.events(6).await;
    let names: Vec<_> = seen.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "ADDED",
            "STATUS_CHANGED",
            "UPDATED",
            "STATUS_CHANGED",
            "STATUS_CHANGED",
            "DELETED"
        ]
    );
    assert_eq!(seen.iter().map(seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    assert_eq!(seen[1]["data"]["payload"]["claim"]["status"], "reserved");
    assert_eq!(seen[1]["data"]["user_id"], f.member_id.as_str());

    let theirs = recipient.events(3).await;
    let names: Vec<_> = theirs
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ADDED", "UPDATED", "DELETED"]);
    assert_eq!(theirs.iter().map(seq).collect::<Vec<_>>(), [1, 2, 3]);
    for event in &theirs {
        assert_eq!(event["data"]["payload"]["claim"], Value::Null, "{event}");
    }
    // The version the recipient sees moved only with the edit.
    assert_eq!(theirs[1]["data"]["payload"]["version"], 2);
    recipient.expect_silence(Duration::from_millis(300)).await;
    // The events as received also pass the `giftlist validate-event` command.
    let file = f.server.db.dir.path().join("frames.jsonl");
    let lines: Vec<String> = member
        .log
        .iter()
        .chain(&recipient.log)
        .filter(|frame| frame["type"] == "event")
        .map(Value::to_string)
        .collect();
    assert_eq!(lines.len(), 9);
    std::fs::write(&file, lines.join("\n")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_giftlist"))
        .arg("validate-event")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let everything = serde_json::to_string(&recipient.log).unwrap();
    assert!(!everything.contains("reserved") && !everything.contains("purchased"));
    assert!(
        !everything.contains(&f.member_id),
        "the claimer is never named"
    );
    f.server.stop().await;
}

async fn family_and_user_topics_carry_their_events(db: Db) {
    let f = family(db).await;
    let family_topic = format!("family:{}", f.family_id);
    let user_topic = format!("user:{}", f.member_id);
    let mut ws = subscribed(
        &f.server,
        &f.member_id,
        &[&family_topic, &user_topic],
        json!({}),
    )
    .await;
    // A list made, then renamed and removed; the member's claim changed by another.
    let list = f
        .admin
        .post(
            &format!("/families/{}/lists", f.family_id),
            json!({ "title": "Summer", "recipient_name": "Gran" }),
        )
        .await
        .expect(201)["list"]
        .clone();
    let list_id = list["id"].as_str().unwrap();
    let item = f
        .admin
        .post(
            &format!("/lists/{list_id}/items"),
            json!({ "title": "Hat" }),
        )
        .await
        .expect(201)["item"]
        .clone();
    let item_id = item["id"].as_str().unwrap();
    f.claim(&f.member, item_id, "reserved").await;
    f.admin
        .patch(
            &format!("/items/{item_id}"),
            json!({ "version": 1, "notes": "size M" }),
        )
        .await
        .expect(200);
    f.admin
        .patch(&format!("/lists/{list_id}"), json!({ "title": "Summer!" }))
        .await
        .expect(200);
    f.admin
        .delete(&format!("/lists/{list_id}"))
        .await
        .expect(204);

    let got = ws.events(5).await;
    let seen: Vec<(&str, &str, i64)> = got
        .iter()
        .map(|e| {
            (
                e["topic"].as_str().unwrap(),
                e["event"].as_str().unwrap(),
                seq(e),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (family_topic.as_str(), "ADDED", 4),
            (user_topic.as_str(), "UPDATED", 1),
            (family_topic.as_str(), "UPDATED", 5),
            (user_topic.as_str(), "DELETED", 2),
            (family_topic.as_str(), "DELETED", 6),
        ],
        "the family's first three events were two members joining and the first list"
    );
    assert_eq!(got[1]["data"]["payload"]["notes"], "size M");
    f.server.stop().await;
}

async fn reconnect_with_since_replays_exactly_the_missed_events(db: Db) {
    let f = family(db).await;
    let topic = list_topic(&f);
    let mut first = subscribed(&f.server, &f.member_id, &[&topic], json!({})).await;
    for n in 0..3 {
        f.add_item(&f.admin, &format!("before {n}")).await;
    }
    assert_eq!(
        first.events(3).await.iter().map(seq).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    drop(first);

    // Nobody holds the topic now: the replay comes from the outbox.
    for n in 0..4 {
        f.add_item(&f.admin, &format!("missed {n}")).await;
    }
    let mut back = subscribed(
        &f.server,
        &f.member_id,
        &[&topic],
        json!({ topic.clone(): 3 }),
    )
    .await;
    let replayed = back.events(4).await;
    assert_eq!(replayed.iter().map(seq).collect::<Vec<_>>(), [4, 5, 6, 7]);
    assert_eq!(replayed[0]["data"]["payload"]["title"], "missed 0");
    f.add_item(&f.admin, "live").await;
    assert_eq!(seq(&back.expect("event").await), 8);
    back.expect_silence(Duration::from_millis(200)).await;

    // With the topic held by another socket, a replay the hub's memory
    // covers comes from there, one it does not from the outbox: same answers.
    f.add_item(&f.admin, "live 2").await;
    f.add_item(&f.admin, "live 3").await;
    assert_eq!(
        back.events(2).await.iter().map(seq).collect::<Vec<_>>(),
        [9, 10]
    );
    let replays = |server: &TestServer| counter(server, |m| &m.replays);
    let before = replays(&f.server);
    let mut third = subscribed(
        &f.server,
        &f.member_id,
        &[&topic],
        json!({ topic.clone(): 8 }),
    )
    .await;
    assert_eq!(
        third.events(2).await.iter().map(seq).collect::<Vec<_>>(),
        [9, 10]
    );
    let mut fourth = subscribed(
        &f.server,
        &f.member_id,
        &[&topic],
        json!({ topic.clone(): 2 }),
    )
    .await;
    assert_eq!(
        fourth.events(8).await.iter().map(seq).collect::<Vec<_>>(),
        [3, 4, 5, 6, 7, 8, 9, 10]
    );
    assert_eq!(replays(&f.server), before + 2);
    f.add_item(&f.admin, "both").await;
    for ws in [&mut back, &mut third, &mut fourth] {
        assert_eq!(seq(&ws.expect("event").await), 11);
    }
    third.expect_silence(Duration::from_millis(200)).await;
    f.server.stop().await;
}

async fn since_out_of_reach_gets_resync(db: Db) {
    let f = family(db).await;
    let topic = list_topic(&f);
    for n in 0..2 {
        f.add_item(&f.admin, &format!("item {n}")).await;
    }
    // Ahead of the topic.
    let mut ws = subscribed(
        &f.server,
        &f.member_id,
        &[&topic],
        json!({ topic.clone(): 9 }),
    )
    .await;
    assert_eq!(
        ws.expect("resync").await,
        json!({ "type": "resync", "topic": topic, "seq": 2, "id": "s1" })
    );
    // Live events continue after the resync's seq.
    f.add_item(&f.admin, "after").await;
    assert_eq!(seq(&ws.expect("event").await), 3);

    // Older than the server keeps (more than 500 events behind): written
    // straight into the outbox, which is what replay reads.
    common::append_events(
        &f.server,
        &topic,
        giftlist::store::outbox::Audience::Members,
        600,
    )
    .await;
    let mut late = subscribed(
        &f.server,
        &f.member_id,
        &[&topic],
        json!({ topic.clone(): 1 }),
    )
    .await;
    assert_eq!(late.expect("resync").await["seq"], 603);
    // Within reach, the same server replays.
    let mut near = subscribed(
        &f.server,
        &f.member_id,
        &[&topic],
        json!({ topic.clone(): 600 }),
    )
    .await;
    assert_eq!(
        near.events(3).await.iter().map(seq).collect::<Vec<_>>(),
        [601, 602, 603]
    );
    let resyncs = counter(&f.server, |m| &m.resyncs);
    assert_eq!(resyncs, 2);
    f.server.stop().await;
}

async fn restart_keeps_seq_and_replays_across_it(db: Db) {
    let f = family(db).await;
    let topic = list_topic(&f);
    let mut ws = subscribed(&f.server, &f.member_id, &[&topic], json!({})).await;
    f.add_item(&f.admin, "one").await;
    f.add_item(&f.admin, "two").await;
    assert_eq!(
        ws.events(2).await.iter().map(seq).collect::<Vec<_>>(),
        [1, 2]
    );
    f.add_item(&f.admin, "three").await;
    // The server goes away; the socket is closed, not dropped.
    let settings = f.server.db.settings();
    let fresh = f.server.stop_keeping_db().await;
    match ws.next_within(ws::WAIT).await {
        Some(Received::Frame(frame)) => {
            assert_eq!(seq(&frame), 3, "an event in flight may still arrive");
        }
        Some(Received::Close(_)) | Some(Received::Gone) | None => {}
    }
    let server = TestServer::start_with(fresh, settings).await;
    let mut back = subscribed(
        &server,
        &f.member_id,
        &[&topic],
        json!({ topic.clone(): 2 }),
    )
    .await;
    assert_eq!(seq(&back.expect("event").await), 3);
    // New changes continue the numbering.
    let answer = common::call(
        reqwest::Client::new()
            .post(server.url(&format!("/api/v1/lists/{}/items", f.list_id)))
            .bearer_auth(token_for(&server, &f.member_id))
            .json(&json!({ "title": "four" })),
    )
    .await;
    answer.expect(201);
    assert_eq!(seq(&back.expect("event").await), 4);
    server.stop().await;
}

/// Adds `count` items with big payloads, ten at a time.
async fn add_big_items(f: &Family, count: usize) {
    let notes = "n".repeat(2000);
    let path = format!("/lists/{}/items", f.list_id);
    let url = format!("https://example.org/{}", "u".repeat(1900));
    for chunk in (0..count).collect::<Vec<_>>().chunks(10) {
        join_all(chunk.iter().map(|n| {
            f.admin.post(
                &path,
                json!({ "title": format!("big {n}"), "notes": notes, "url": url }),
            )
        }))
        .await
        .into_iter()
        .for_each(|answer| {
            answer.expect(201);
        });
    }
}

async fn a_slow_reader_is_closed_and_fifty_others_keep_up(db: Db) {
    const EVENTS: usize = 300;
    let server = server_with(db, |s| {
        s.ws_queue_bytes = 32 * 1024;
        s.ws_max_frame_bytes = 16 * 1024;
        s.ws_max_sockets_per_user = 100;
    })
    .await;
    let f = family_on(server).await;
    let topic = list_topic(&f);
    // The slow reader: a tiny receive buffer, and it stops reading.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(f.server.addr).await.unwrap();
    let url = format!(
        "ws://{}/ws?token={}",
        f.server.addr,
        token_for(&f.server, &f.member_id)
    );
    let (stream, _) = tokio_tungstenite::client_async(url, tungstenite_stream(tcp))
        .await
        .unwrap();
    let mut slow = Ws {
        stream,
        log: Vec::new(),
    };
    slow.expect("welcome").await;
    slow.subscribe(&[&topic], json!({}), "slow").await;

    let mut readers = Vec::new();
    for _ in 0..50 {
        let mut ws = subscribed(&f.server, &f.member_id, &[&topic], json!({})).await;
        readers.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            while seqs.len() < EVENTS {
                match ws.next_within(Duration::from_secs(20)).await {
                    Some(Received::Frame(frame)) => seqs.push(seq(&frame)),
                    other => panic!("a reader lost its socket: {other:?}"),
                }
            }
            seqs
        }));
    }
    // The writes go on in the background; once the slow reader's queue
    // overflows it reads again, while its close frame still waits to go
    // out (the server gives it a few seconds).
    let writing = async {
        add_big_items(&f, EVENTS).await;
    };
    let slow_reads = async {
        while counter(&f.server, |m| &m.queue_overflows) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Reading again, the slow one finds some events in order, then 4429.
        let mut got = Vec::new();
        loop {
            match slow.next_within(ws::WAIT).await {
                Some(Received::Frame(frame)) => got.push(seq(&frame)),
                Some(Received::Close(code)) => {
                    assert_eq!(code, Some(4429));
                    break;
                }
                other => panic!("expected events then 4429, got {other:?}"),
            }
        }
        got
    };
    let ((), got) = tokio::join!(writing, slow_reads);
    assert!(got.len() < EVENTS, "the slow reader was not cut off");
    assert_eq!(got, (1..=got.len() as i64).collect::<Vec<_>>());
    let expected: Vec<i64> = (1..=EVENTS as i64).collect();
    for reader in readers {
        assert_eq!(reader.await.unwrap(), expected);
    }
    let overflows = counter(&f.server, |m| &m.queue_overflows);
    assert_eq!(overflows, 1);
    f.server.stop().await;
}

fn tungstenite_stream(
    tcp: tokio::net::TcpStream,
) -> tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream> {
    tokio_tungstenite::MaybeTlsStream::Plain(tcp)
}

async fn silence_closes_with_4408_and_pings_keep_alive(db: Db) {
    let server = server_with(db, |s| s.heartbeat_ms = 300).await;
    let f = family_on(server).await;
    let mut silent = open(
        &f.server,
        Open {
            token: Some(token_for(&f.server, &f.member_id)),
            ..Open::default()
        },
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(silent.expect("welcome").await["heartbeat_ms"], 300);
    let mut talker = subscribed(&f.server, &f.member_id, &[], json!({})).await;
    let pinging = tokio::spawn(async move {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            talker.send(json!({ "type": "ping" })).await;
            talker.expect("pong").await;
        }
        talker
    });
    silent.expect_close(4408, false).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(550),
        "closed after {waited:?}"
    );
    assert!(
        waited < Duration::from_millis(2000),
        "closed after {waited:?}"
    );
    let mut talker = pinging.await.unwrap();
    talker.send(json!({ "type": "ping", "id": "still" })).await;
    assert_eq!(talker.expect("pong").await["id"], "still");
    let closes = counter(&f.server, |m| &m.heartbeat_closes);
    assert_eq!(closes, 1);
    f.server.stop().await;
}

async fn limits_on_sockets_topics_and_frame_rate(db: Db) {
    let server = server_with(db, |s| s.ws_max_topics = 3).await;
    let f = family_on(server).await;
    // Sixteen sockets per user; the seventeenth is closed with 4429.
    let mut sockets = Vec::new();
    for _ in 0..16 {
        sockets.push(subscribed(&f.server, &f.member_id, &[], json!({})).await);
    }
    let token = token_for(&f.server, &f.member_id);
    let mut extra = open(
        &f.server,
        Open {
            token: Some(token.clone()),
            ..Open::default()
        },
    )
    .await
    .unwrap();
    extra.expect_close(4429, false).await;
    assert!(extra.log.is_empty(), "no welcome on a refused socket");
    // Another user is not affected; and a freed place can be taken.
    subscribed(&f.server, &f.admin_id, &[], json!({})).await;
    drop(sockets.pop());
    let mut again = None;
    for _ in 0..50 {
        let mut ws = open(
            &f.server,
            Open {
                token: Some(token.clone()),
                ..Open::default()
            },
        )
        .await
        .unwrap();
        if let Some(Received::Frame(frame)) = ws.next_within(ws::WAIT).await {
            assert_eq!(frame["type"], "welcome");
            again = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "a closed socket frees its place");

    // Three topics per socket here.
    let second_list = f
        .add_list(
            &f.admin,
            json!({ "title": "More", "recipient_name": "Gran" }),
        )
        .await;
    let ws = &mut sockets[0];
    let family_topic = format!("family:{}", f.family_id);
    let second = format!("gift-list:{second_list}");
    ws.subscribe(&[&list_topic(&f), &family_topic], json!({}), "t1")
        .await;
    ws.send(json!({ "type": "subscribe", "topics": [second, format!("user:{}", f.member_id), family_topic], "id": "t2" }))
        .await;
    let error = ws.expect("error").await;
    assert_eq!(
        (
            error["code"].as_str(),
            error["topic"].as_str(),
            error["id"].as_str()
        ),
        (
            Some("too_large"),
            Some(format!("user:{}", f.member_id).as_str()),
            Some("t2")
        )
    );
    assert_eq!(
        ws.expect("subscribed").await["topics"],
        json!([second, family_topic])
    );

    // About 100 frames a minute with bursts of 20.
    let ws = &mut sockets[1];
    for _ in 0..25 {
        ws.send(json!({ "type": "ping", "id": "r" })).await;
    }
    let mut pongs = 0;
    let mut limited = 0;
    for _ in 0..25 {
        let frame = ws.frame().await;
        match frame["type"].as_str() {
            Some("pong") => pongs += 1,
            Some("error") => {
                assert_eq!(
                    (frame["code"].as_str(), frame["id"].as_str()),
                    (Some("rate_limited"), Some("r"))
                );
                limited += 1;
            }
            _ => panic!("unexpected {frame}"),
        }
    }
    // The subscribe frame took one of the twenty; refill adds one per 0.6 s.
    assert!((19..=20).contains(&pongs), "{pongs} pongs");
    assert_eq!(pongs + limited, 25);
    // Going on regardless closes the socket.
    for _ in 0..30 {
        ws.send(json!({ "type": "ping" })).await;
    }
    ws.expect_close(4429, true).await;
    f.server.stop().await;
}

async fn bad_frames_get_their_documented_answer(db: Db) {
    use tokio::io::AsyncWriteExt;
    let f = family(db).await;
    // Not JSON, unknown type, bad fields, a second auth: errors, and open.
    let mut ws = subscribed_owned(&f).await;
    ws.send_raw(Message::text("hello")).await;
    let error = ws.expect("error").await;
    assert_eq!(error["code"], "bad_request");
    ws.send(json!({ "type": "dance", "id": "d1" })).await;
    assert_eq!(ws.expect("error").await["id"], "d1");
    ws.send(json!({ "type": "subscribe", "topics": "gift-list:l_1", "id": "d2" }))
        .await;
    assert_eq!((ws.expect("error").await["id"]).as_str(), Some("d2"));
    ws.send(
        json!({ "type": "subscribe", "topics": [], "since": { "gift-list:l_1": -1 }, "id": "d3" }),
    )
    .await;
    assert_eq!(
        (ws.expect("error").await["code"]).as_str(),
        Some("bad_request")
    );
    ws.send(json!({ "type": "auth", "token": "again" })).await;
    assert_eq!(ws.expect("error").await["code"], "bad_request");
    ws.send(json!({ "type": "ping", "id": "alive" })).await;
    assert_eq!(ws.expect("pong").await["id"], "alive");

    // Binary: 1003.
    let mut ws = subscribed_owned(&f).await;
    ws.send_raw(Message::binary(vec![1, 2, 3])).await;
    ws.expect_close(1003, false).await;
    // Over 64 KiB: 1009.
    let mut ws = subscribed_owned(&f).await;
    ws.send_raw(Message::text(format!(
        "{{\"type\":\"ping\",\"id\":\"{}\"}}",
        "x".repeat(70 * 1024)
    )))
    .await;
    ws.expect_close(1009, false).await;
    // Raw frames the client library would not send. A masked text frame
    // holding invalid UTF-8: 1007.
    let mut ws = subscribed_owned(&f).await;
    raw(&mut ws, &[0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]).await;
    ws.expect_close(1007, false).await;
    // A reserved bit without an extension: 1002.
    let mut ws = subscribed_owned(&f).await;
    raw(&mut ws, &[0xC1, 0x82, 0, 0, 0, 0, b'{', b'}']).await;
    ws.expect_close(1002, false).await;
    // An unmasked client frame: 1002.
    let mut ws = subscribed_owned(&f).await;
    raw(&mut ws, &[0x81, 0x02, b'{', b'}']).await;
    ws.expect_close(1002, false).await;

    async fn raw(ws: &mut Ws, bytes: &[u8]) {
        match ws.stream.get_mut() {
            tokio_tungstenite::MaybeTlsStream::Plain(tcp) => tcp.write_all(bytes).await.unwrap(),
            _ => unreachable!(),
        }
    }
    f.server.stop().await;
}

async fn subscribed_owned(f: &Family) -> Ws {
    subscribed(&f.server, &f.member_id, &[], json!({})).await
}

/// A reader of an SSE response: records, and the comments between them.
struct SseReader {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

#[derive(Debug, Default, PartialEq)]
struct Record {
    id: Option<String>,
    event: Option<String>,
    data: Option<Value>,
    comments: Vec<String>,
}

impl SseReader {
    fn new(response: reqwest::Response) -> SseReader {
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        SseReader {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next record (a block ending in a blank line), within 5 s; `None`
    /// when the stream ends.
    async fn next(&mut self) -> Option<Record> {
        use futures::StreamExt;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut record = Record::default();
                for line in block.lines() {
                    if let Some(comment) = line.strip_prefix(':') {
                        record.comments.push(comment.trim().to_owned());
                    } else if let Some((field, value)) = line.split_once(':') {
                        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                        match field {
                            "id" => record.id = Some(value),
                            "event" => record.event = Some(value),
                            "data" => {
                                let data: Value = serde_json::from_str(&value).unwrap();
                                ws::check_frame(&data);
                                record.data = Some(data);
                            }
                            other => panic!("unexpected SSE field {other}"),
                        }
                    }
                }
                return Some(record);
            }
            let chunk = tokio::time::timeout(ws::WAIT, self.body.next())
                .await
                .expect("an SSE record within 5 s")?
                .ok()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next record that is not only a keep-alive comment.
    async fn next_event(&mut self) -> Option<Record> {
        loop {
            let record = self.next().await?;
            if record.event.is_some() || record.data.is_some() {
                return Some(record);
            }
        }
    }
}

/// Makes `f.member` the holder of a claim, then has the admin edit the item:
/// one `UPDATED` on `user:{member}` per call.
async fn notice_member(f: &Family, item: &mut Value) {
    let id = item["id"].as_str().unwrap().to_owned();
    if item["claim"].is_null() {
        f.member
            .post(
                &format!("/items/{id}/claim"),
                json!({ "status": "reserved" }),
            )
            .await
            .expect(200);
    }
    *item = f
        .admin
        .patch(
            &format!("/items/{id}"),
            json!({ "version": item["version"], "notes": format!("v{}", item["version"]) }),
        )
        .await
        .expect(200)["item"]
        .clone();
}

async fn sse_by_cookie_bearer_and_query_token(db: Db) {
    let server = server_with(db, |s| s.sse_keepalive_ms = 200).await;
    let f = family_on(server).await;
    let events_url = f.server.url("/events");
    let token = token_for(&f.server, &f.member_id);
    let by_cookie = f.member.http.get(&events_url).send().await.unwrap();
    let by_bearer = reqwest::Client::new()
        .get(&events_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let by_query = reqwest::get(format!("{events_url}?token={token}"))
        .await
        .unwrap();
    let mut streams: Vec<SseReader> = [by_cookie, by_bearer, by_query]
        .into_iter()
        .map(SseReader::new)
        .collect();
    // Refusals.
    assert_eq!(reqwest::get(&events_url).await.unwrap().status(), 401);
    assert_eq!(
        reqwest::get(format!("{events_url}?token=bad"))
            .await
            .unwrap()
            .status(),
        401
    );
    let bad_bearer = reqwest::Client::new()
        .get(&events_url)
        .bearer_auth("bad")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_bearer.status(), 401);

    // Keep-alive comments while nothing happens.
    for stream in &mut streams {
        let record = stream.next().await.unwrap();
        assert_eq!(record.comments, ["keep-alive"], "{record:?}");
    }
    let mut item = f.add_item(&f.admin, "Scarf").await;
    notice_member(&f, &mut item).await;
    for stream in &mut streams {
        let record = stream.next_event().await.unwrap();
        assert_eq!(record.id.as_deref(), Some("1"));
        assert_eq!(record.event.as_deref(), Some("UPDATED"));
        let data = record.data.unwrap();
        assert_eq!(data["topic"], format!("user:{}", f.member_id));
        assert_eq!(data["data"]["entity_id"], item["id"]);
        assert_eq!(data["data"]["user_id"], f.admin_id.as_str());
    }
    f.server.stop().await;
}

async fn sse_replays_after_last_event_id(db: Db) {
    let f = family(db).await;
    let mut item = f.add_item(&f.admin, "Gloves").await;
    for _ in 0..3 {
        notice_member(&f, &mut item).await;
    }
    let events_url = f.server.url("/events");
    let from = |last: &str| {
        f.member
            .http
            .get(&events_url)
            .header("last-event-id", last)
            .send()
    };
    let mut stream = SseReader::new(from("1").await.unwrap());
    for expected in ["2", "3"] {
        assert_eq!(
            stream.next_event().await.unwrap().id.as_deref(),
            Some(expected)
        );
    }
    notice_member(&f, &mut item).await;
    assert_eq!(stream.next_event().await.unwrap().id.as_deref(), Some("4"));
    // Ahead of the topic: one resync record.
    let mut ahead = SseReader::new(from("99").await.unwrap());
    let record = ahead.next_event().await.unwrap();
    assert_eq!(record.event.as_deref(), Some("resync"));
    assert_eq!(record.id, None);
    assert_eq!(
        record.data.unwrap(),
        json!({ "type": "resync", "topic": format!("user:{}", f.member_id), "seq": 4 })
    );
    let bad = from("soon").await.unwrap();
    assert_eq!(bad.status(), 400);
    f.server.stop().await;
}

async fn logout_closes_the_sessions_sockets_and_streams(db: Db) {
    let f = family(db).await;
    let mut by_cookie = open_browser(&f.server, &f.member).await;
    let mut by_token = subscribed(&f.server, &f.member_id, &[], json!({})).await;
    // Another session of the same user, in another browser.
    let other_browser = f.server.browser();
    let email = f.member.get("/me").await.expect(200)["user"]["email"].clone();
    other_browser
        .post(
            "/auth/login",
            json!({ "email": email, "password": "correct horse battery" }),
        )
        .await
        .expect(200);
    let mut other_session = open_browser(&f.server, &other_browser).await;
    let mut stream = SseReader::new(
        f.member
            .http
            .get(f.server.url("/events"))
            .send()
            .await
            .unwrap(),
    );

    f.member.post("/auth/logout", json!(null)).await.expect(204);
    by_cookie.expect_close(1008, false).await;
    assert!(stream.next_event().await.is_none(), "the SSE stream ends");
    for ws in [&mut by_token, &mut other_session] {
        ws.send(json!({ "type": "ping" })).await;
        ws.expect("pong").await;
    }
    f.server.stop().await;
}

async fn an_expiring_token_closes_its_socket(db: Db) {
    let f = family(db).await;
    let token = tokens(&f.server, Duration::from_secs(2))
        .issue(&UserId(f.member_id.clone()))
        .token;
    let mut ws = open(
        &f.server,
        Open {
            token: Some(token),
            ..Open::default()
        },
    )
    .await
    .unwrap();
    ws.expect("welcome").await;
    ws.send(json!({ "type": "ping" })).await;
    ws.expect("pong").await;
    match ws.next_within(Duration::from_secs(4)).await {
        Some(Received::Close(Some(1008))) => {}
        other => panic!("expected 1008 when the token expires, got {other:?}"),
    }
    f.server.stop().await;
}

async fn metrics_count_connections_and_events(db: Db) {
    let f =
        family_on(server_with(db, |s| s.metrics_token = Some("metrics-secret".into())).await).await;
    let get_metrics = |token: Option<&'static str>| {
        let mut request = reqwest::Client::new().get(f.server.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    // Private: without the token, or with a wrong one, nothing is read.
    assert_eq!(get_metrics(None).await.unwrap().status(), 401);
    assert_eq!(get_metrics(Some("guess")).await.unwrap().status(), 401);
    // Made-up methods share one label instead of adding a series each.
    for method in ["R4ND0M_a", "R4ND0M_b"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        reqwest::Client::new()
            .request(method, f.server.url("/me"))
            .send()
            .await
            .unwrap();
    }
    let metrics = || async {
        let response = get_metrics(Some("metrics-secret")).await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        response.text().await.unwrap()
    };
    let value = |text: &str, name: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from\n{text}"))
            .parse()
            .unwrap()
    };
    let before = metrics().await;
    assert_eq!(value(&before, "giftlist_ws_connections"), 0.0);
    let mut ws = subscribed(&f.server, &f.member_id, &[&list_topic(&f)], json!({})).await;
    f.add_item(&f.admin, "Counted").await;
    ws.expect("event").await;
    let during = metrics().await;
    assert_eq!(value(&during, "giftlist_ws_connections"), 1.0);
    assert_eq!(value(&during, "giftlist_subscriptions"), 1.0);
    assert!(
        value(&during, "giftlist_events_recorded_total")
            >= value(&before, "giftlist_events_recorded_total") + 2.0
    );
    assert_eq!(value(&during, "giftlist_events_delivered_total"), 1.0);
    assert!(value(&during, "giftlist_frames_sent_total") >= 3.0);
    assert!(during.contains("giftlist_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/lists/{id}/items\"} 1"), "{during}");
    assert!(!during.contains("R4ND0M"), "{during}");
    assert!(
        during.contains("method=\"OTHER\""),
        "unknown methods are counted as OTHER: {during}"
    );
    ws.send(json!({ "type": "unsubscribe", "topics": [list_topic(&f)] }))
        .await;
    ws.expect("unsubscribed").await;
    assert_eq!(value(&metrics().await, "giftlist_subscriptions"), 0.0);
    drop(ws);
    let mut closed = false;
    for _ in 0..40 {
        if value(&metrics().await, "giftlist_ws_connections") == 0.0 {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "a closed socket is no longer counted");
    f.server.stop().await;
}

/// Two instances on one PostgreSQL database: a change made through one
/// reaches sockets on the other, and so does a logout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_instances_share_events_and_logouts() {
    let secret = "s".repeat(48);
    let fresh = FreshDb::new(Db::Postgres).await;
    let mut settings = fresh.settings();
    settings.jwt_secret = Some(secret.clone());
    let second_db = fresh.same_database();
    let mut second_settings = second_db.settings();
    second_settings.jwt_secret = Some(secret);
    let f = family_on(TestServer::start_with(fresh, settings).await).await;
    let other = TestServer::start_with(second_db, second_settings).await;

    let topic = list_topic(&f);
    let mut on_other = subscribed(&other, &f.member_id, &[&topic], json!({})).await;
    let mut on_first = subscribed(&f.server, &f.member_id, &[&topic], json!({})).await;
    for n in 0..5 {
        f.add_item(&f.admin, &format!("item {n}")).await;
    }
    for ws in [&mut on_other, &mut on_first] {
        assert_eq!(
            ws.events(5).await.iter().map(seq).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
    }
    // The member's browser session, used on the other instance's socket.
    let mut cookie_socket = open(
        &other,
        Open {
            cookie: f.member.cookie_header(),
            origin: Some(other.origin()),
            token: None,
        },
    )
    .await
    .unwrap();
    // The other instance's origin differs; allow it there.
    match cookie_socket.next_within(ws::WAIT).await {
        Some(Received::Frame(frame)) => assert_eq!(frame["type"], "welcome"),
        other => panic!("expected welcome, got {other:?}"),
    }
    f.member.post("/auth/logout", json!(null)).await.expect(204);
    cookie_socket.expect_close(1008, false).await;
    other.stop().await;
    f.server.stop().await;
}
