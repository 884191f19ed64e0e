//! Claimers' notices by mail: a notice no live page of its holder was
//! given goes out in one digest a few minutes later, at most one an hour,
//! only to the people who hold a claim (never the recipient, never whoever
//! made the change), and never for what a live connection already showed.

use std::time::Duration;

use serde_json::json;

use crate::common::{family_on, server_with, smtp::Smtp, ws, Db, Family, TestServer};
use crate::on_both_backends;

on_both_backends!(
    missed_notices_come_as_one_digest_an_hour,
    notices_given_live_are_not_mailed,
    the_server_mails_digests_on_its_own,
);

/// A server that mails through `smtp`, with the default timings spelled
/// out: the digest is driven by the test through `send_notice_digests`
/// with its own clock (the server's own timer finds nothing this young).
async fn server(db: Db, smtp: &Smtp) -> TestServer {
    let url = smtp.url();
    server_with(db, move |s| {
        s.smtp_url = Some(url);
        s.mail_retry_ms = 100;
        s.notice_mail_delay_secs = 300;
        s.notice_digest_every_secs = 3600;
        // A closed `/events` stream is found at its next write.
        s.sse_keepalive_ms = 200;
    })
    .await
}

/// How many of `user`'s notices are kept for the mail.
async fn kept(f: &Family, user: &str) -> i64 {
    let user = giftlist::model::UserId(user.to_owned());
    giftlist::store::notices::count(f.server.state.store.pool(), &user)
        .await
        .unwrap()
}

