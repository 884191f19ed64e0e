//! A socket lives no longer than its credentials: logout and token
//! expiry close it.

use std::time::Duration;

use giftlist::model::UserId;
use serde_json::json;

use crate::common::sse::SseReader;
use crate::common::ws::{open, open_browser, Open, Received};
use crate::common::{family, tokens, Db};
use crate::on_both_backends;
use crate::subscribed;

on_both_backends!(
    logout_closes_the_sessions_sockets_and_streams,
    an_expiring_token_closes_its_socket,
);

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
