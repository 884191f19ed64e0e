//! Limits and bad input: slow readers, heartbeats, socket, topic and rate
//! limits, and frames the protocol refuses.

use std::time::Duration;

use futures::future::join_all;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::common::ws::{open, seq, Open, Received, Ws};
use crate::common::{family, family_on, list_topic, server_with, token_for, ws, Db, Family};
use crate::on_both_backends;
use crate::{counter, subscribed};

on_both_backends!(
    a_slow_reader_is_closed_and_fifty_others_keep_up,
    silence_closes_with_4408_and_pings_keep_alive,
    limits_on_sockets_topics_and_frame_rate,
    bad_frames_get_their_documented_answer,
);

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

async fn subscribed_owned(f: &Family) -> Ws {
    subscribed(&f.server, &f.member_id, &[], json!({})).await
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
