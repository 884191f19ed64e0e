//! The same channel as server-sent events: three ways in, keep-alives, and
//! replay after `Last-Event-ID`.

use serde_json::{json, Value};

use crate::common::sse::SseReader;
use crate::common::{family, family_on, server_with, token_for, Db, Family};
use crate::on_both_backends;

on_both_backends!(
    sse_by_cookie_bearer_and_query_token,
    sse_replays_after_last_event_id,
);

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
    // A browser that takes compressed answers: events are never
    // compressed (a compressor would hold each back until it had more).
    let compressible = f
        .member
        .http
        .get(&events_url)
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(compressible.headers().get("content-encoding"), None);
    let mut streams: Vec<SseReader> = [by_cookie, by_bearer, by_query, compressible]
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
