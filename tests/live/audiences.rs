//! Who receives what: topics granted only to their audience, the
//! recipient's stream without claims or gaps, family and user topics.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::ws::{open_browser, seq};
use crate::common::{family, list_topic, Db};
use crate::on_both_backends;
use crate::subscribed;

on_both_backends!(
    topics_are_granted_only_to_their_audience,
    two_sockets_of_one_user_both_receive,
    recipient_stream_has_no_claims_and_no_gaps,
    family_and_user_topics_carry_their_events,
);

async fn topics_are_granted_only_to_their_audience(db: Db) {
    let f = family(db).await;
    // A second family, of someone else, with a list.
    let stranger = f.server.browser();
    let stranger_id = stranger.register("Eve").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_family = stranger
        .post("/families", json!({ "name": "Others" }))
        .await
        .expect(201)["family"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_list = stranger
        .post(
            &format!("/families/{other_family}/lists"),
            json!({ "title": "Eve's", "recipient_name": "Eve" }),
        )
        .await
        .expect(201)["list"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut ws = open_browser(&f.server, &f.member).await;
    let mine = list_topic(&f);
    let family_topic = format!("family:{}", f.family_id);
    let user_topic = format!("user:{}", f.member_id);
    let theirs = format!("gift-list:{other_list}");
    let unknown = "gift-list:l_doesnotexist".to_owned();
    ws.send(json!({
        "type": "subscribe",
        "topics": [mine, theirs, format!("family:{other_family}"), format!("user:{stranger_id}"),
                   unknown, "list:l_1", "gift-list:", "x".repeat(300), family_topic, user_topic],
        "id": "r1"
    }))
    .await;
    let mut errors = Vec::new();
    let mut subscribed = None;
    for _ in 0..8 {
        let frame = ws.frame().await;
        match frame["type"].as_str() {
            Some("error") => errors.push(frame),
            Some("subscribed") => subscribed = Some(frame),
            _ => panic!("unexpected {frame}"),
        }
    }
    assert_eq!(
        subscribed.unwrap(),
        json!({ "type": "subscribed", "topics": [mine, family_topic, user_topic], "id": "r1" })
    );
    let codes: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e["code"].as_str().unwrap(), e["topic"].as_str().unwrap()))
        .collect();
    let long = "x".repeat(300);
    assert_eq!(
        codes,
        vec![
            ("forbidden", theirs.as_str()),
            ("forbidden", &format!("family:{other_family}")),
            ("forbidden", &format!("user:{stranger_id}")),
            ("forbidden", "gift-list:l_doesnotexist"),
            ("bad_request", "list:l_1"),
            ("bad_request", "gift-list:"),
            ("bad_request", long.as_str()),
        ]
    );
    // No existence oracle: another family's list reads like an unknown one.
    assert_eq!(errors[0]["message"], errors[3]["message"]);
    assert!(errors.iter().all(|e| e["id"] == "r1"));
    // Nothing of the other family arrives.
    stranger
        .post(
            &format!("/lists/{other_list}/items"),
            json!({ "title": "Secret" }),
        )
        .await
        .expect(201);
    ws.expect_silence(Duration::from_millis(300)).await;
    f.server.stop().await;
}

async fn two_sockets_of_one_user_both_receive(db: Db) {
    let f = family(db).await;
    let topic = list_topic(&f);
    let mut first = open_browser(&f.server, &f.member).await;
    first.subscribe(&[&topic], json!({}), "a").await;
    let mut second = subscribed(&f.server, &f.member_id, &[&topic], json!({})).await;
    // Subscribing again is acknowledged again and never duplicates events.
    second
        .subscribe(&[&topic], json!({ topic.clone(): 0 }), "again")
        .await;
    let item = f.add_item(&f.admin, "Kite").await;
    for ws in [&mut first, &mut second] {
        let event = ws.expect("event").await;
        assert_eq!(event["event"], "ADDED");
        assert_eq!(event["seq"], 1);
        assert_eq!(event["topic"], topic.as_str());
        assert_eq!(event["data"]["entity_id"], item["id"]);
        assert_eq!(event["data"]["payload"], item);
        assert_eq!(event["data"]["tenant_id"], f.family_id.as_str());
        ws.expect_silence(Duration::from_millis(200)).await;
    }
    // Unsubscribed, a socket hears no more; the other still does.
    second
        .send(json!({ "type": "unsubscribe", "topics": [topic], "id": "u" }))
        .await;
    assert_eq!(
        second.expect("unsubscribed").await,
        json!({ "type": "unsubscribed", "topics": [topic], "id": "u" })
    );
    f.add_item(&f.admin, "Yo-yo").await;
    assert_eq!(first.expect("event").await["seq"], 2);
    second.expect_silence(Duration::from_millis(300)).await;
    f.server.stop().await;
}

