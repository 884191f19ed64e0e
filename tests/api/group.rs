//! Items wanted more than once: quantities, and givers each holding some
//! of an item's units, decided atomically, never shown to the recipient.

use futures::future::join_all;
use serde_json::{json, Value};

use crate::common::{family, Browser, Db, Family};
use crate::on_both_backends;
use crate::privacy::page_data;

on_both_backends!(
    quantities_default_to_one_and_bad_ones_are_refused,
    givers_hold_parts_of_an_item_and_change_or_release_them,
    thirty_givers_racing_for_six_units_hold_exactly_six,
    lowering_the_quantity_below_the_claims_needs_a_confirmation,
    the_recipient_reads_nothing_of_unit_claims,
    members_chip_in_for_a_group_gift,
    pledges_at_once_are_all_kept,
);

async fn add(f: &Family, by: &Browser, body: Value) -> Value {
    by.post(&format!("/lists/{}/items", f.list_id), body)
        .await
        .expect(201)["item"]
        .clone()
}

async fn items(f: &Family, by: &Browser) -> Vec<Value> {
    by.get(&format!("/lists/{}", f.list_id)).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn item_id(item: &Value) -> String {
    item["id"].as_str().unwrap().to_string()
}

async fn claim(by: &Browser, id: &str, body: Value) -> crate::common::Answer {
    by.post(&format!("/items/{id}/claim"), body).await
}

async fn quantities_default_to_one_and_bad_ones_are_refused(db: Db) {
    let f = family(db).await;
    let plain = add(&f, &f.member, json!({ "title": "Kite" })).await;
    assert_eq!(plain["quantity"], 1);
    assert_eq!(plain["claims"], json!([]));
    let glasses = add(&f, &f.member, json!({ "title": "Glasses", "quantity": 6 })).await;
    assert_eq!(glasses["quantity"], 6);
    let cards = add(
        &f,
        &f.member,
        json!({ "title": "Gift card", "quantity": null }),
    )
    .await;
    assert_eq!(cards["quantity"], Value::Null);

    for bad in [json!(0), json!(1000), json!(-2), json!(2.5), json!("3")] {
        let refused = f
            .member
            .post(
                &format!("/lists/{}/items", f.list_id),
                json!({ "title": "Bad", "quantity": bad }),
            )
            .await;
        refused.expect_error(400, "bad_request");
        let refused = f
            .member
            .patch(
                &format!("/items/{}", item_id(&glasses)),
                json!({ "version": 1, "quantity": bad }),
            )
            .await;
        refused.expect_error(400, "bad_request");
    }
    let now = items(&f, &f.admin).await;
    assert_eq!(now.len(), 3, "nothing half-written: {now:?}");
    assert!(now.iter().all(|i| i["version"] == 1), "{now:?}");

    // Quantity is an edit like any other, and may become "no limit".
    let edited = f
        .admin
        .patch(
            &format!("/items/{}", item_id(&glasses)),
            json!({ "version": 1, "quantity": null }),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            edited["item"]["quantity"].clone(),
            edited["item"]["version"].clone()
        ),
        (Value::Null, json!(2))
    );
    f.server.stop().await;
}

