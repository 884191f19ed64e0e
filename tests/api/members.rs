//! A family's members over the years: admins hand over, people leave or
//! are removed (their claims and pledges released, their sockets losing
//! the family's topics at once), and open invites are listed, revoked and
//! mailed through a real SMTP conversation.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{call, family_on, server_with, smtp::Smtp, token_for, ws, Db, Family};
use crate::on_both_backends;

on_both_backends!(
    admins_hand_over_and_people_leave_or_are_removed,
    a_removed_member_loses_the_family_topics_at_once,
    invites_are_listed_revoked_and_mailed,
    deleting_an_account_releases_hands_over_and_keeps_or_deletes_lists,
);

fn member_path(f: &Family, user: &str) -> String {
    format!("/families/{}/members/{user}", f.family_id)
}

/// The events of `topic` for `audience`, as stored, after the first `skip`.
async fn stored(
    f: &Family,
    topic: &str,
    audience: giftlist::store::outbox::Audience,
    skip: usize,
) -> Vec<(String, String, Value, Option<String>)> {
    giftlist::store::outbox::since(f.server.state.store.pool(), topic, audience, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .skip(skip)
        .map(|e| {
            (
                e.event,
                e.entity_id,
                serde_json::from_str(&e.payload).unwrap(),
                e.user_id,
            )
        })
        .collect()
}

async fn admins_hand_over_and_people_leave_or_are_removed(db: Db) {
    use giftlist::store::outbox::Audience;
    let f = crate::common::family(db).await;
    let family_topic = format!("family:{}", f.family_id);
    let list_topic = format!("gift-list:{}", f.list_id);

    // Only admins change roles or remove others; the last admin stays.
    f.member
        .patch(&member_path(&f, &f.member_id), json!({ "role": "admin" }))
        .await
        .expect_error(403, "forbidden");
    f.member
        .delete(&member_path(&f, &f.recipient_id))
        .await
        .expect_error(403, "forbidden");
    let last = f
        .admin
        .delete(&member_path(&f, &f.admin_id))
        .await
        .expect_error(409, "conflict");
    assert!(last["error"]["message"]
        .as_str()
        .unwrap()
        .contains("last admin"));
    f.admin
        .patch(&member_path(&f, &f.admin_id), json!({ "role": "member" }))
        .await
        .expect_error(409, "conflict");
    f.admin
        .patch(&member_path(&f, &f.member_id), json!({ "role": "owner" }))
        .await
        .expect_error(400, "bad_request");
    f.admin
        .patch(&member_path(&f, "u_nobody"), json!({ "role": "admin" }))
        .await
        .expect_error(404, "not_found");

    let before = stored(&f, &family_topic, Audience::All, 0).await.len();
    let made = f
        .admin
        .patch(&member_path(&f, &f.member_id), json!({ "role": "admin" }))
        .await
        .expect(200);
    assert_eq!(made["member"]["role"], "admin");
    assert_eq!(made["member"]["name"], "Bob");
    // Asking again changes nothing and tells nobody.
    f.admin
        .patch(&member_path(&f, &f.member_id), json!({ "role": "admin" }))
        .await
        .expect(200);
    let events = stored(&f, &family_topic, Audience::All, before).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].0.as_str(), events[0].1.as_str()),
        ("UPDATED", f.member_id.as_str())
    );
    assert_eq!(events[0].2["role"], "admin");

    // Bob, an admin now, claims one gift and chips in for another on
    // Carol's list; then Alice, still an admin, removes him.
    let watch = f.add_item(&f.admin, "Watch").await;
    let bike = f.add_item(&f.admin, "Bike").await;
    let (watch, bike) = (watch["id"].as_str().unwrap(), bike["id"].as_str().unwrap());
    f.claim(&f.member, watch, "reserved").await;
    f.member
        .send(
            reqwest::Method::PUT,
            &format!("/items/{bike}/group"),
            Some(json!({ "target_cents": 30000 })),
        )
        .await
        .expect(200);
    f.member
        .post(
            &format!("/items/{bike}/pledges"),
            json!({ "amount_cents": 5000 }),
        )
        .await
        .expect(200);
    f.admin
        .post(
            &format!("/items/{bike}/pledges"),
            json!({ "amount_cents": 2500 }),
        )
        .await
        .expect(200);
    let members_before = stored(&f, &list_topic, Audience::Members, 0).await.len();
    let recipient_before = stored(&f, &list_topic, Audience::Recipient, 0).await.len();
    let family_before = stored(&f, &family_topic, Audience::All, 0).await.len();

    let stranger = f.server.browser();
    stranger.register("Zed").await;
    stranger
        .delete(&member_path(&f, &f.member_id))
        .await
        .expect_error(404, "not_found");
    f.admin
        .delete(&member_path(&f, &f.member_id))
        .await
        .expect(204);
    f.admin
        .delete(&member_path(&f, &f.member_id))
        .await
        .expect_error(404, "not_found");

    // His claim and pledge are gone; Alice's pledge stays.
    let list = f
        .admin
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    let item = |id: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(item(watch)["claims"], json!([]));
    let pledges = item(bike)["group"]["pledges"].as_array().unwrap().clone();
    assert_eq!(pledges.len(), 1, "{pledges:?}");
    assert_eq!(pledges[0]["by"], f.admin_id.as_str());

    // The usual notices: a STATUS_CHANGED per item for the members, none
    // for Carol; MEMBER_LEFT on the family's topic, by Alice, naming Bob.
    let released = stored(&f, &list_topic, Audience::Members, members_before).await;
    let changed: Vec<&str> = released.iter().map(|e| e.1.as_str()).collect();
    let mut expected = vec![watch, bike];
    expected.sort();
    assert_eq!(changed, expected, "{released:?}");
    assert!(released
        .iter()
        .all(|e| e.0 == "STATUS_CHANGED" && e.3.as_deref() == Some(f.admin_id.as_str())));
    assert_eq!(
        stored(&f, &list_topic, Audience::Recipient, 0).await.len(),
        recipient_before
    );
    let left = stored(&f, &family_topic, Audience::All, family_before).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(
        (left[0].0.as_str(), left[0].1.as_str()),
        ("MEMBER_LEFT", f.member_id.as_str())
    );
    assert_eq!(left[0].2["name"], "Bob");
    assert_eq!(left[0].3.as_deref(), Some(f.admin_id.as_str()));

    // Bob sees nothing of the family any more.
    f.member
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect_error(404, "not_found");
    f.member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect_error(404, "not_found");
    f.member
        .post(
            &format!("/items/{watch}/claim"),
            json!({ "status": "reserved" }),
        )
        .await
        .expect_error(404, "not_found");
    let me = f.member.get("/me").await.expect(200);
    assert_eq!(me["families"], json!([]));

    // Carol leaves on her own; her list stays with the family, still hers.
    f.recipient
        .delete(&member_path(&f, &f.recipient_id))
        .await
        .expect(204);
    let detail = f
        .admin
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect(200);
    let names: Vec<&str> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alice"]);
    let lists = detail["lists"].as_array().unwrap();
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0]["recipient_user_id"], f.recipient_id.as_str());
    // Alone, Alice is still the last admin.
    f.admin
        .delete(&member_path(&f, &f.admin_id))
        .await
        .expect_error(409, "conflict");
    f.server.stop().await;
}