async fn recipient_stream_has_no_claims_and_no_gaps(db: Db) {
    let f = family(db).await;
    let topic = list_topic(&f);
    let mut member = subscribed(&f.server, &f.member_id, &[&topic], json!({})).await;
    let mut recipient = subscribed(&f.server, &f.recipient_id, &[&topic], json!({})).await;
    let item = f.add_item(&f.admin, "Bike").await;
    let id = item["id"].as_str().unwrap();
    f.claim(&f.member, id, "reserved").await;
    f.admin
        .patch(
            &format!("/items/{id}"),
            json!({ "version": 1, "title": "Red bike" }),
        )
        .await
        .expect(200);
    f.claim(&f.member, id, "purchased").await;
    f.member
        .delete(&format!("/items/{id}/claim"))
        .await
        .expect(200);
    f.admin.delete(&format!("/items/{id}")).await.expect(204);

    let seen = member.events(6).await;
    let names: Vec<_> = seen.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "ADDED",
            "STATUS_CHANGED",
            "UPDATED",
            "STATUS_CHANGED",
            "STATUS_CHANGED",
            "DELETED"
        ]
    );
    assert_eq!(seen.iter().map(seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    assert_eq!(seen[1]["data"]["payload"]["claim"]["status"], "reserved");
    assert_eq!(seen[1]["data"]["user_id"], f.member_id.as_str());

    let theirs = recipient.events(3).await;
    let names: Vec<_> = theirs
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ADDED", "UPDATED", "DELETED"]);
    assert_eq!(theirs.iter().map(seq).collect::<Vec<_>>(), [1, 2, 3]);
    for event in &theirs {
        assert_eq!(event["data"]["payload"]["claim"], Value::Null, "{event}");
    }
    // The version the recipient sees moved only with the edit.
    assert_eq!(theirs[1]["data"]["payload"]["version"], 2);
    recipient.expect_silence(Duration::from_millis(300)).await;
    // The events as received also pass the `giftlist validate-event` command.
    let file = f.server.db.dir.path().join("frames.jsonl");
    let lines: Vec<String> = member
        .log
        .iter()
        .chain(&recipient.log)
        .filter(|frame| frame["type"] == "event")
        .map(Value::to_string)
        .collect();
    assert_eq!(lines.len(), 9);
    std::fs::write(&file, lines.join("\n")).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_giftlist"))
        .arg("validate-event")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let everything = serde_json::to_string(&recipient.log).unwrap();
    assert!(!everything.contains("reserved") && !everything.contains("purchased"));
    assert!(
        !everything.contains(&f.member_id),
        "the claimer is never named"
    );
    f.server.stop().await;
}

async fn family_and_user_topics_carry_their_events(db: Db) {
    let f = family(db).await;
    let family_topic = format!("family:{}", f.family_id);
    let user_topic = format!("user:{}", f.member_id);
    let mut ws = subscribed(
        &f.server,
        &f.member_id,
        &[&family_topic, &user_topic],
        json!({}),
    )
    .await;
    // A list made, then renamed and removed; the member's claim changed by another.
    let list = f
        .admin
        .post(
            &format!("/families/{}/lists", f.family_id),
            json!({ "title": "Summer", "recipient_name": "Gran" }),
        )
        .await
        .expect(201)["list"]
        .clone();
    let list_id = list["id"].as_str().unwrap();
    let item = f
        .admin
        .post(
            &format!("/lists/{list_id}/items"),
            json!({ "title": "Hat" }),
        )
        .await
        .expect(201)["item"]
        .clone();
    let item_id = item["id"].as_str().unwrap();
    f.claim(&f.member, item_id, "reserved").await;
    f.admin
        .patch(
            &format!("/items/{item_id}"),
            json!({ "version": 1, "notes": "size M" }),
        )
        .await
        .expect(200);
    f.admin
        .patch(&format!("/lists/{list_id}"), json!({ "title": "Summer!" }))
        .await
        .expect(200);
    f.admin
        .delete(&format!("/lists/{list_id}"))
        .await
        .expect(204);

    let got = ws.events(5).await;
    let seen: Vec<(&str, &str, i64)> = got
        .iter()
        .map(|e| {
            (
                e["topic"].as_str().unwrap(),
                e["event"].as_str().unwrap(),
                seq(e),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (family_topic.as_str(), "ADDED", 4),
            (user_topic.as_str(), "UPDATED", 1),
            (family_topic.as_str(), "UPDATED", 5),
            (user_topic.as_str(), "DELETED", 2),
            (family_topic.as_str(), "DELETED", 6),
        ],
        "the family's first three events were two members joining and the first list"
    );
    assert_eq!(got[1]["data"]["payload"]["notes"], "size M");
    f.server.stop().await;
}
