//! Families, invites, lists, items and claims: who may do what, and
//! versions that refuse stale writes.

use serde_json::{json, Value};

use crate::common::{family, Db};
use crate::on_both_backends;

on_both_backends!(
    families_and_invites,
    lists_for_members_and_for_people_without_accounts,
    who_may_rename_and_remove_lists,
    items_versions_and_conflicts,
    claims_have_one_holder,
    families_and_people_are_renamed_live,
);

async fn families_and_invites(db: Db) {
    let f = family(db).await;
    let detail = f
        .member
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect(200);
    assert_eq!(detail["family"]["name"], "The Smiths");
    let roles: Vec<(String, String)> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().into(),
                m["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("Alice".into(), "admin".into()),
            ("Bob".into(), "member".into()),
            ("Carol".into(), "member".into())
        ]
    );
    assert_eq!(detail["lists"].as_array().unwrap().len(), 1);

    // Any member may invite; accepting again is a no-op.
    let invite = f
        .member
        .post(&format!("/families/{}/invites", f.family_id), json!(null))
        .await
        .expect(201);
    let code = invite["code"].as_str().unwrap();
    assert!(invite["expires_at"].as_str().unwrap().ends_with('Z'));
    let again = f
        .member
        .post(&format!("/invites/{code}/accept"), json!(null))
        .await
        .expect(200);
    assert_eq!(again["family"]["id"], f.family_id.as_str());
    let detail = f
        .admin
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect(200);
    assert_eq!(detail["members"].as_array().unwrap().len(), 3);

    // The code serves several people.
    let newcomer = f.server.browser();
    newcomer.register("Dan").await;
    newcomer
        .post(&format!("/invites/{code}/accept"), json!(null))
        .await
        .expect(200);
    let me = newcomer.get("/me").await.expect(200);
    assert_eq!(me["families"][0]["id"], f.family_id.as_str());

    newcomer
        .post("/invites/no-such-code/accept", json!(null))
        .await
        .expect_error(404, "not_found");
    // Outsiders see nothing.
    let outsider = f.server.browser();
    outsider.register("Eve").await;
    outsider
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect_error(404, "not_found");
    outsider
        .post(&format!("/families/{}/invites", f.family_id), json!(null))
        .await
        .expect_error(404, "not_found");
    f.server.stop().await;
}

async fn lists_for_members_and_for_people_without_accounts(db: Db) {
    let f = family(db).await;
    let path = format!("/families/{}/lists", f.family_id);
    let child = f
        .member
        .post(
            &path,
            json!({ "title": "Little Tim", "recipient_name": "Tim" }),
        )
        .await
        .expect(201);
    let list = &child["list"];
    assert_eq!(list["recipient_name"], "Tim");
    assert_eq!(list["recipient_user_id"], Value::Null);
    assert_eq!(list["version"], 1);
    assert_eq!(list["family_id"], f.family_id.as_str());

    let second = f
        .member
        .post(
            &path,
            json!({ "title": "Carol's Christmas", "recipient_user_id": f.recipient_id }),
        )
        .await
        .expect(201);
    assert_eq!(second["list"]["recipient_user_id"], f.recipient_id.as_str());

    let outsider = f.server.browser();
    let outsider_id = outsider.register("Zed").await["id"].clone();
    for bad in [
        json!({ "title": "Both", "recipient_name": "Tim", "recipient_user_id": f.recipient_id }),
        json!({ "title": "Neither" }),
        json!({ "title": "Stranger", "recipient_user_id": outsider_id }),
        json!({ "title": "", "recipient_name": "Tim" }),
    ] {
        f.member
            .post(&path, bad)
            .await
            .expect_error(400, "bad_request");
    }
    let detail = f
        .admin
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect(200);
    assert_eq!(
        detail["lists"].as_array().unwrap().len(),
        3,
        "refused lists were not half-written"
    );

    let got = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(got["list"]["title"], "Carol's birthday");
    assert_eq!(got["items"], json!([]));
    assert_eq!(got["seq"], 0);
    f.server.stop().await;
}

