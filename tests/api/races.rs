//! Parallel writes: one winner, one holder, numbers without gaps.

use futures::future::join_all;
use serde_json::json;

use crate::common::{family, Db};
use crate::on_both_backends;

on_both_backends!(
    twenty_parallel_patches_one_winner,
    twenty_parallel_claims_one_holder,
    fifty_parallel_creations_number_without_gaps,
);

async fn twenty_parallel_patches_one_winner(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.member, "Lamp").await;
    let path = format!("/items/{}", item["id"].as_str().unwrap());
    let answers = join_all((0..20).map(|n| {
        let by = if n % 2 == 0 { &f.admin } else { &f.member };
        let path = path.clone();
        async move {
            by.patch(&path, json!({ "version": 1, "title": format!("Lamp {n}") }))
                .await
        }
    }))
    .await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let conflicts = answers
        .iter()
        .filter(|a| a.status == 409 && a.code() == "conflict")
        .count();
    assert_eq!((ok, conflicts), (1, 19), "{answers:?}");
    let winner = answers.iter().find(|a| a.status == 200).unwrap();
    let now = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(now["items"][0]["title"], winner.body["item"]["title"]);
    assert_eq!(now["items"][0]["version"], 2);
    f.server.stop().await;
}

async fn twenty_parallel_claims_one_holder(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.recipient, "Telescope").await;
    let claimers = f.more_members("Cousin", 20).await;
    let path = format!("/items/{}/claim", item["id"].as_str().unwrap());
    let answers = join_all(
        claimers
            .iter()
            .map(|b| b.post(&path, json!({ "status": "reserved" }))),
    )
    .await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let conflicts = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!((ok, conflicts), (1, 19), "{answers:?}");
    let holder = &answers.iter().find(|a| a.status == 200).unwrap().body["item"]["claim"]["by"];
    let list = f
        .admin
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(&list["items"][0]["claim"]["by"], holder);
    let changes = f
        .admin
        .get(&format!("/lists/{}/changes?since=1", f.list_id))
        .await
        .expect(200);
    assert_eq!(
        changes["events"].as_array().unwrap().len(),
        1,
        "one claim, one event"
    );
    f.server.stop().await;
}

async fn fifty_parallel_creations_number_without_gaps(db: Db) {
    let f = family(db).await;
    let path = format!("/lists/{}/items", f.list_id);
    let answers = join_all((0..50).map(|n| {
        let by = [&f.admin, &f.member, &f.recipient][n % 3];
        let path = path.clone();
        async move {
            by.post(&path, json!({ "title": format!("Gift {n}") }))
                .await
        }
    }))
    .await;
    assert!(answers.iter().all(|a| a.status == 201), "{answers:?}");
    for reader in [&f.member, &f.recipient] {
        let changes = reader
            .get(&format!("/lists/{}/changes?since=0", f.list_id))
            .await
            .expect(200);
        let seqs: Vec<i64> = changes["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
        let mut ids: Vec<&str> = changes["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["data"]["entity_id"].as_str().unwrap())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 50, "each creation announced once");
    }
    f.server.stop().await;
}
