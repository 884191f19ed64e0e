//! The three ways in (cookie, token frame, query token), refused
//! credentials and foreign origins.

use std::time::Duration;

use giftlist::auth::jwt::Tokens;
use giftlist::auth::secret::JwtSecret;
use giftlist::model::UserId;
use serde_json::json;
use tokio_tungstenite::tungstenite;

use crate::common::ws::{open, Open, Received};
use crate::common::{family, list_topic, token_for, tokens, Db};
use crate::on_both_backends;

on_both_backends!(
    the_three_ways_in_each_start_with_welcome,
    refused_credentials_close_with_4401,
    foreign_origins_are_refused_at_the_upgrade,
);

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
            ..Open::default()
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
            ..Open::default()
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
                share: None,
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
