//! What a person may not read: the surprise rule on every read path, and
//! other families' ids answered as unknown.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{family, Browser, Db, Family};
use crate::on_both_backends;

on_both_backends!(
    the_surprise_rule_holds_on_every_read_path,
    other_families_ids_look_unknown,
    list_cards_count_what_is_free_for_members_only,
);

async fn the_surprise_rule_holds_on_every_read_path(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.member, "Watch").await;
    let id = item["id"].as_str().unwrap();
    let before = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    f.admin
        .post(
            &format!("/items/{id}/claim"),
            json!({ "status": "purchased" }),
        )
        .await
        .expect(200);

    // The list as the recipient reads it is byte for byte what it was.
    let after = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(before, after, "a claim changed what the recipient reads");
    let as_member = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(as_member["items"][0]["claim"]["status"], "purchased");

    // Responses to the recipient's own writes carry no claim either.
    let edited = f
        .recipient
        .patch(
            &format!("/items/{id}"),
            json!({ "version": 1, "notes": "gold" }),
        )
        .await
        .expect(200);
    assert_eq!(edited["item"]["claim"], Value::Null);
    let stale = f
        .recipient
        .patch(
            &format!("/items/{id}"),
            json!({ "version": 1, "notes": "silver" }),
        )
        .await;
    assert_eq!(
        stale.expect_error(409, "conflict")["current"]["claim"],
        Value::Null
    );
    let added = f
        .recipient
        .post(
            &format!("/lists/{}/items", f.list_id),
            json!({ "title": "Hat" }),
        )
        .await
        .expect(201);
    assert_eq!(added["item"]["claim"], Value::Null);

    // Polling: the recipient's stream holds no claim and no gap.
    let changes = f
        .recipient
        .get(&format!("/lists/{}/changes?since=0", f.list_id))
        .await
        .expect(200);
    let text = changes.to_string();
    assert!(
        !text.contains("STATUS_CHANGED") && !text.contains("purchased"),
        "{text}"
    );
    let seqs: Vec<i64> = changes["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3], "ADDED, UPDATED, ADDED with no gap");
    assert_eq!(changes["seq"], 3);
    for event in changes["events"].as_array().unwrap() {
        assert_eq!(event["data"]["payload"]["claim"], Value::Null);
    }

    // Releasing is as invisible as claiming.
    let before = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    f.admin
        .delete(&format!("/items/{id}/claim"))
        .await
        .expect(200);
    let after = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(before, after);

    // The recipient's claim and release attempts answer alike, claimed or not.
    f.member
        .post(
            &format!("/items/{id}/claim"),
            json!({ "status": "reserved" }),
        )
        .await
        .expect(200);
    let claimed = f.recipient.delete(&format!("/items/{id}/claim")).await;
    let free_item = f.add_item(&f.member, "Socks").await;
    let free = f
        .recipient
        .delete(&format!(
            "/items/{}/claim",
            free_item["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!((claimed.status, claimed.body), (free.status, free.body));
    f.server.stop().await;
}

async fn other_families_ids_look_unknown(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.member, "Secret").await;
    let item_id = item["id"].as_str().unwrap();
    let outsider = f.server.browser();
    outsider.register("Mallory").await;
    outsider
        .post("/families", json!({ "name": "Other" }))
        .await
        .expect(201);

    let probes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/families/{}", f.family_id), None),
        (
            Method::POST,
            format!("/families/{}/lists", f.family_id),
            Some(json!({ "title": "x", "recipient_name": "y" })),
        ),
        (Method::GET, format!("/lists/{}", f.list_id), None),
        (
            Method::GET,
            format!("/lists/{}/changes?since=0", f.list_id),
            None,
        ),
        (
            Method::PATCH,
            format!("/lists/{}", f.list_id),
            Some(json!({ "title": "x" })),
        ),
        (Method::DELETE, format!("/lists/{}", f.list_id), None),
        (
            Method::POST,
            format!("/lists/{}/items", f.list_id),
            Some(json!({ "title": "x" })),
        ),
        (
            Method::PATCH,
            format!("/items/{item_id}"),
            Some(json!({ "version": 1, "title": "x" })),
        ),
        (Method::DELETE, format!("/items/{item_id}"), None),
        (
            Method::POST,
            format!("/items/{item_id}/claim"),
            Some(json!({ "status": "reserved" })),
        ),
        (Method::DELETE, format!("/items/{item_id}/claim"), None),
    ];
    for (method, path, body) in probes {
        let theirs = outsider.send(method.clone(), &path, body.clone()).await;
        let unknown_path = path
            .replace(&f.family_id, "f_000000000000000000000000")
            .replace(&f.list_id, "l_000000000000000000000000")
            .replace(item_id, "i_000000000000000000000000");
        let unknown = outsider.send(method.clone(), &unknown_path, body).await;
        assert_eq!(theirs.status, 404, "{method} {path}: {}", theirs.body);
        assert_eq!(
            (theirs.status, theirs.body),
            (unknown.status, unknown.body),
            "{method} {path}"
        );
    }
    // And nothing changed.
    let list = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(list["items"][0]["title"], "Secret");
    assert_eq!(list["items"][0]["claim"], Value::Null);
    f.server.stop().await;
}

/// A page's server function, called as the page calls it (form-encoded).
pub(crate) async fn page_data(f: &Family, by: &Browser, name: &str, body: String) -> Value {
    let response = by
        .http
        .post(f.server.url(&format!("/api/fn/{name}")))
        .header("origin", by.origin())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{name}");
    response.json().await.unwrap()
}

/// The family page's and the dashboard's list cards: how many gifts, and
/// for members how many are still free; the recipient's card has no such
/// count, so it cannot tell that anything was claimed.
async fn list_cards_count_what_is_free_for_members_only(db: Db) {
    let f = family(db).await;
    let watch = f.add_item(&f.member, "Watch").await;
    f.add_item(&f.member, "Scarf").await;
    let family_form = format!("id={}", f.family_id);
    let before = page_data(&f, &f.recipient, "get_family", family_form.clone()).await;
    f.admin
        .post(
            &format!("/items/{}/claim", watch["id"].as_str().unwrap()),
            json!({ "status": "reserved" }),
        )
        .await
        .expect(200);

    let as_member = page_data(&f, &f.member, "get_family", family_form.clone()).await;
    assert_eq!(
        as_member["counts"],
        json!([{ "list_id": f.list_id, "gifts": 2, "available": 1 }])
    );
    let as_recipient = page_data(&f, &f.recipient, "get_family", family_form).await;
    assert_eq!(
        as_recipient["counts"],
        json!([{ "list_id": f.list_id, "gifts": 2, "available": null }])
    );
    assert_eq!(before["counts"], as_recipient["counts"], "a claim showed");

    let overview = page_data(&f, &f.recipient, "my_overview", String::new()).await;
    assert_eq!(overview[0]["counts"], as_recipient["counts"]);
    let overview = page_data(&f, &f.member, "my_overview", String::new()).await;
    assert_eq!(overview[0]["counts"], as_member["counts"]);
}
