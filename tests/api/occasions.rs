//! A list's occasion: its event date, "past", archiving (read-only until
//! restored), and the recipient's thank-you view from the day after the
//! event, which leaks nothing before and is one event on the recipient's
//! stream when it opens (on a change, or on the housekeeping timer).

use serde_json::{json, Value};

use crate::common::{family_on, server_with, smtp::Smtp, ws, Db, Family};
use crate::on_both_backends;

on_both_backends!(
    event_dates_and_the_thank_you_view,
    an_archived_list_changes_nothing_until_restored,
    the_timer_opens_thank_you_views_once,
    whom_a_list_is_for_changes_only_while_nothing_was_taken,
    reminders_go_to_members_once_a_week_before,
);

fn day(offset: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

fn list_path(f: &Family) -> String {
    format!("/lists/{}", f.list_id)
}

/// The recipient's stream of the list, as stored.
async fn recipient_stream(f: &Family, list: &str) -> Vec<(String, Value)> {
    giftlist::store::outbox::since(
        f.server.state.store.pool(),
        &format!("gift-list:{list}"),
        giftlist::store::outbox::Audience::Recipient,
        0,
        1000,
    )
    .await
    .unwrap()
    .into_iter()
    .map(|e| (e.event, serde_json::from_str(&e.payload).unwrap()))
    .collect()
}

async fn event_dates_and_the_thank_you_view(db: Db) {
    let f = crate::common::family(db).await;
    let path = list_path(&f);
    for bad in [
        json!({}),
        json!({ "event_date": "2026-13-01" }),
        json!({ "event_date": day(-400) }),
        json!({ "event_date": day(5 * 366 + 2) }),
        json!({ "event_date": "tomorrow" }),
        json!({ "reveal_after_event": "yes" }),
    ] {
        f.admin
            .patch(&path, bad)
            .await
            .expect_error(400, "bad_request");
    }
    // Only who made the list (or an admin) sets the date; any member but
    // the recipient chooses the reveal.
    f.member
        .patch(&path, json!({ "event_date": day(1) }))
        .await
        .expect_error(403, "forbidden");
    f.recipient
        .patch(&path, json!({ "reveal_after_event": true }))
        .await
        .expect_error(403, "forbidden");
    let chosen = f
        .member
        .patch(&path, json!({ "reveal_after_event": true }))
        .await
        .expect(200);
    assert_eq!(chosen["list"]["reveal_after_event"], true);
    let dated = f
        .admin
        .patch(&path, json!({ "event_date": day(1) }))
        .await
        .expect(200);
    assert_eq!(dated["list"]["event_date"], day(1));
    assert_eq!(dated["list"]["revealed"], false);

    // Bob claims and chips in; Carol, on her list's page and socket,
    // learns nothing of it.
    let watch = f.add_item(&f.admin, "Watch").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.claim(&f.member, &watch, "purchased").await;
    let mut carol = ws::open_browser(&f.server, &f.recipient).await;
    carol
        .subscribe(&[&format!("gift-list:{}", f.list_id)], json!({}), "c1")
        .await;
    let before = f.recipient.get(&path).await.expect(200);
    assert_eq!(before["items"][0]["claims"], json!([]));
    assert_eq!(before["list"]["revealed"], false);

    // The day moves into the past: the event is over, and with the reveal
    // chosen the thank-you view opens in the same change.
    let over = f
        .admin
        .patch(&path, json!({ "event_date": day(-1) }))
        .await
        .expect(200);
    assert_eq!(over["list"]["revealed"], true);
    let frames = carol.events(2).await;
    assert_eq!(frames[0]["event"], "UPDATED");
    assert_eq!(frames[1]["event"], "REVEALED");
    assert!(frames[1]["data"].get("user_id").is_none(), "{}", frames[1]);
    assert_eq!(
        frames[1]["data"]["payload"]["items"][0]["claims"][0]["by"],
        f.member_id.as_str()
    );
    let after = f.recipient.get(&path).await.expect(200);
    assert_eq!(after["list"]["revealed"], true);
    assert_eq!(after["items"][0]["claims"][0]["by"], f.member_id.as_str());

    // Before the REVEALED event, nothing on Carol's stream named Bob or
    // held a claim; it is the one such event.
    let stream = recipient_stream(&f, &f.list_id).await;
    let revealed: Vec<usize> = stream
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| name == "REVEALED")
        .map(|(at, _)| at)
        .collect();
    assert_eq!(revealed.len(), 1, "{stream:?}");
    for (name, payload) in &stream[..revealed[0]] {
        let text = payload.to_string();
        assert!(!text.contains(&f.member_id), "{name}: {text}");
        assert!(!text.contains("\"status\""), "{name}: {text}");
    }

    // Choosing the reveal off closes the view again; the date back in the
    // future as well.
    let closed = f
        .member
        .patch(&path, json!({ "reveal_after_event": false }))
        .await
        .expect(200);
    assert_eq!(closed["list"]["revealed"], false);
    let hidden = f.recipient.get(&path).await.expect(200);
    assert_eq!(hidden["items"][0]["claims"], json!([]));
    f.admin
        .patch(&path, json!({ "event_date": null }))
        .await
        .expect(200);
    let cleared = f.admin.get(&path).await.expect(200);
    assert_eq!(cleared["list"]["event_date"], Value::Null);
    f.server.stop().await;
}