async fn who_may_rename_and_remove_lists(db: Db) {
    let f = family(db).await;
    let path = format!("/lists/{}", f.list_id);
    // Bob neither made the list nor is an admin.
    f.member
        .patch(&path, json!({ "title": "Mine now" }))
        .await
        .expect_error(403, "forbidden");
    f.member.delete(&path).await.expect_error(403, "forbidden");
    let renamed = f
        .admin
        .patch(&path, json!({ "title": "Carol turns 40" }))
        .await
        .expect(200);
    assert_eq!(renamed["list"]["title"], "Carol turns 40");
    assert_eq!(renamed["list"]["version"], 2);

    // The creator may manage their own list without being admin.
    let own = f
        .add_list(
            &f.member,
            json!({ "title": "Tim", "recipient_name": "Tim" }),
        )
        .await;
    f.member
        .patch(&format!("/lists/{own}"), json!({ "title": "Tim (7)" }))
        .await
        .expect(200);
    f.member.delete(&format!("/lists/{own}")).await.expect(204);
    f.member
        .get(&format!("/lists/{own}"))
        .await
        .expect_error(404, "not_found");

    f.add_item(&f.member, "Scarf").await;
    assert_eq!(f.admin.delete(&path).await.status, 204);
    f.admin.get(&path).await.expect_error(404, "not_found");
    f.server.stop().await;
}

async fn items_versions_and_conflicts(db: Db) {
    let f = family(db).await;
    let created = f
        .member
        .post(
            &format!("/lists/{}/items", f.list_id),
            json!({ "title": "Bike", "url": "https://shop.example/bike", "price_cents": 19999, "currency": "USD",
                    "notes": "blue, not red", "priority": 1 }),
        )
        .await
        .expect(201)["item"]
        .clone();
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // Version 1's fields, and Giftlist's `quantity`, `claims`, `group` and
    // `picture` (docs/API.md).
    let mut expected = vec![
        "claim",
        "claims",
        "created_by",
        "currency",
        "group",
        "id",
        "list_id",
        "notes",
        "picture",
        "price_cents",
        "priority",
        "quantity",
        "title",
        "url",
        "version",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(created["version"], 1);
    assert_eq!(created["created_by"], f.member_id.as_str());
    assert_eq!(created["claim"], Value::Null);

    let defaults = f.add_item(&f.admin, "Book").await;
    assert_eq!(
        (defaults["currency"].clone(), defaults["priority"].clone()),
        (json!("EUR"), json!(3))
    );
    assert_eq!(defaults["url"], Value::Null);

    let item = format!("/items/{}", created["id"].as_str().unwrap());
    let edited = f
        .admin
        .patch(
            &item,
            json!({ "version": 1, "title": "Red bike", "notes": null }),
        )
        .await
        .expect(200);
    assert_eq!(edited["item"]["version"], 2);
    assert_eq!(edited["item"]["title"], "Red bike");
    assert_eq!(edited["item"]["notes"], Value::Null);
    assert_eq!(edited["item"]["price_cents"], 19999, "absent fields stay");

    // A stale version: 409 with the current item, nothing overwritten.
    let stale = f
        .member
        .patch(&item, json!({ "version": 1, "title": "Blue bike" }))
        .await;
    let body = stale.expect_error(409, "conflict");
    assert_eq!(body["current"]["title"], "Red bike");
    assert_eq!(body["current"]["version"], 2);

    // The recipient may edit and remove items too (they are a member).
    f.recipient
        .patch(&item, json!({ "version": 2, "priority": 2 }))
        .await
        .expect(200);
    assert_eq!(f.recipient.delete(&item).await.status, 204);
    f.admin
        .patch(&item, json!({ "version": 3, "title": "Gone" }))
        .await
        .expect_error(404, "not_found");
    f.admin.delete(&item).await.expect_error(404, "not_found");
    f.server.stop().await;
}

async fn claims_have_one_holder(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.recipient, "Camera").await;
    let claim = format!("/items/{}/claim", item["id"].as_str().unwrap());

    f.recipient
        .post(&claim, json!({ "status": "reserved" }))
        .await
        .expect_error(403, "forbidden");
    let claimed = f
        .member
        .post(&claim, json!({ "status": "reserved" }))
        .await
        .expect(200);
    assert_eq!(
        claimed["item"]["claim"],
        json!({ "status": "reserved", "by": f.member_id })
    );
    assert_eq!(claimed["item"]["version"], 1, "a claim changes no version");
    f.admin
        .post(&claim, json!({ "status": "purchased" }))
        .await
        .expect_error(409, "conflict");
    // The holder may move their claim on.
    let bought = f
        .member
        .post(&claim, json!({ "status": "purchased" }))
        .await
        .expect(200);
    assert_eq!(bought["item"]["claim"]["status"], "purchased");

    f.admin.delete(&claim).await.expect_error(403, "forbidden");
    f.recipient
        .delete(&claim)
        .await
        .expect_error(403, "forbidden");
    let released = f.member.delete(&claim).await.expect(200);
    assert_eq!(released["item"]["claim"], Value::Null);
    f.member.delete(&claim).await.expect_error(409, "conflict");
    // Free again: anyone but the recipient may claim it.
    f.admin
        .post(&claim, json!({ "status": "reserved" }))
        .await
        .expect(200);
    f.member
        .post(&claim, json!({ "status": "bought" }))
        .await
        .expect_error(400, "bad_request");
    f.server.stop().await;
}

