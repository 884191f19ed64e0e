//! Reconnecting: `since` replays exactly what was missed, resync beyond
//! reach, and seq kept across a restart.

use std::time::Duration;

use serde_json::json;

use crate::common::ws::{seq, Received};
use crate::common::{family, list_topic, token_for, ws, Db, TestServer};
use crate::on_both_backends;
use crate::{common, counter, subscribed};

on_both_backends!(
    reconnect_with_since_replays_exactly_the_missed_events,
    since_out_of_reach_gets_resync,
    restart_keeps_seq_and_replays_across_it,
);

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