async fn an_archived_list_changes_nothing_until_restored(db: Db) {
    let f = crate::common::family(db).await;
    let path = list_path(&f);
    let kite = f.add_item(&f.admin, "Kite").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let share = f
        .admin
        .post(&format!("{path}/shares"), json!({ "kind": "givers" }))
        .await
        .expect(201);
    let token = share["share"]["path"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    f.member
        .patch(&path, json!({ "archived": true }))
        .await
        .expect_error(403, "forbidden");
    let archived = f
        .admin
        .patch(&path, json!({ "archived": true }))
        .await
        .expect(200);
    assert_eq!(archived["list"]["archived"], true);

    let refused = |answer: crate::common::Answer| {
        let body = answer.expect_error(409, "conflict");
        assert_eq!(
            body["error"]["message"],
            "this list is archived: restore it to change it"
        );
    };
    refused(
        f.member
            .post(
                &format!("/items/{kite}/claim"),
                json!({ "status": "reserved" }),
            )
            .await,
    );
    refused(
        f.admin
            .post(&format!("{path}/items"), json!({ "title": "Ball" }))
            .await,
    );
    refused(
        f.admin
            .patch(
                &format!("/items/{kite}"),
                json!({ "title": "Kite!", "version": 1 }),
            )
            .await,
    );
    refused(f.admin.patch(&path, json!({ "title": "Old" })).await);
    refused(
        f.server
            .browser()
            .post(
                &format!("/shares/{token}/items/{kite}/claim"),
                json!({ "name": "Grandma" }),
            )
            .await,
    );
    // Still readable, by everyone who could read it.
    let read = f.recipient.get(&path).await.expect(200);
    assert_eq!(read["list"]["archived"], true);
    assert_eq!(read["items"].as_array().unwrap().len(), 1);

    let restored = f
        .admin
        .patch(
            &path,
            json!({ "archived": false, "title": "Carol's, again" }),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            restored["list"]["archived"].clone(),
            restored["list"]["title"].clone()
        ),
        (json!(false), json!("Carol's, again"))
    );
    f.claim(&f.member, &kite, "reserved").await;
    f.server.stop().await;
}