async fn a_removed_member_loses_the_family_topics_at_once(db: Db) {
    let f = crate::common::family(db).await;
    let family_topic = format!("family:{}", f.family_id);
    let list_topic = format!("gift-list:{}", f.list_id);
    let user_topic = format!("user:{}", f.member_id);
    let mut bob = ws::open_browser(&f.server, &f.member).await;
    let subscribed = bob
        .subscribe(&[&family_topic, &list_topic, &user_topic], json!({}), "s1")
        .await;
    assert_eq!(subscribed["topics"].as_array().unwrap().len(), 3);
    let mut alice = ws::open_browser(&f.server, &f.admin).await;
    alice.subscribe(&[&family_topic], json!({}), "a1").await;

    f.admin
        .delete(&member_path(&f, &f.member_id))
        .await
        .expect(204);
    // Everyone on the family's page reads who left...
    let left = alice.expect("event").await;
    assert_eq!(left["event"], "MEMBER_LEFT");
    assert_eq!(left["data"]["entity_id"], f.member_id.as_str());
    // ...and Bob's socket is told, topic by topic, that they are gone.
    let mut refused = Vec::new();
    while refused.len() < 2 {
        let frame = bob.frame().await;
        if frame["type"] == "event" {
            assert_eq!(frame["event"], "MEMBER_LEFT", "{frame}");
            continue;
        }
        assert_eq!(frame["type"], "error", "{frame}");
        assert_eq!(frame["code"], "forbidden");
        assert!(frame.get("id").is_none(), "{frame}");
        refused.push(frame["topic"].as_str().unwrap().to_owned());
    }
    refused.sort();
    let mut expected = vec![family_topic.clone(), list_topic.clone()];
    expected.sort();
    assert_eq!(refused, expected);

    // Nothing of the family reaches him any more; the socket stays, and
    // so does his own topic.
    f.add_item(&f.admin, "Scarf").await;
    f.admin
        .patch(
            &format!("/families/{}", f.family_id),
            json!({ "name": "The Smiths, smaller" }),
        )
        .await
        .expect(200);
    bob.send(json!({ "type": "ping" })).await;
    assert_eq!(bob.frame().await["type"], "pong");
    bob.expect_silence(Duration::from_millis(300)).await;
    // Asking for the topics again is refused like any stranger's.
    bob.send(json!({ "type": "subscribe", "topics": [&family_topic], "id": "s2" }))
        .await;
    let again = bob.expect("error").await;
    assert_eq!(
        (again["code"].as_str(), again["id"].as_str()),
        (Some("forbidden"), Some("s2"))
    );
    f.server.stop().await;
}