/// An admin renames the family; anyone renames themselves; each family
/// of theirs hears of it on its topic (polled here through the outbox).
async fn families_and_people_are_renamed_live(db: Db) {
    let f = family(db).await;
    let topic = format!("family:{}", f.family_id);
    let before = family_events(&f, &topic).await;
    f.member
        .patch(
            &format!("/families/{}", f.family_id),
            json!({ "name": "Bob's lot" }),
        )
        .await
        .expect_error(403, "forbidden");
    f.admin
        .patch(
            &format!("/families/{}", f.family_id),
            json!({ "name": "  " }),
        )
        .await
        .expect_error(400, "bad_request");
    let renamed = f
        .admin
        .patch(
            &format!("/families/{}", f.family_id),
            json!({ "name": "The Smith-Joneses" }),
        )
        .await
        .expect(200);
    assert_eq!(renamed["family"]["name"], "The Smith-Joneses");
    let stranger = f.server.browser();
    stranger.register("Zed").await;
    stranger
        .patch(
            &format!("/families/{}", f.family_id),
            json!({ "name": "Mine" }),
        )
        .await
        .expect_error(404, "not_found");

    f.member
        .send(reqwest::Method::PATCH, "/me", Some(json!({ "name": "" })))
        .await
        .expect_error(400, "bad_request");
    let me = f
        .member
        .send(
            reqwest::Method::PATCH,
            "/me",
            Some(json!({ "name": "Robert" })),
        )
        .await
        .expect(200);
    assert_eq!(me["user"]["name"], "Robert");
    let detail = f
        .admin
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect(200);
    assert!(detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["name"] == "Robert" && m["user_id"] == f.member_id.as_str()));

    let events = family_events(&f, &topic).await;
    let new: Vec<(String, String, Value)> = events[before.len()..]
        .iter()
        .map(|e| {
            (
                e.event.clone(),
                e.entity_id.clone(),
                serde_json::from_str(&e.payload).unwrap(),
            )
        })
        .collect();
    assert_eq!(new.len(), 2, "{new:?}");
    assert_eq!(
        (new[0].0.as_str(), new[0].1.as_str()),
        ("UPDATED", f.family_id.as_str())
    );
    assert_eq!(new[0].2["name"], "The Smith-Joneses");
    assert_eq!(
        (new[1].0.as_str(), new[1].1.as_str()),
        ("UPDATED", f.member_id.as_str())
    );
    assert_eq!(new[1].2["name"], "Robert");
    assert_eq!(new[1].2["role"], "member");
    f.server.stop().await;
}

async fn family_events(
    f: &crate::common::Family,
    topic: &str,
) -> Vec<giftlist::store::outbox::StoredEvent> {
    giftlist::store::outbox::since(
        f.server.state.store.pool(),
        topic,
        giftlist::store::outbox::Audience::All,
        0,
        1000,
    )
    .await
    .unwrap()
}