async fn the_timer_opens_thank_you_views_once(db: Db) {
    let f = crate::common::family(db).await;
    let path = list_path(&f);
    f.member
        .patch(&path, json!({ "reveal_after_event": true }))
        .await
        .expect(200);
    f.admin
        .patch(&path, json!({ "event_date": day(0) }))
        .await
        .expect(200);
    let gift = f.add_item(&f.admin, "Book").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.claim(&f.member, &gift, "reserved").await;
    let service = &f.server.state.service;
    // On the day itself, nothing opens.
    assert_eq!(service.open_due_reveals().await.unwrap(), 0);
    assert_eq!(
        f.recipient.get(&path).await.expect(200)["items"][0]["claims"],
        json!([])
    );
    // Midnight passes (the date is moved back, as a day passing would).
    sqlx::query("update lists set event_date = $1 where id = $2")
        .bind(day(-1))
        .bind(f.list_id.as_str())
        .execute(f.server.state.store.pool())
        .await
        .unwrap();
    let before = recipient_stream(&f, &f.list_id).await.len();
    assert_eq!(service.open_due_reveals().await.unwrap(), 1);
    assert_eq!(service.open_due_reveals().await.unwrap(), 0);
    let stream = recipient_stream(&f, &f.list_id).await;
    let new: Vec<&str> = stream[before..].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(new, ["REVEALED"]);
    let shown = f.recipient.get(&path).await.expect(200);
    assert_eq!(shown["list"]["revealed"], true);
    assert_eq!(shown["items"][0]["claims"][0]["by"], f.member_id.as_str());
    f.server.stop().await;
}

async fn whom_a_list_is_for_changes_only_while_nothing_was_taken(db: Db) {
    let f = crate::common::family(db).await;
    let path = list_path(&f);
    f.member
        .patch(&path, json!({ "recipient_user_id": f.member_id }))
        .await
        .expect_error(403, "forbidden");
    f.admin
        .patch(
            &path,
            json!({ "recipient_user_id": f.member_id, "recipient_name": "Grandpa" }),
        )
        .await
        .expect_error(400, "bad_request");
    f.admin
        .patch(&path, json!({ "recipient_user_id": "u_stranger" }))
        .await
        .expect_error(400, "bad_request");

    // Nothing taken yet: the list becomes Bob's. Carol may now claim on
    // it, and Bob sees none of it.
    let moved = f
        .admin
        .patch(&path, json!({ "recipient_user_id": f.member_id }))
        .await
        .expect(200);
    assert_eq!(moved["list"]["recipient_user_id"], f.member_id.as_str());
    let lamp = f.add_item(&f.admin, "Lamp").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.member
        .post(
            &format!("/items/{lamp}/claim"),
            json!({ "status": "reserved" }),
        )
        .await
        .expect_error(403, "forbidden");
    f.claim(&f.recipient, &lamp, "reserved").await;
    let bobs = f.member.get(&path).await.expect(200);
    assert_eq!(bobs["items"][0]["claims"], json!([]));

    // Once anything was taken, whom it is for stays, even after the claim
    // is released: the members' stream still tells of it.
    let refused = f
        .admin
        .patch(&path, json!({ "recipient_name": "Grandpa" }))
        .await
        .expect_error(409, "conflict");
    assert_eq!(
        refused["error"]["message"],
        "the person a list is for can change only while nothing on it is claimed or chipped in for"
    );
    f.recipient
        .delete(&format!("/items/{lamp}/claim"))
        .await
        .expect(200);
    f.admin
        .patch(&path, json!({ "recipient_name": "Grandpa" }))
        .await
        .expect_error(409, "conflict");
    assert_eq!(
        f.admin.get(&path).await.expect(200)["list"]["recipient_user_id"],
        f.member_id.as_str()
    );

    // A fresh list goes to a name, and back to a member.
    let other = f
        .add_list(
            &f.admin,
            json!({ "title": "Spare", "recipient_user_id": f.recipient_id }),
        )
        .await;
    let named = f
        .admin
        .patch(
            &format!("/lists/{other}"),
            json!({ "recipient_name": "Grandpa" }),
        )
        .await
        .expect(200);
    assert_eq!(named["list"]["recipient_user_id"], Value::Null);
    assert_eq!(named["list"]["recipient_name"], "Grandpa");
    f.server.stop().await;
}