async fn givers_hold_parts_of_an_item_and_change_or_release_them(db: Db) {
    let f = family(db).await;
    let glasses = item_id(
        &add(
            &f,
            &f.recipient,
            json!({ "title": "Glasses", "quantity": 6 }),
        )
        .await,
    );

    // Version 1 clients send no units: one.
    let one = claim(&f.member, &glasses, json!({ "status": "reserved" }))
        .await
        .expect(200);
    assert_eq!(
        one["item"]["claims"],
        json!([{ "status": "reserved", "by": f.member_id, "units": 1 }])
    );
    let two = claim(
        &f.admin,
        &glasses,
        json!({ "status": "purchased", "units": 2 }),
    )
    .await
    .expect(200);
    assert_eq!(
        two["item"]["claims"],
        json!([
            { "status": "reserved", "by": f.member_id, "units": 1 },
            { "status": "purchased", "by": f.admin_id, "units": 2 },
        ])
    );
    // `claim` is the first holder, as version 1 clients read it.
    assert_eq!(two["item"]["claim"]["by"], f.member_id.as_str());
    assert_eq!(two["item"]["version"], 1, "a claim is not an edit");

    // Changing one's part: up to what the others leave.
    claim(
        &f.member,
        &glasses,
        json!({ "status": "reserved", "units": 4 }),
    )
    .await
    .expect(200);
    let over = claim(
        &f.member,
        &glasses,
        json!({ "status": "reserved", "units": 5 }),
    )
    .await;
    assert_eq!(over.body["error"]["message"], "only 4 are left to claim");
    let current = over.expect_error(409, "conflict")["current"].clone();
    assert_eq!(
        current["claims"][0]["units"], 4,
        "the refusal shows what is held now"
    );
    let full = claim(
        &f.admin,
        &glasses,
        json!({ "status": "purchased", "units": 3 }),
    )
    .await;
    full.expect_error(409, "conflict");

    // Bad units, each refused and nothing changed.
    for bad in [
        json!(0),
        json!(-1),
        json!(1.5),
        json!("2"),
        json!(1000),
        json!(null),
    ] {
        claim(
            &f.admin,
            &glasses,
            json!({ "status": "reserved", "units": bad }),
        )
        .await
        .expect_error(400, "bad_request");
    }
    claim(
        &f.recipient,
        &glasses,
        json!({ "status": "reserved", "units": 1 }),
    )
    .await
    .expect_error(403, "forbidden");
    let held: Vec<(Value, Value)> = items(&f, &f.admin).await[0]["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["by"].clone(), c["units"].clone()))
        .collect();
    assert_eq!(
        held,
        [
            (json!(f.member_id), json!(4)),
            (json!(f.admin_id), json!(2))
        ]
    );

    // Releasing one part leaves the others; the next holder is `claim`.
    let released = f
        .member
        .delete(&format!("/items/{glasses}/claim"))
        .await
        .expect(200);
    assert_eq!(released["item"]["claim"]["by"], f.admin_id.as_str());
    assert_eq!(released["item"]["claims"].as_array().unwrap().len(), 1);
    f.member
        .delete(&format!("/items/{glasses}/claim"))
        .await
        .expect_error(403, "forbidden");

    // No limit: never runs out.
    let cards = item_id(&add(&f, &f.member, json!({ "title": "Cards", "quantity": null })).await);
    claim(
        &f.member,
        &cards,
        json!({ "status": "reserved", "units": 999 }),
    )
    .await
    .expect(200);
    claim(
        &f.admin,
        &cards,
        json!({ "status": "purchased", "units": 999 }),
    )
    .await
    .expect(200);
    f.server.stop().await;
}

async fn thirty_givers_racing_for_six_units_hold_exactly_six(db: Db) {
    let f = family(db).await;
    let glasses = item_id(&add(&f, &f.member, json!({ "title": "Glasses", "quantity": 6 })).await);
    let givers = f.more_members("Giver", 30).await;
    let answers = join_all(
        givers
            .iter()
            .map(|g| claim(g, &glasses, json!({ "status": "reserved", "units": 1 }))),
    )
    .await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let refused: Vec<_> = answers.iter().filter(|a| a.status == 409).collect();
    assert_eq!((ok, refused.len()), (6, 24), "{answers:?}");
    for answer in refused {
        assert_eq!(answer.code(), "conflict");
        assert_eq!(answer.body["error"]["message"], "all of this item is taken");
        let held: i64 = answer.body["current"]["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["units"].as_i64().unwrap())
            .sum();
        assert_eq!(held, 6, "the current remainder is shown");
    }
    let now = &items(&f, &f.admin).await[0];
    assert_eq!(now["claims"].as_array().unwrap().len(), 6, "{now}");
    f.server.stop().await;
}

async fn lowering_the_quantity_below_the_claims_needs_a_confirmation(db: Db) {
    let f = family(db).await;
    let glasses = item_id(&add(&f, &f.member, json!({ "title": "Glasses", "quantity": 6 })).await);
    claim(
        &f.member,
        &glasses,
        json!({ "status": "reserved", "units": 2 }),
    )
    .await
    .expect(200);
    claim(
        &f.admin,
        &glasses,
        json!({ "status": "purchased", "units": 3 }),
    )
    .await
    .expect(200);

    let refused = f
        .member
        .patch(
            &format!("/items/{glasses}"),
            json!({ "version": 1, "quantity": 3 }),
        )
        .await;
    assert_eq!(
        refused.body["error"]["message"],
        "givers hold 5 of this item: talk to them first, or confirm to release the newest claims"
    );
    let current = refused.expect_error(409, "conflict")["current"].clone();
    assert_eq!(
        (current["quantity"].clone(), current["version"].clone()),
        (json!(6), json!(1))
    );
    assert_eq!(current["claims"].as_array().unwrap().len(), 2);

    // Confirmed: the newest claim (the admin's 3) gives up the excess 2.
    let lowered = f
        .member
        .patch(
            &format!("/items/{glasses}"),
            json!({ "version": 1, "quantity": 3, "release_excess": true }),
        )
        .await
        .expect(200);
    assert_eq!(
        lowered["item"]["claims"],
        json!([
            { "status": "reserved", "by": f.member_id, "units": 2 },
            { "status": "purchased", "by": f.admin_id, "units": 1 },
        ])
    );

    // The recipient must not learn of claims: their edit goes through as if
    // there were none, and cuts the newest claims.
    let cut = f
        .recipient
        .patch(
            &format!("/items/{glasses}"),
            json!({ "version": 2, "quantity": 1 }),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            cut["item"]["quantity"].clone(),
            cut["item"]["claims"].clone()
        ),
        (json!(1), json!([]))
    );
    let now = &items(&f, &f.admin).await[0];
    assert_eq!(
        now["claims"],
        json!([{ "status": "reserved", "by": f.member_id, "units": 1 }])
    );

    // The admin, whose claim the member's edit cut and the recipient's
    // removed, was told each time on their own topic; the member, whose
    // part the recipient's edit cut, once.
    let told = |user: &str| {
        let state = f.server.state.clone();
        let topic = format!("user:{user}");
        async move {
            giftlist::store::outbox::last_seq(
                state.service.store.pool(),
                &topic,
                giftlist::store::outbox::Audience::All,
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(told(&f.admin_id).await, 2);
    assert_eq!(told(&f.member_id).await, 1);
    f.server.stop().await;
}

async fn the_recipient_reads_nothing_of_unit_claims(db: Db) {
    let f = family(db).await;
    let glasses = item_id(
        &add(
            &f,
            &f.recipient,
            json!({ "title": "Glasses", "quantity": 6 }),
        )
        .await,
    );
    let cards = item_id(&add(&f, &f.member, json!({ "title": "Cards", "quantity": null })).await);
    let before = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    let page_before = page_data(&f, &f.recipient, "get_list", format!("id={}", f.list_id)).await;
    claim(
        &f.member,
        &glasses,
        json!({ "status": "reserved", "units": 4 }),
    )
    .await
    .expect(200);
    claim(
        &f.admin,
        &glasses,
        json!({ "status": "purchased", "units": 2 }),
    )
    .await
    .expect(200);
    claim(
        &f.admin,
        &cards,
        json!({ "status": "purchased", "units": 7 }),
    )
    .await
    .expect(200);
    claim(
        &f.member,
        &glasses,
        json!({ "status": "purchased", "units": 3 }),
    )
    .await
    .expect(200);

    let after = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(before, after, "claims changed what the recipient reads");
    let page_after = page_data(&f, &f.recipient, "get_list", format!("id={}", f.list_id)).await;
    assert_eq!(page_before, page_after);
    let changes = f
        .recipient
        .get(&format!("/lists/{}/changes?since=0", f.list_id))
        .await
        .expect(200);
    assert_eq!(changes["seq"], 2, "two ADDED, no gap: {changes}");
    for text in [
        after.to_string(),
        page_after.to_string(),
        changes.to_string(),
    ] {
        for secret in [
            "reserved",
            "purchased",
            "units",
            "target_cents",
            "amount_cents",
            "organiser",
            "funded",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    // The family page's card: no count of what is free for the recipient.
    let family_page = page_data(
        &f,
        &f.recipient,
        "get_family",
        format!("id={}", f.family_id),
    )
    .await;
    assert!(
        !family_page.to_string().contains("\"available\":0"),
        "{family_page}"
    );
    f.server.stop().await;
}

async fn pledge(by: &Browser, id: &str, body: Value) -> crate::common::Answer {
    by.post(&format!("/items/{id}/pledges"), body).await
}

async fn make_group(by: &Browser, id: &str, body: Value) -> crate::common::Answer {
    let body = (!body.is_null()).then_some(body);
    by.send(reqwest::Method::PUT, &format!("/items/{id}/group"), body)
        .await
}

async fn members_chip_in_for_a_group_gift(db: Db) {
    let f = family(db).await;
    let bike = item_id(
        &add(
            &f,
            &f.recipient,
            json!({ "title": "Bike", "price_cents": 30000, "currency": "EUR" }),
        )
        .await,
    );
    let kite = item_id(&add(&f, &f.member, json!({ "title": "Kite" })).await);

    // The recipient may neither start one nor pledge; an unpriced gift
    // needs a target; a pledge needs a group gift.
    make_group(&f.recipient, &bike, json!({}))
        .await
        .expect_error(403, "forbidden");
    make_group(&f.member, &kite, json!({}))
        .await
        .expect_error(400, "bad_request");
    pledge(&f.member, &kite, json!({ "amount_cents": 500 }))
        .await
        .expect_error(409, "conflict");

    // Without a body: the target is price × quantity.
    let started = f
        .member
        .send(reqwest::Method::PUT, &format!("/items/{bike}/group"), None)
        .await
        .expect(200);
    assert_eq!(
        started["item"]["group"],
        json!({ "target_cents": 30000, "organiser": null, "pledged_cents": 0, "paid_cents": 0,
                "funded": false, "pledges": [] })
    );
    pledge(&f.recipient, &bike, json!({ "amount_cents": 500 }))
        .await
        .expect_error(403, "forbidden");

    // Pledges: the first pledger organises until someone takes the role.
    let first = pledge(&f.member, &bike, json!({ "amount_cents": 10000 }))
        .await
        .expect(200);
    assert_eq!(first["item"]["group"]["organiser"], f.member_id.as_str());
    let second = pledge(
        &f.admin,
        &bike,
        json!({ "amount_cents": 25000, "currency": "EUR", "paid": true }),
    )
    .await
    .expect(200);
    let group = &second["item"]["group"];
    assert_eq!(
        (
            group["pledged_cents"].clone(),
            group["paid_cents"].clone(),
            group["funded"].clone()
        ),
        (json!(35000), json!(25000), json!(true)),
        "past the target is allowed, and shown as funded"
    );
    let organised = f
        .admin
        .post(&format!("/items/{bike}/group/organiser"), json!(null))
        .await
        .expect(200);
    assert_eq!(organised["item"]["group"]["organiser"], f.admin_id.as_str());
    assert_eq!(
        organised["item"]["version"], 1,
        "chipping in is not an edit"
    );

    // Bad pledges, each refused, nothing changed.
    for bad in [
        json!(0),
        json!(99),
        json!(-500),
        json!(1_000_000_000_001_i64),
        json!(1.5),
        json!("100"),
    ] {
        pledge(&f.member, &bike, json!({ "amount_cents": bad }))
            .await
            .expect_error(400, "bad_request");
    }
    pledge(
        &f.member,
        &bike,
        json!({ "amount_cents": 500, "currency": "USD" }),
    )
    .await
    .expect_error(400, "bad_request");
    pledge(&f.member, &bike, json!({ "amount_cents": 500, "tip": 1 }))
        .await
        .expect_error(400, "bad_request");
    make_group(&f.member, &bike, json!({ "target_cents": 0 }))
        .await
        .expect_error(400, "bad_request");
    let now = &items(&f, &f.admin).await[0];
    assert_eq!(now["group"]["pledged_cents"], 35000, "{now}");

    // Another family's gift is unknown.
    let stranger = f.server.browser();
    stranger.register("Stranger").await;
    let family_id = stranger
        .post("/families", json!({ "name": "Others" }))
        .await
        .expect(201)["family"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let list = stranger
        .post(
            &format!("/families/{family_id}/lists"),
            json!({ "title": "Theirs", "recipient_name": "Kid" }),
        )
        .await
        .expect(201)["list"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = item_id(
        &stranger
            .post(
                &format!("/lists/{list}/items"),
                json!({ "title": "Secret", "price_cents": 100 }),
            )
            .await
            .expect(201)["item"],
    );
    make_group(&stranger, &theirs, json!({})).await.expect(200);
    pledge(&f.member, &theirs, json!({ "amount_cents": 500 }))
        .await
        .expect_error(404, "not_found");
    make_group(&f.member, &theirs, json!({}))
        .await
        .expect_error(404, "not_found");

    // A price change keeps the pledges and tells the pledgers; the
    // currency may not change under them.
    let told_before = user_seq(&f, &f.admin_id).await;
    let repriced = f
        .member
        .patch(
            &format!("/items/{bike}"),
            json!({ "version": 1, "price_cents": 32000 }),
        )
        .await
        .expect(200);
    assert_eq!(repriced["item"]["group"]["pledged_cents"], 35000);
    assert_eq!(user_seq(&f, &f.admin_id).await, told_before + 1);
    f.member
        .patch(
            &format!("/items/{bike}"),
            json!({ "version": 2, "currency": "USD" }),
        )
        .await
        .expect_error(409, "conflict");
    let retarget = make_group(&f.member, &bike, json!({ "target_cents": 40000 }))
        .await
        .expect(200);
    assert_eq!(retarget["item"]["group"]["funded"], false);
    assert_eq!(
        user_seq(&f, &f.admin_id).await,
        told_before + 2,
        "a new target is told too"
    );

    // Change, withdraw; ungrouping waits until nobody has pledged.
    let changed = pledge(&f.member, &bike, json!({ "amount_cents": 5000 }))
        .await
        .expect(200);
    assert_eq!(changed["item"]["group"]["pledged_cents"], 30000);
    f.member
        .delete(&format!("/items/{bike}/pledges"))
        .await
        .expect(200);
    f.member
        .delete(&format!("/items/{bike}/pledges"))
        .await
        .expect_error(409, "conflict");
    f.member
        .delete(&format!("/items/{bike}/group"))
        .await
        .expect_error(409, "conflict");
    f.admin
        .delete(&format!("/items/{bike}/pledges"))
        .await
        .expect(200);
    let plain = f
        .member
        .delete(&format!("/items/{bike}/group"))
        .await
        .expect(200);
    assert_eq!(plain["item"]["group"], Value::Null);
    f.server.stop().await;
}

async fn user_seq(f: &Family, user: &str) -> i64 {
    giftlist::store::outbox::last_seq(
        f.server.state.service.store.pool(),
        &format!("user:{user}"),
        giftlist::store::outbox::Audience::All,
    )
    .await
    .unwrap()
}

async fn pledges_at_once_are_all_kept(db: Db) {
    let f = family(db).await;
    let bike = item_id(
        &add(
            &f,
            &f.member,
            json!({ "title": "Bike", "price_cents": 10000 }),
        )
        .await,
    );
    make_group(&f.member, &bike, json!({})).await.expect(200);
    let givers = f.more_members("Chipper", 12).await;
    let answers = join_all(
        givers
            .iter()
            .map(|g| pledge(g, &bike, json!({ "amount_cents": 1000 }))),
    )
    .await;
    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    let now = &items(&f, &f.admin).await[0];
    assert_eq!(now["group"]["pledges"].as_array().unwrap().len(), 12);
    assert_eq!(now["group"]["pledged_cents"], 12000);
    assert_eq!(now["group"]["funded"], true);
    // Each pledge is one event in the members' stream, numbered without gaps.
    let changes = f
        .admin
        .get(&format!("/lists/{}/changes?since=0", f.list_id))
        .await
        .expect(200);
    let seqs: Vec<i64> = changes["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=14).collect::<Vec<_>>(),
        "ADDED, the group, 12 pledges"
    );
    f.server.stop().await;
}
