//! Share links and guests (docs/API.md, "Share links and guests"): the
//! link's life (made, listed, expired, revoked), every guest permission
//! and refusal, guests racing members, and the surprise rule on the guest
//! streams.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{call, family, server_with, Answer, Browser, Db, Family};
use crate::on_both_backends;

on_both_backends!(
    links_are_made_listed_and_revoked_by_who_may_see_them,
    guests_read_claim_and_come_back_with_their_own_link,
    guests_may_do_nothing_else,
    guests_and_members_racing_get_one_holder_per_unit,
    guest_streams_hold_availability_and_never_a_name,
    unknown_links_are_404_then_429,
);

/// A new link on the family's list, made by `by`; the link's JSON.
async fn share(f: &Family, by: &Browser, kind: &str) -> Value {
    by.post(
        &format!("/lists/{}/shares", f.list_id),
        json!({ "kind": kind }),
    )
    .await
    .expect(201)["share"]
        .clone()
}

/// The token of a link's JSON (the last part of its path).
fn token(link: &Value) -> String {
    let path = link["path"].as_str().expect("path");
    path.strip_prefix("/s/").expect("/s/ path").to_owned()
}

/// Someone with no account and no cookie yet: a guest's browser.
fn stranger(f: &Family) -> Browser {
    f.server.browser()
}