async fn reminders_go_to_members_once_a_week_before(db: Db) {
    let mut smtp = Smtp::start().await;
    let url = smtp.url();
    let server = server_with(db, move |s| {
        s.smtp_url = Some(url);
        s.mail_retry_ms = 100;
    })
    .await;
    let f = family_on(server).await;
    let path = list_path(&f);
    let service = f.server.state.service.clone();
    let email = |me: Value| me["user"]["email"].as_str().unwrap().to_owned();
    let alices = email(f.admin.get("/me").await.expect(200));
    let bobs = email(f.member.get("/me").await.expect(200));
    let scarf = f.add_item(&f.admin, "Scarf").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gloves = f.add_item(&f.admin, "Gloves").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.claim(&f.member, &scarf, "reserved").await;

    // Eight days ahead is too early.
    f.admin
        .patch(&path, json!({ "event_date": day(8) }))
        .await
        .expect(200);
    assert_eq!(service.send_due_reminders().await.unwrap(), 0);

    // Bob turns them off; six days ahead, Alice hears (never Carol, whose
    // list it is), once.
    let off = f
        .member
        .send(
            reqwest::Method::PUT,
            "/me/reminders",
            Some(json!({ "enabled": false })),
        )
        .await
        .expect(200);
    assert_eq!(off["reminders"], false);
    assert_eq!(f.member.get("/me").await.expect(200)["reminders"], false);
    assert_eq!(f.admin.get("/me").await.expect(200)["reminders"], true);
    f.admin
        .patch(&path, json!({ "event_date": day(6) }))
        .await
        .expect(200);
    assert_eq!(service.send_due_reminders().await.unwrap(), 1);
    let mail = smtp.mail().await;
    assert_eq!(mail.to, [format!("<{alices}>")]);
    let text = mail.data.replace("=\r\n", "");
    assert!(text.contains("1 of its 2 gifts"), "{text}");
    assert!(
        mail.link(&f.server.url(&format!("/lists/{}", f.list_id)))
            .is_some(),
        "{text}"
    );
    assert_eq!(service.send_due_reminders().await.unwrap(), 0);
    assert!(smtp
        .mail_within(std::time::Duration::from_millis(300))
        .await
        .is_none());

    // A new date is a new event; Bob is back.
    f.member
        .send(
            reqwest::Method::PUT,
            "/me/reminders",
            Some(json!({ "enabled": true })),
        )
        .await
        .expect(200);
    f.admin
        .patch(&path, json!({ "event_date": day(5) }))
        .await
        .expect(200);
    assert_eq!(service.send_due_reminders().await.unwrap(), 2);
    let mut to: Vec<String> = vec![
        smtp.mail().await.to[0].clone(),
        smtp.mail().await.to[0].clone(),
    ];
    to.sort();
    let mut expected = vec![format!("<{alices}>"), format!("<{bobs}>")];
    expected.sort();
    assert_eq!(to, expected);

    // Nothing free, or archived: no mail.
    f.claim(&f.member, &gloves, "reserved").await;
    f.admin
        .patch(&path, json!({ "event_date": day(4) }))
        .await
        .expect(200);
    assert_eq!(service.send_due_reminders().await.unwrap(), 0);
    f.member
        .delete(&format!("/items/{gloves}/claim"))
        .await
        .expect(200);
    f.admin
        .patch(&path, json!({ "event_date": day(3), "archived": true }))
        .await
        .expect(200);
    assert_eq!(service.send_due_reminders().await.unwrap(), 0);
    f.member
        .send(
            reqwest::Method::PUT,
            "/me/reminders",
            Some(json!({ "enabled": "no" })),
        )
        .await
        .expect_error(400, "bad_request");
    f.server.stop().await;
}
