//! A list's occasion: its event date, "past", archiving (read-only until
//! restored), and the recipient's thank-you view from the day after the
//! event, which leaks nothing before and is one event on the recipient's
//! stream when it opens (on a change, or on the housekeeping timer).

use serde_json::{json, Value};

use crate::common::{ws, Db, Family};
use crate::on_both_backends;

on_both_backends!(
    event_dates_and_the_thank_you_view,
    an_archived_list_changes_nothing_until_restored,
    the_timer_opens_thank_you_views_once,
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
