//! The events each change records, per topic and audience, for the live
//! channel to deliver.

use giftlist::store::outbox::{self, Audience};
use serde_json::json;

use crate::common::{family, Db};
use crate::on_both_backends;

on_both_backends!(
    events_are_recorded_per_audience,
    family_and_claimer_topics_are_recorded,
);

async fn events_are_recorded_per_audience(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.member, "Kite").await;
    let id = item["id"].as_str().unwrap();
    f.admin
        .post(
            &format!("/items/{id}/claim"),
            json!({ "status": "reserved" }),
        )
        .await
        .expect(200);
    f.member
        .patch(
            &format!("/items/{id}"),
            json!({ "version": 1, "title": "Big kite" }),
        )
        .await
        .expect(200);

    let members = f
        .member
        .get(&format!("/lists/{}/changes?since=0", f.list_id))
        .await
        .expect(200);
    let names: Vec<&str> = members["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ADDED", "STATUS_CHANGED", "UPDATED"]);
    let claim_event = &members["events"][1];
    assert_eq!(claim_event["type"], "event");
    assert_eq!(claim_event["topic"], format!("gift-list:{}", f.list_id));
    assert_eq!(claim_event["data"]["entity_id"], id);
    assert_eq!(claim_event["data"]["tenant_id"], f.family_id.as_str());
    assert_eq!(
        claim_event["data"]["payload"]["claim"]["status"],
        "reserved"
    );
    assert!(claim_event["data"]["timestamp"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(claim_event["trace_id"].as_str().unwrap().len(), 32);

    // Resuming: only what came after.
    let later = f
        .member
        .get(&format!("/lists/{}/changes?since=2", f.list_id))
        .await
        .expect(200);
    assert_eq!(later["events"].as_array().unwrap().len(), 1);
    assert_eq!(later["events"][0]["seq"], 3);
    let none = f
        .member
        .get(&format!("/lists/{}/changes?since=3", f.list_id))
        .await
        .expect(200);
    assert_eq!(none, json!({ "events": [], "seq": 3 }));
    // Ahead of the stream: reload.
    let ahead = f
        .member
        .get(&format!("/lists/{}/changes?since=99", f.list_id))
        .await
        .expect(200);
    assert_eq!(ahead, json!({ "resync": true, "seq": 3 }));

    // GET list reports the caller's own stream position.
    assert_eq!(
        f.member
            .get(&format!("/lists/{}", f.list_id))
            .await
            .expect(200)["seq"],
        3
    );
    assert_eq!(
        f.recipient
            .get(&format!("/lists/{}", f.list_id))
            .await
            .expect(200)["seq"],
        2
    );
    f.server.stop().await;
}

/// Events that only the live channel delivers (issue: live channel) are
/// already recorded: the family's topic and the claimer's notices.
async fn family_and_claimer_topics_are_recorded(db: Db) {
    let f = family(db).await;
    let store = f.server.state.store.clone();
    let read = |topic: String| {
        let store = store.clone();
        async move {
            outbox::since(store.pool(), &topic, Audience::All, 0, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.seq, e.event, e.entity_id, e.user_id.unwrap_or_default()))
                .collect::<Vec<_>>()
        }
    };
    let family_topic = format!("family:{}", f.family_id);
    let family_events = read(family_topic.clone()).await;
    assert_eq!(
        family_events,
        [
            (
                1,
                "MEMBER_JOINED".to_string(),
                f.member_id.clone(),
                f.member_id.clone()
            ),
            (
                2,
                "MEMBER_JOINED".to_string(),
                f.recipient_id.clone(),
                f.recipient_id.clone()
            ),
            (
                3,
                "ADDED".to_string(),
                f.list_id.clone(),
                family_events[2].3.clone()
            ),
        ],
        "the founder's joining is no event; the list's creation is"
    );

    let kept = f.add_item(&f.member, "Drum").await;
    let gone = f.add_item(&f.member, "Flute").await;
    for item in [&kept, &gone] {
        f.member
            .post(
                &format!("/items/{}/claim", item["id"].as_str().unwrap()),
                json!({ "status": "reserved" }),
            )
            .await
            .expect(200);
    }
    // The holder's own edit tells them nothing; others' edits and removals do.
    f.member
        .patch(
            &format!("/items/{}", kept["id"].as_str().unwrap()),
            json!({ "version": 1, "notes": "mine" }),
        )
        .await
        .expect(200);
    f.admin
        .patch(
            &format!("/items/{}", kept["id"].as_str().unwrap()),
            json!({ "version": 2, "notes": "theirs" }),
        )
        .await
        .expect(200);
    assert_eq!(
        f.admin
            .delete(&format!("/items/{}", gone["id"].as_str().unwrap()))
            .await
            .status,
        204
    );
    f.admin
        .patch(
            &format!("/lists/{}", f.list_id),
            json!({ "title": "Renamed" }),
        )
        .await
        .expect(200);
    assert_eq!(
        f.admin
            .delete(&format!("/lists/{}", f.list_id))
            .await
            .status,
        204
    );

    let notices: Vec<(i64, String, String)> = read(format!("user:{}", f.member_id))
        .await
        .into_iter()
        .map(|(seq, event, entity, _)| (seq, event, entity))
        .collect();
    let kept_id = kept["id"].as_str().unwrap().to_string();
    let gone_id = gone["id"].as_str().unwrap().to_string();
    assert_eq!(
        notices,
        [
            (1, "UPDATED".into(), kept_id.clone()),
            (2, "DELETED".into(), gone_id),
            (3, "DELETED".into(), kept_id),
        ],
        "edit by another, removal, and removal with the whole list"
    );
    let names: Vec<String> = read(family_topic).await.into_iter().map(|e| e.1).collect();
    assert_eq!(names[3..], ["UPDATED".to_string(), "DELETED".to_string()]);
    f.server.stop().await;
}