async fn invites_are_listed_revoked_and_mailed(db: Db) {
    let mut smtp = Smtp::start().await;
    let url = smtp.url();
    let server = server_with(db, move |s| {
        s.smtp_url = Some(url);
        s.mail_retry_ms = 100;
        s.invite_mails_burst = 3;
        s.reset_burst = 1;
    })
    .await;
    let f = family_on(server).await;
    let invites = format!("/families/{}/invites", f.family_id);

    // Bob mails an invite to Dan; the mail carries the link, and the link
    // lets Dan in.
    f.member
        .post(&invites, json!({ "email": "not an address" }))
        .await
        .expect_error(400, "bad_request");
    f.member
        .post(
            &invites,
            json!({ "email": "dan@example.org", "role": "admin" }),
        )
        .await
        .expect_error(400, "bad_request");
    let mailed = f
        .member
        .post(&invites, json!({ "email": " dan@example.org " }))
        .await
        .expect(201);
    assert_eq!(mailed["email"], "dan@example.org");
    let code = mailed["code"].as_str().unwrap().to_owned();
    let mail = smtp.mail().await;
    assert_eq!(mail.to, ["<dan@example.org>"]);
    assert!(mail.data.contains("Bob invites you"), "{}", mail.data);
    let link = mail
        .link(&f.server.url("/invite/"))
        .expect("an invite link");
    assert_eq!(link, f.server.url(&format!("/invite/{code}")));
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("The Smiths"));
    let dan = f.server.browser();
    dan.register("Dan").await;
    let joined_code = link.rsplit('/').next().unwrap();
    dan.post(&format!("/invites/{joined_code}/accept"), json!(null))
        .await
        .expect(200);

    // The same address again at once is refused (no flood of mail), a
    // plain link is not limited, and a mail server that refuses fails
    // nothing.
    f.member
        .post(&invites, json!({ "email": "dan@example.org" }))
        .await
        .expect_error(429, "rate_limited");
    let plain = f.member.post(&invites, json!({})).await.expect(201);
    assert!(plain.get("email").is_none(), "{plain}");
    smtp.refuse(true);
    f.member
        .post(&invites, json!({ "email": "erin@example.org" }))
        .await
        .expect(201);

    // Every member sees the open invites, newest first, with who may
    // revoke which.
    let open = f.member.get(&invites).await.expect(200)["invites"].clone();
    let open = open.as_array().unwrap();
    assert_eq!(open.len(), 4, "{open:?}");
    assert_eq!(open[0]["email"], "erin@example.org");
    assert_eq!(open[2]["code"], code.as_str());
    let admins = open.last().unwrap();
    assert_eq!(admins["created_by"], f.admin_id.as_str());
    assert_eq!(admins["created_by_name"], "Alice");
    assert_eq!(admins["may_revoke"], false);
    assert_eq!(open[0]["may_revoke"], true);
    assert!(open[0]["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/invite/{}", open[0]["code"].as_str().unwrap())));
    let as_admin = f.admin.get(&invites).await.expect(200)["invites"].clone();
    assert!(as_admin
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["may_revoke"] == true));
    let stranger = f.server.browser();
    stranger.register("Zed").await;
    stranger.get(&invites).await.expect_error(404, "not_found");

    // Revoking: whoever made it, or an admin; a revoked code admits nobody.
    let admins_code = admins["code"].as_str().unwrap();
    f.member
        .delete(&format!("{invites}/{admins_code}"))
        .await
        .expect_error(403, "forbidden");
    f.admin
        .delete(&format!("{invites}/{code}"))
        .await
        .expect(204);
    f.admin
        .delete(&format!("{invites}/{code}"))
        .await
        .expect_error(404, "not_found");
    let late = f.server.browser();
    late.register("Fay").await;
    late.post(&format!("/invites/{code}/accept"), json!(null))
        .await
        .expect_error(404, "not_found");
    let open = f.member.get(&invites).await.expect(200)["invites"].clone();
    assert_eq!(open.as_array().unwrap().len(), 3);
    f.server.stop().await;
}