async fn links_are_made_listed_and_revoked_by_who_may_see_them(db: Db) {
    let f = family(db).await;
    let givers = share(&f, &f.member, "givers").await;
    assert_eq!(givers["kind"], "givers");
    assert_eq!(givers["expired"], false);
    assert_eq!(givers["expires_at"], Value::Null);
    let url = givers["url"].as_str().unwrap();
    assert_eq!(url, f.server.url(givers["path"].as_str().unwrap()));
    assert_eq!(token(&givers).len(), 40, "160 bits in hex");

    // The token is not stored: only its hash.
    let stored: Vec<(String,)> = sqlx::query_as("select token_hash from share_links")
        .fetch_all(f.server.state.store.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].0, token(&givers));
    assert_eq!(stored[0].0.len(), 64);

    // The recipient may not make a givers' link, may make a view link, and
    // is never shown the givers' one.
    f.recipient
        .post(
            &format!("/lists/{}/shares", f.list_id),
            json!({ "kind": "givers" }),
        )
        .await
        .expect_error(403, "forbidden");
    let next_year = (chrono::Utc::now() + chrono::Duration::days(365))
        .format("%Y-%m-%d")
        .to_string();
    let view = f
        .recipient
        .post(
            &format!("/lists/{}/shares", f.list_id),
            json!({ "kind": "view", "expires_at": next_year }),
        )
        .await
        .expect(201)["share"]
        .clone();
    assert_eq!(view["expires_at"], format!("{next_year}T23:59:59.000Z"));
    let for_recipient = f
        .recipient
        .get(&format!("/lists/{}/shares", f.list_id))
        .await
        .expect(200);
    assert_eq!(for_recipient["shares"].as_array().unwrap().len(), 1);
    assert_eq!(for_recipient["shares"][0]["kind"], "view");
    let for_member = f
        .admin
        .get(&format!("/lists/{}/shares", f.list_id))
        .await
        .expect(200);
    assert_eq!(for_member["shares"].as_array().unwrap().len(), 2);
    // The same link, copied again later, is the same address.
    assert_eq!(for_member["shares"][0]["url"], givers["url"]);

    // Bad input.
    for (body, why) in [
        (json!({ "kind": "everyone" }), "unknown variant"),
        (
            json!({ "kind": "view", "expires_at": "2001-01-01" }),
            "in the future",
        ),
        (
            json!({ "kind": "view", "expires_at": "soon" }),
            "expires_at must be a date",
        ),
        (
            json!({ "kind": "view", "expires_at": "2999-01-01" }),
            "within five years",
        ),
        (json!({ "kind": "view", "note": 1 }), "unknown field"),
    ] {
        let refused = f
            .admin
            .post(&format!("/lists/{}/shares", f.list_id), body.clone())
            .await
            .expect_error(400, "bad_request");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{body}: {message}");
    }
    // Another family's list: unknown.
    let other = f.server.browser();
    other.register("Zed").await;
    other
        .post(
            &format!("/lists/{}/shares", f.list_id),
            json!({ "kind": "view" }),
        )
        .await
        .expect_error(404, "not_found");
    other
        .get(&format!("/lists/{}/shares", f.list_id))
        .await
        .expect_error(404, "not_found");

    // Revoking: the recipient cannot reach the givers' link (unknown to
    // them); a member can; then it is gone from the list and its page.
    let guest = stranger(&f);
    let page = format!("/shares/{}", token(&givers));
    guest.get(&page).await.expect(200);
    let givers_id = givers["id"].as_str().unwrap();
    f.recipient
        .delete(&format!("/lists/{}/shares/{givers_id}", f.list_id))
        .await
        .expect_error(404, "not_found");
    f.member
        .delete(&format!("/lists/{}/shares/{givers_id}", f.list_id))
        .await
        .expect(204);
    f.member
        .delete(&format!("/lists/{}/shares/{givers_id}", f.list_id))
        .await
        .expect_error(404, "not_found");
    let revoked = guest.get(&page).await.expect_error(403, "forbidden");
    assert_eq!(revoked["error"]["message"], "this link was revoked");
    let left = f
        .admin
        .get(&format!("/lists/{}/shares", f.list_id))
        .await
        .expect(200);
    assert_eq!(left["shares"].as_array().unwrap().len(), 1);

    // An expired link opens nothing, and says so.
    let soon = share(&f, &f.admin, "view").await;
    sqlx::query("update share_links set expires_at = 1 where id = $1")
        .bind(soon["id"].as_str().unwrap())
        .execute(f.server.state.store.pool())
        .await
        .unwrap();
    let expired = guest
        .get(&format!("/shares/{}", token(&soon)))
        .await
        .expect_error(403, "forbidden");
    assert_eq!(expired["error"]["message"], "this link has expired");
    let listed = f
        .admin
        .get(&format!("/lists/{}/shares", f.list_id))
        .await
        .expect(200);
    assert!(listed["shares"]
        .as_array()
        .unwrap()
        .iter()
        .any(|link| link["id"] == soon["id"] && link["expired"] == true));

    // The share page carries the headers that keep its token private.
    let response = reqwest::get(f.server.url(givers["path"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    // Never kept by a shared cache (the site's default `no-cache` would allow it).
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    f.server.stop().await;
}

async fn guests_read_claim_and_come_back_with_their_own_link(db: Db) {
    let f = family(db).await;
    let watch = f.add_item(&f.member, "Watch").await;
    let watch_id = watch["id"].as_str().unwrap().to_owned();
    let glasses = f
        .member
        .post(
            &format!("/lists/{}/items", f.list_id),
            json!({ "title": "Wine glasses", "quantity": 6 }),
        )
        .await
        .expect(201)["item"]
        .clone();
    let glasses_id = glasses["id"].as_str().unwrap().to_owned();
    f.claim(&f.admin, &watch_id, "reserved").await;
    let link = share(&f, &f.member, "givers").await;
    let base = format!("/shares/{}", token(&link));

    // What a guest reads: the list, for whom, what is taken; no member's
    // name or id anywhere.
    let grandma = stranger(&f);
    let page = grandma.get(&base).await.expect(200);
    assert_eq!(page["kind"], "givers");
    assert_eq!(page["list"]["title"], "Carol's birthday");
    assert_eq!(page["list"]["recipient"], "Carol");
    assert_eq!(page["guest"], Value::Null);
    assert_eq!(page["member"], false);
    let text = page.to_string();
    for secret in ["Alice", "Bob", &f.admin_id, &f.member_id, &f.recipient_id] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let watch_seen = find(&page["items"], &watch_id);
    assert_eq!(watch_seen["taken"], 1);
    assert!(watch_seen.get("claims").is_none() && watch_seen.get("claim").is_none());

    // A claim needs a name; a taken item is 409 without the members' view.
    grandma
        .post(&format!("{base}/items/{glasses_id}/claim"), json!({}))
        .await
        .expect_error(400, "bad_request");
    for name in ["", "  ", &"x".repeat(61), "Gran\u{1b}ma"] {
        grandma
            .post(
                &format!("{base}/items/{glasses_id}/claim"),
                json!({ "name": name }),
            )
            .await
            .expect_error(400, "bad_request");
    }
    let taken = grandma
        .post(
            &format!("{base}/items/{watch_id}/claim"),
            json!({ "name": "Grandma" }),
        )
        .await
        .expect_error(409, "conflict");
    assert!(taken.get("current").is_none(), "{taken}");
    assert_eq!(
        guests(&f).await,
        0,
        "a refused first claim leaves no guest behind"
    );

    // Claiming makes the guest: a cookie, and their own link at once.
    let claimed = call(
        grandma
            .request(Method::POST, &format!("{base}/items/{glasses_id}/claim"))
            .json(&json!({ "name": " Grandma ", "email": "gran@example.org", "units": 2 })),
    )
    .await;
    let cookie = claimed.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("giftlist_guest_"),
        "{cookie}"
    );
    let claimed = claimed.expect(200);
    assert_eq!(claimed["item"]["taken"], 2);
    assert_eq!(claimed["guest"]["name"], "Grandma");
    assert_eq!(claimed["guest"]["claims"][0]["units"], 2);
    let manage = claimed["guest"]["manage_path"].as_str().unwrap().to_owned();
    assert!(manage.starts_with("/g/"), "{manage}");
    assert_eq!(claimed["guest"]["manage_url"], f.server.url(&manage));

    // Members see who: "Grandma", a guest; the recipient sees nothing.
    let as_member = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    let part = &find(&as_member["items"], &glasses_id)["claims"][0];
    assert_eq!(
        (part["guest"].as_str(), part["units"].as_i64()),
        (Some("Grandma"), Some(2))
    );
    let as_recipient = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(
        find(&as_recipient["items"], &glasses_id)["claims"],
        json!([])
    );

    // The same browser is the same guest: a second claim needs no name,
    // and may change the part.
    let again = grandma
        .post(
            &format!("{base}/items/{glasses_id}/claim"),
            json!({ "status": "purchased", "units": 3 }),
        )
        .await
        .expect(200);
    assert_eq!(again["guest"]["claims"][0]["status"], "purchased");
    assert_eq!(guests(&f).await, 1);

    // Another browser holding the link is another guest: it cannot release
    // Grandma's claim.
    let cousin = stranger(&f);
    cousin
        .delete(&format!("{base}/items/{glasses_id}/claim"))
        .await
        .expect_error(403, "forbidden");

    // Grandma's own link, opened in yet another browser, makes it her.
    let phone = stranger(&f);
    let opened = phone.http.get(f.server.url(&manage)).send().await.unwrap();
    assert_eq!(opened.url().path(), link["path"].as_str().unwrap());
    assert_eq!(opened.headers()["referrer-policy"], "no-referrer");
    let mine = phone.get(&base).await.expect(200);
    assert_eq!(mine["guest"]["name"], "Grandma");
    let released = phone
        .delete(&format!("{base}/items/{glasses_id}/claim"))
        .await
        .expect(200);
    assert_eq!(released["item"]["taken"], 0);
    assert_eq!(released["guest"]["claims"], json!([]));
    // A forged manage link is the plain 404 page.
    let forged = reqwest::get(f.server.url(&format!("/g/{}", "0".repeat(40))))
        .await
        .unwrap();
    assert_eq!(forged.status(), 404);

    // A script without cookies names its guest in the header.
    let guest_token = manage.trim_start_matches("/g/");
    let script = call(
        reqwest::Client::new()
            .post(
                f.server
                    .url(&format!("/api/v1{base}/items/{glasses_id}/claim")),
            )
            .header("x-giftlist-guest", guest_token)
            .json(&json!({})),
    )
    .await
    .expect(200);
    assert_eq!(script["guest"]["name"], "Grandma");

    // Chipping in: a guest pledges to a group gift, and members see it.
    f.member
        .send(
            Method::PUT,
            &format!("/items/{watch_id}/group"),
            Some(json!({ "target_cents": 20000 })),
        )
        .await
        .expect(200);
    let pledged = phone
        .post(
            &format!("{base}/items/{watch_id}/pledges"),
            json!({ "amount_cents": 2500 }),
        )
        .await
        .expect(200);
    assert_eq!(pledged["item"]["group"]["pledged_cents"], 2500);
    assert_eq!(pledged["guest"]["pledges"][0]["amount_cents"], 2500);
    let as_member = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    let pledge = &find(&as_member["items"], &watch_id)["group"]["pledges"][0];
    assert_eq!(pledge["guest"], "Grandma");
    phone
        .delete(&format!("{base}/items/{watch_id}/pledges"))
        .await
        .expect(200);

    // A view link shows no availability and lets nobody claim.
    let view = share(&f, &f.recipient, "view").await;
    let view_base = format!("/shares/{}", token(&view));
    let viewed = stranger(&f).get(&view_base).await.expect(200);
    assert_eq!(viewed["kind"], "view");
    assert!(viewed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|item| item["taken"].is_null() && item["group"].is_null()));
    stranger(&f)
        .post(
            &format!("{view_base}/items/{glasses_id}/claim"),
            json!({ "name": "Uncle" }),
        )
        .await
        .expect_error(403, "forbidden");

    // The recipient opening the givers' link sees what a view link shows.
    let peek = f.recipient.get(&base).await.expect(200);
    assert_eq!(peek["kind"], "view");
    assert_eq!(peek["member"], true);
    assert!(!peek.to_string().contains("taken\":1"), "{peek}");
    assert!(peek["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|item| item["taken"].is_null() && item["group"].is_null()));
    assert_eq!(peek["guest"], Value::Null);
    // Polling through the link, the recipient reads the viewers' stream:
    // edits, never a claim or a pledge.
    f.add_item(&f.member, "Tea").await;
    let polled = f
        .recipient
        .get(&format!("{base}/changes?since=0"))
        .await
        .expect(200);
    assert!(!polled["events"].as_array().unwrap().is_empty());
    let text = polled.to_string();
    for trace in ["STATUS_CHANGED", "Grandma", "\"taken\":2", "pledged_cents"] {
        assert!(!text.contains(trace), "{trace} in {text}");
    }
    f.recipient
        .post(
            &format!("{base}/items/{glasses_id}/claim"),
            json!({ "name": "Carol" }),
        )
        .await
        .expect_error(403, "forbidden");
    f.server.stop().await;
}

async fn guests_may_do_nothing_else(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.member, "Kite").await;
    let item_id = item["id"].as_str().unwrap().to_owned();
    let link = share(&f, &f.member, "givers").await;
    let base = format!("/shares/{}", token(&link));
    let guest = stranger(&f);
    guest
        .post(
            &format!("{base}/items/{item_id}/claim"),
            json!({ "name": "Grandma" }),
        )
        .await
        .expect(200);

    // Every route beyond the link answers the guest as a stranger.
    for (method, path, body) in [
        (Method::GET, format!("/lists/{}", f.list_id), None),
        (
            Method::GET,
            format!("/lists/{}/changes?since=0", f.list_id),
            None,
        ),
        (Method::GET, format!("/families/{}", f.family_id), None),
        (Method::GET, "/me".to_owned(), None),
        (Method::GET, format!("/lists/{}/shares", f.list_id), None),
        (
            Method::POST,
            format!("/items/{item_id}/claim"),
            Some(json!({ "status": "reserved" })),
        ),
        (
            Method::PATCH,
            format!("/items/{item_id}"),
            Some(json!({ "version": 1, "title": "x" })),
        ),
        (Method::DELETE, format!("/items/{item_id}"), None),
        (
            Method::POST,
            format!("/lists/{}/items", f.list_id),
            Some(json!({ "title": "x" })),
        ),
        (
            Method::POST,
            format!("/lists/{}/shares", f.list_id),
            Some(json!({ "kind": "givers" })),
        ),
    ] {
        let answer = guest.send(method.clone(), &path, body).await;
        assert_eq!(answer.status, 401, "{method} {path}: {}", answer.body);
    }
    // Through the link, only the link's list: another list's item is 404.
    let other_list = f
        .add_list(
            &f.admin,
            json!({ "title": "Other", "recipient_name": "Sam" }),
        )
        .await;
    let elsewhere = f
        .admin
        .post(
            &format!("/lists/{other_list}/items"),
            json!({ "title": "Ball" }),
        )
        .await
        .expect(201)["item"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    guest
        .post(&format!("{base}/items/{elsewhere}/claim"), json!({}))
        .await
        .expect_error(404, "not_found");
    guest
        .post(&format!("{base}/items/i_nothing/claim"), json!({}))
        .await
        .expect_error(404, "not_found");
    // A guest cannot log in: their account row has no address or password.
    let guest_id: (String,) = sqlx::query_as("select user_id from guests")
        .fetch_one(f.server.state.store.pool())
        .await
        .unwrap();
    stranger(&f)
        .post(
            "/auth/login",
            json!({ "email": format!("guest:{}", guest_id.0), "password": "" }),
        )
        .await
        .expect_error(401, "unauthorized");
    // Guest writes obey the cross-site rule, like cookie writes.
    let cross = call(
        guest
            .http
            .delete(
                f.server
                    .url(&format!("/api/v1{base}/items/{item_id}/claim")),
            )
            .header("origin", "https://evil.example"),
    )
    .await;
    cross.expect_error(403, "forbidden");
    f.server.stop().await;
}

async fn guests_and_members_racing_get_one_holder_per_unit(db: Db) {
    let f = family(db).await;
    let one = f.add_item(&f.member, "Bike").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let six = f
        .member
        .post(
            &format!("/lists/{}/items", f.list_id),
            json!({ "title": "Plates", "quantity": 6 }),
        )
        .await
        .expect(201)["item"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = share(&f, &f.member, "givers").await;
    let base = format!("/shares/{}", token(&link));
    let members = f.more_members("Giver", 6).await;
    let guests: Vec<Browser> = (0..12).map(|_| stranger(&f)).collect();

    for item in [&one, &six] {
        let mut attempts = Vec::new();
        for (n, guest) in guests.iter().enumerate() {
            let path = format!("{base}/items/{item}/claim");
            attempts.push(Box::pin(async move {
                guest
                    .post(&path, json!({ "name": format!("Guest {n}") }))
                    .await
            })
                as std::pin::Pin<
                    Box<dyn std::future::Future<Output = Answer> + Send + '_>,
                >);
        }
        for member in &members {
            let path = format!("/items/{item}/claim");
            attempts.push(Box::pin(async move {
                member.post(&path, json!({ "status": "reserved" })).await
            }));
        }
        let answers = futures::future::join_all(attempts).await;
        let won = answers.iter().filter(|a| a.status == 200).count();
        let lost = answers.iter().filter(|a| a.status == 409).count();
        let wanted = if item == &one { 1 } else { 6 };
        assert_eq!((won, lost), (wanted, 18 - wanted), "{item}");
        let held = f
            .admin
            .get(&format!("/lists/{}", f.list_id))
            .await
            .expect(200);
        let claims = find(&held["items"], item)["claims"]
            .as_array()
            .unwrap()
            .clone();
        let units: i64 = claims.iter().map(|c| c["units"].as_i64().unwrap()).sum();
        assert_eq!(units, wanted as i64, "{item}: {claims:?}");
    }
    f.server.stop().await;
}

async fn guest_streams_hold_availability_and_never_a_name(db: Db) {
    let f = family(db).await;
    let link = share(&f, &f.member, "givers").await;
    let view = share(&f, &f.member, "view").await;
    let base = format!("/shares/{}", token(&link));
    let view_base = format!("/shares/{}", token(&view));
    let guest = stranger(&f);
    let start = guest.get(&base).await.expect(200)["seq"].as_i64().unwrap();
    let view_start = guest.get(&view_base).await.expect(200)["seq"]
        .as_i64()
        .unwrap();
    let recipient_before = f
        .recipient
        .get(&format!("/lists/{}/changes?since=0", f.list_id))
        .await
        .expect(200);

    let item = f.add_item(&f.member, "Scarf").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.claim(&f.admin, &item, "purchased").await;
    guest
        .post(
            &format!("{base}/items/{item}/claim"),
            json!({ "name": "Grandma" }),
        )
        .await
        .expect_error(409, "conflict");
    f.admin
        .send(Method::DELETE, &format!("/items/{item}/claim"), None)
        .await
        .expect(200);
    guest
        .post(
            &format!("{base}/items/{item}/claim"),
            json!({ "name": "Grandma" }),
        )
        .await
        .expect(200);
    f.admin
        .patch(
            &format!("/lists/{}", f.list_id),
            json!({ "title": "Carol's 30th" }),
        )
        .await
        .expect(200);

    let changes = guest
        .get(&format!("{base}/changes?since={start}"))
        .await
        .expect(200);
    let events = changes["events"].as_array().unwrap();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ADDED",
            "STATUS_CHANGED",
            "STATUS_CHANGED",
            "STATUS_CHANGED",
            "UPDATED"
        ]
    );
    let taken: Vec<i64> = events[..4]
        .iter()
        .map(|e| e["data"]["payload"]["taken"].as_i64().unwrap())
        .collect();
    assert_eq!(taken, [0, 1, 0, 1]);
    assert_eq!(events[4]["data"]["payload"]["recipient"], "Carol");
    for event in events {
        let violations = giftlist::live::validate::validate_event(event);
        assert!(violations.is_empty(), "{event}: {violations:?}");
        assert!(event["data"].get("user_id").is_none(), "{event}");
        assert!(event["data"].get("tenant_id").is_none(), "{event}");
        let text = event.to_string();
        for secret in ["Alice", "Bob", "Grandma", &f.admin_id, &f.member_id] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    // The viewers' stream has the edits, never a claim.
    let viewed = guest
        .get(&format!("{view_base}/changes?since={view_start}"))
        .await
        .expect(200);
    let names: Vec<&str> = viewed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ADDED", "UPDATED"]);
    assert!(viewed["events"][0]["data"]["payload"]["taken"].is_null());
    // The recipient's stream is what it would have been without guests.
    let recipient_after = f
        .recipient
        .get(&format!("/lists/{}/changes?since=0", f.list_id))
        .await
        .expect(200);
    let recipient_names: Vec<&str> = recipient_after["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(recipient_names, ["ADDED", "UPDATED"]);
    assert_eq!(recipient_before["seq"].as_i64(), Some(0));
    assert!(!recipient_after.to_string().contains("Grandma"));
    // A bad `since` is the caller's mistake.
    guest
        .get(&format!("{base}/changes?since=-1"))
        .await
        .expect_error(400, "bad_request");
    f.server.stop().await;
}

async fn unknown_links_are_404_then_429(db: Db) {
    let server = server_with(db, |s| {
        s.link_misses_burst = 3;
        s.link_misses_per_minute = 1;
    })
    .await;
    let prober = server.browser();
    for n in 0..3 {
        let wrong = format!("/shares/{:040x}", n);
        prober.get(&wrong).await.expect_error(404, "not_found");
    }
    prober
        .get("/shares/not-even-hex")
        .await
        .expect_error(429, "rate_limited");
    let limited = prober.get(&format!("/shares/{:040x}", 9)).await;
    assert!(limited.headers.contains_key("retry-after"));
    limited.expect_error(429, "rate_limited");
    // The page of a link that never existed is a plain 404.
    let page = reqwest::get(server.url(&format!("/s/{:040x}", 7)))
        .await
        .unwrap();
    assert_eq!(page.status(), 429, "the same address is still limited");
    server.stop().await;
}

/// The item with `id` among `items`.
fn find<'a>(items: &'a Value, id: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {items}"))
}

/// How many guests exist.
async fn guests(f: &Family) -> i64 {
    let (count,): (i64,) = sqlx::query_as("select count(*) from guests")
        .fetch_one(f.server.state.store.pool())
        .await
        .unwrap();
    count
}