/// Waits (at most 5 s) until `user` has `want` notices kept: a notice
/// given to a live connection is forgotten just after it is sent.
async fn kept_becomes(f: &Family, user: &str, want: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = kept(f, user).await;
        if now == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{user} has {now} notices kept, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (at most 5 s) until no connection of `user` follows their
/// notices: the server has seen the socket close.
async fn offline(f: &Family, user: &str) {
    let hub = f.server.state.service.bus.hub().clone();
    let id = giftlist::model::UserId(user.to_owned());
    let topic = format!("user:{user}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while hub.audience_held(&id, &topic).is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{user} still follows {topic}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn add(f: &Family, title: &str) -> (String, i64) {
    let item = f.add_item(&f.admin, title).await;
    (
        item["id"].as_str().unwrap().to_owned(),
        item["version"].as_i64().unwrap(),
    )
}

/// Renames an item as `by`; returns its new version.
async fn rename(by: &crate::common::Browser, id: &str, version: i64, title: &str) -> i64 {
    by.patch(
        &format!("/items/{id}"),
        json!({ "version": version, "title": title }),
    )
    .await
    .expect(200)["item"]["version"]
        .as_i64()
        .unwrap()
}

async fn address(by: &crate::common::Browser) -> String {
    let me = by.get("/me").await.expect(200);
    format!("<{}>", me["user"]["email"].as_str().unwrap())
}

/// A mail's text with quoted-printable soft breaks undone.
fn text(mail: &crate::common::smtp::Received) -> String {
    mail.data.replace("=\r\n", "").replace("=3D", "=")
}

async fn missed_notices_come_as_one_digest_an_hour(db: Db) {
    let mut smtp = Smtp::start().await;
    let f = family_on(server(db, &smtp).await).await;
    let service = f.server.state.service.clone();
    let (bob, alice) = (f.member_id.clone(), f.admin_id.clone());
    let (scarf, scarf_v) = add(&f, "Scarf").await;
    let (gloves, _) = add(&f, "Gloves").await;
    let (hat, hat_v) = add(&f, "Hat").await;
    f.claim(&f.member, &scarf, "reserved").await;
    f.claim(&f.member, &gloves, "reserved").await;
    f.claim(&f.admin, &hat, "reserved").await;

    // Nobody has a page open. Alice changes one of Bob's and removes the
    // other; Bob changes Alice's. Each claimer's notices are kept, never
    // the changer's own, never for Carol (whose list it is).
    let scarf_v = rename(&f.admin, &scarf, scarf_v, "Red scarf").await;
    f.admin
        .delete(&format!("/items/{gloves}"))
        .await
        .expect(204);
    rename(&f.member, &hat, hat_v, "Sun hat").await;
    assert_eq!(kept(&f, &bob).await, 2);
    assert_eq!(kept(&f, &alice).await, 1);
    assert_eq!(kept(&f, &f.recipient_id).await, 0);

    // Too fresh: a page may yet be given them. Five minutes on, one
    // digest each.
    let now = chrono::Utc::now().timestamp();
    assert_eq!(service.send_notice_digests(now).await.unwrap(), 0);
    assert_eq!(service.send_notice_digests(now + 301).await.unwrap(), 2);
    let mails = [smtp.mail().await, smtp.mail().await];
    let bobs = address(&f.member).await;
    let (to_bob, to_alice) = if mails[0].to == [bobs.clone()] {
        (&mails[0], &mails[1])
    } else {
        (&mails[1], &mails[0])
    };
    assert_eq!(to_bob.to, [bobs]);
    assert_eq!(to_alice.to, [address(&f.admin).await]);
    let bob_text = text(to_bob);
    assert!(
        bob_text.contains("2 gifts you claimed have changed"),
        "{bob_text}"
    );
    assert!(
        bob_text.contains("\"Red scarf\" on \"Carol's birthday\" was changed."),
        "{bob_text}"
    );
    assert!(
        bob_text.contains("\"Gloves\" on \"Carol's birthday\" was removed."),
        "{bob_text}"
    );
    assert!(
        to_bob
            .link(&f.server.url(&format!("/lists/{}", f.list_id)))
            .is_some(),
        "{bob_text}"
    );
    let alice_text = text(to_alice);
    assert!(alice_text.contains("A gift you claimed has changed"));
    assert!(alice_text.contains("\"Sun hat\" on \"Carol's birthday\" was changed."));
    assert!(!alice_text.contains("scarf"), "{alice_text}");
    assert!(smtp.mail_within(Duration::from_millis(300)).await.is_none());
    assert_eq!(kept(&f, &bob).await, 0);

    // Within the hour, what is new waits; an hour after the last digest it
    // goes, alone.
    let scarf_v = rename(&f.admin, &scarf, scarf_v, "Blue scarf").await;
    assert_eq!(service.send_notice_digests(now + 900).await.unwrap(), 0);
    assert_eq!(kept(&f, &bob).await, 1);
    assert_eq!(
        service.send_notice_digests(now + 301 + 3600).await.unwrap(),
        1
    );
    let later = text(&smtp.mail().await);
    assert!(later.contains("A gift you claimed has changed"), "{later}");
    assert!(later.contains("\"Blue scarf\""), "{later}");
    assert!(!later.contains("Gloves"), "{later}");

    // Turned off: nothing goes, and nothing waits.
    let off = f
        .member
        .send(
            reqwest::Method::PUT,
            "/me/mails",
            Some(json!({ "notices": false })),
        )
        .await
        .expect(200);
    assert_eq!(off, json!({ "reminders": true, "notices": false }));
    let me = f.member.get("/me").await.expect(200);
    assert_eq!(
        (&me["reminders"], &me["notice_mails"]),
        (&json!(true), &json!(false))
    );
    rename(&f.admin, &scarf, scarf_v, "Green scarf").await;
    assert_eq!(service.send_notice_digests(now + 100_000).await.unwrap(), 0);
    assert_eq!(kept(&f, &bob).await, 0);

    // Bad input.
    for body in [
        json!({}),
        json!({ "notices": "yes" }),
        json!({ "other": true }),
    ] {
        f.member
            .send(reqwest::Method::PUT, "/me/mails", Some(body))
            .await
            .expect_error(400, "bad_request");
    }
    f.server.stop().await;
}

async fn notices_given_live_are_not_mailed(db: Db) {
    let mut smtp = Smtp::start().await;
    let f = family_on(server(db, &smtp).await).await;
    let service = f.server.state.service.clone();
    let bob = f.member_id.clone();
    let (scarf, mut version) = add(&f, "Scarf").await;
    f.claim(&f.member, &scarf, "reserved").await;
    let far = chrono::Utc::now().timestamp() + 100_000;

    // Bob's page (its `/events` stream) shows the notice: nothing is kept.
    let events = f
        .member
        .http
        .get(f.server.url("/events"))
        .send()
        .await
        .unwrap();
    let mut page = crate::common::sse::SseReader::new(events);
    version = rename(&f.admin, &scarf, version, "Red scarf").await;
    let shown = page.next_event().await.expect("a notice");
    assert_eq!(shown.event.as_deref(), Some("UPDATED"));
    kept_becomes(&f, &bob, 0).await;
    drop(page);

    // A socket following his topic: the same.
    let topic = format!("user:{bob}");
    let mut socket = ws::open_browser(&f.server, &f.member).await;
    socket.subscribe(&[&topic], json!({}), "s1").await;
    version = rename(&f.admin, &scarf, version, "Blue scarf").await;
    let seen = ws::seq(&socket.events(1).await[0]);
    kept_becomes(&f, &bob, 0).await;
    socket.stream.close(None).await.unwrap();
    drop(socket);
    offline(&f, &bob).await;

    // Offline, it is kept; back with `since`, the replay shows it, and it
    // is forgotten.
    version = rename(&f.admin, &scarf, version, "Green scarf").await;
    assert_eq!(kept(&f, &bob).await, 1);
    let mut socket = ws::open_browser(&f.server, &f.member).await;
    socket
        .subscribe(&[&topic], json!({ topic.clone(): seen }), "s2")
        .await;
    let replayed = socket.events(1).await;
    assert_eq!(replayed[0]["data"]["payload"]["title"], "Green scarf");
    kept_becomes(&f, &bob, 0).await;
    socket.stream.close(None).await.unwrap();
    drop(socket);
    assert_eq!(service.send_notice_digests(far).await.unwrap(), 0);

    // Missed, and then Bob leaves the family: the notice is for nobody.
    offline(&f, &bob).await;
    rename(&f.admin, &scarf, version, "Grey scarf").await;
    assert_eq!(kept(&f, &bob).await, 1);
    f.member
        .delete(&format!("/families/{}/members/{bob}", f.family_id))
        .await
        .expect(204);
    assert_eq!(service.send_notice_digests(far).await.unwrap(), 0);
    assert_eq!(kept(&f, &bob).await, 0);
    assert!(smtp.mail_within(Duration::from_millis(300)).await.is_none());
    f.server.stop().await;
}

async fn the_server_mails_digests_on_its_own(db: Db) {
    let mut smtp = Smtp::start().await;
    let url = smtp.url();
    let server = server_with(db, move |s| {
        s.smtp_url = Some(url);
        s.mail_retry_ms = 100;
        s.notice_mail_delay_secs = 1;
    })
    .await;
    let f = family_on(server).await;
    let (scarf, version) = add(&f, "Scarf").await;
    f.claim(&f.member, &scarf, "reserved").await;
    rename(&f.admin, &scarf, version, "Red scarf").await;
    let mail = smtp.mail().await;
    assert_eq!(mail.to, [address(&f.member).await]);
    assert!(text(&mail).contains("\"Red scarf\" on \"Carol's birthday\" was changed."));
    assert_eq!(kept(&f, &f.member_id).await, 0);
    f.server.stop().await;
}