async fn deleting_an_account_releases_hands_over_and_keeps_or_deletes_lists(db: Db) {
    use giftlist::store::outbox::Audience;
    let f = crate::common::family(db).await;
    let family_topic = format!("family:{}", f.family_id);
    let alice_email = f.admin.get("/me").await.expect(200)["user"]["email"]
        .as_str()
        .unwrap()
        .to_owned();
    // A list for Bob, on which Alice claims; Bob claims on Carol's.
    let bobs = f
        .add_list(
            &f.recipient,
            json!({ "title": "Bob's", "recipient_user_id": f.member_id }),
        )
        .await;
    let kite = f
        .admin
        .post(&format!("/lists/{bobs}/items"), json!({ "title": "Kite" }))
        .await
        .expect(201)["item"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.claim(&f.admin, &kite, "reserved").await;
    let watch = f.add_item(&f.admin, "Watch").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.claim(&f.member, &watch, "purchased").await;
    let token = token_for(&f.server, &f.admin_id);
    let bobs_topic = format!("gift-list:{bobs}");
    let bob_sees_before = stored(&f, &bobs_topic, Audience::Recipient, 0).await.len();
    let family_before = stored(&f, &family_topic, Audience::All, 0).await.len();

    f.admin
        .send(
            reqwest::Method::DELETE,
            "/me",
            Some(json!({ "password": "not it" })),
        )
        .await
        .expect_error(403, "forbidden");
    f.admin
        .send(reqwest::Method::DELETE, "/me", Some(json!({})))
        .await
        .expect_error(400, "bad_request");
    f.admin.get("/me").await.expect(200);

    // Alice goes, keeping the lists for her (none): Bob, who joined before
    // Carol, becomes admin; her claim on Bob's list is released without
    // Bob learning of it; she is logged out and cannot log in.
    f.admin
        .send(
            reqwest::Method::DELETE,
            "/me",
            Some(json!({ "password": "correct horse battery" })),
        )
        .await
        .expect(204);
    f.admin.get("/me").await.expect_error(401, "unauthorized");
    f.server
        .browser()
        .post(
            "/auth/login",
            json!({ "email": alice_email, "password": "correct horse battery" }),
        )
        .await
        .expect_error(401, "unauthorized");
    // A token issued before cannot make or join a family.
    let made = call(
        f.server
            .browser()
            .request(reqwest::Method::POST, "/families")
            .bearer_auth(&token)
            .json(&json!({ "name": "Alice's new start" })),
    )
    .await;
    made.expect_error(401, "unauthorized");

    let detail = f
        .member
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect(200);
    let roles: Vec<(&str, &str)> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("Bob", "admin"), ("Carol", "member")]);
    let list = f.recipient.get(&format!("/lists/{bobs}")).await.expect(200);
    assert_eq!(list["items"][0]["claims"], json!([]));
    assert_eq!(
        stored(&f, &bobs_topic, Audience::Recipient, 0).await.len(),
        bob_sees_before,
        "Bob's own stream heard of the released claim"
    );
    let family_events = stored(&f, &family_topic, Audience::All, family_before).await;
    let names: Vec<(&str, &str)> = family_events
        .iter()
        .map(|e| (e.0.as_str(), e.1.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("UPDATED", f.member_id.as_str()),
            ("MEMBER_LEFT", f.admin_id.as_str())
        ]
    );

    // Bob goes with the lists for him: his list is deleted, his claim on
    // Carol's released; Carol, alone, is admin.
    f.member
        .send(
            reqwest::Method::DELETE,
            "/me",
            Some(json!({ "password": "correct horse battery", "delete_my_lists": true })),
        )
        .await
        .expect(204);
    let detail = f
        .recipient
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect(200);
    let lists: Vec<&str> = detail["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(lists, [f.list_id.as_str()]);
    assert_eq!(detail["members"][0]["role"], "admin");
    let released = f.server.state.store.pool().clone();
    let holders: i64 = sqlx::query_scalar("select count(*) from claims where item_id = $1")
        .bind(watch.as_str())
        .fetch_one(&released)
        .await
        .unwrap();
    assert_eq!(holders, 0);

    // Carol, alone, goes: the family goes with her.
    f.recipient
        .send(
            reqwest::Method::DELETE,
            "/me",
            Some(json!({ "password": "correct horse battery" })),
        )
        .await
        .expect(204);
    let family = giftlist::store::families::family(
        &released,
        &giftlist::model::FamilyId(f.family_id.clone()),
    )
    .await
    .unwrap();
    assert!(family.is_none());
    let rows: i64 = sqlx::query_scalar(
        "select count(*) from users where email_key like 'deleted:%' and email = '' and password_hash = ''",
    )
    .fetch_one(&released)
    .await
    .unwrap();
    assert_eq!(rows, 3);
    f.server.stop().await;
}
