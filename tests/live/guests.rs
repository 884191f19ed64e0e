//! A guest's socket (`/ws?share=`): welcomed without an account, it may
//! follow its list's guest stream and nothing else; the frames name nobody;
//! revoking the link closes it with 4401, on every instance.

use serde_json::{json, Value};

use crate::common::{
    family, family_on_two_instances, list_topic, ws, Browser, Db, Family, TestServer,
};
use crate::on_both_backends;

on_both_backends!(a_guest_socket_follows_its_list_and_nothing_else);

/// A givers' (or view) link made by the family's second member: its token.
async fn share_token(f: &Family, by: &Browser, kind: &str) -> String {
    let link = by
        .post(
            &format!("/lists/{}/shares", f.list_id),
            json!({ "kind": kind }),
        )
        .await
        .expect(201);
    link["share"]["path"]
        .as_str()
        .unwrap()
        .trim_start_matches("/s/")
        .to_owned()
}

/// `/ws?share=`, after `welcome`.
async fn open_guest(server: &TestServer, token: &str) -> ws::Ws {
    let mut socket = ws::open(
        server,
        ws::Open {
            share: Some(token.to_owned()),
            ..ws::Open::default()
        },
    )
    .await
    .expect("upgrade");
    let welcome = socket.expect("welcome").await;
    assert_eq!(welcome["user_id"], "guest");
    socket
}

async fn a_guest_socket_follows_its_list_and_nothing_else(db: Db) {
    let f = family(db).await;
    let token = share_token(&f, &f.member, "givers").await;
    let view = share_token(&f, &f.member, "view").await;
    let topic = list_topic(&f);
    let mut guest = open_guest(&f.server, &token).await;
    guest.subscribe(&[&topic], json!({}), "g1").await;
    let mut viewer = open_guest(&f.server, &view).await;
    viewer.subscribe(&[&topic], json!({}), "v1").await;
    // The recipient, logged in, opening the givers' link: the viewers' view.
    let mut recipient = ws::open(
        &f.server,
        ws::Open {
            cookie: f.recipient.cookie_header(),
            origin: Some(f.server.origin()),
            share: Some(token.clone()),
            ..ws::Open::default()
        },
    )
    .await
    .expect("upgrade");
    recipient.expect("welcome").await;
    recipient.subscribe(&[&topic], json!({}), "r1").await;

    // Anything but its list is refused, as for a stranger.
    for other in [
        format!("family:{}", f.family_id),
        format!("user:{}", f.member_id),
        "gift-list:l_other".to_owned(),
    ] {
        guest
            .send(json!({ "type": "subscribe", "topics": [other], "id": "x" }))
            .await;
        let refused = guest.expect("error").await;
        assert_eq!(refused["code"], "forbidden", "{refused}");
        guest.expect("subscribed").await;
    }

    // A member adds and claims; a guest claims through the API: the guest
    // socket sees each change with what is taken, never who.
    let item = f.add_item(&f.member, "Scarf").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.claim(&f.admin, &item, "reserved").await;
    let added = guest.expect("event").await;
    assert_eq!(
        (
            added["event"].as_str(),
            added["data"]["payload"]["taken"].as_i64()
        ),
        (Some("ADDED"), Some(0))
    );
    let claimed = guest.expect("event").await;
    assert_eq!(claimed["event"], "STATUS_CHANGED");
    assert_eq!(claimed["data"]["payload"]["taken"], 1);
    for frame in [&added, &claimed] {
        assert!(frame["data"].get("user_id").is_none(), "{frame}");
        assert!(!frame.to_string().contains("Alice"), "{frame}");
    }
    // The viewer hears of the gift, never of the claim.
    let seen = viewer.expect("event").await;
    assert_eq!(seen["event"], "ADDED");
    assert!(seen["data"]["payload"]["taken"].is_null());
    viewer
        .expect_silence(std::time::Duration::from_millis(300))
        .await;
    let seen = recipient.expect("event").await;
    assert_eq!(seen["event"], "ADDED");
    assert!(seen["data"]["payload"]["taken"].is_null(), "{seen}");
    recipient
        .expect_silence(std::time::Duration::from_millis(300))
        .await;
    assert!(
        recipient
            .log
            .iter()
            .all(|frame| frame["event"] != "STATUS_CHANGED"),
        "{:?}",
        recipient.log
    );

    // A token that opens nothing is closed as unauthorized.
    let mut stranger = ws::open(
        &f.server,
        ws::Open {
            share: Some("0".repeat(40)),
            ..ws::Open::default()
        },
    )
    .await
    .expect("the upgrade itself succeeds");
    stranger.expect_close(4401, false).await;

    // Revoking the link closes its sockets at once, and only them.
    let links = f
        .member
        .get(&format!("/lists/{}/shares", f.list_id))
        .await
        .expect(200);
    let givers_id = links["shares"]
        .as_array()
        .unwrap()
        .iter()
        .find(|link| link["kind"] == "givers")
        .map(|link| link["id"].as_str().unwrap().to_owned())
        .unwrap();
    f.member
        .delete(&format!("/lists/{}/shares/{givers_id}", f.list_id))
        .await
        .expect(204);
    guest.expect_close(4401, true).await;
    viewer.send(json!({ "type": "ping", "id": "p" })).await;
    assert_eq!(viewer.expect("pong").await["id"], "p");
    // And it cannot come back.
    let mut again = ws::open(
        &f.server,
        ws::Open {
            share: Some(token),
            ..ws::Open::default()
        },
    )
    .await
    .expect("upgrade");
    again.expect_close(4401, false).await;
    f.server.stop().await;
}

/// Revoking on one instance closes the guest's socket held by another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_closes_guest_sockets_on_every_instance() {
    let (f, other) = family_on_two_instances().await;
    let token = share_token(&f, &f.member, "givers").await;
    let mut guest = open_guest(&other, &token).await;
    guest.subscribe(&[&list_topic(&f)], json!({}), "g").await;
    let links: Value = f
        .member
        .get(&format!("/lists/{}/shares", f.list_id))
        .await
        .expect(200);
    let id = links["shares"][0]["id"].as_str().unwrap().to_owned();
    f.member
        .delete(&format!("/lists/{}/shares/{id}", f.list_id))
        .await
        .expect(204);
    guest.expect_close(4401, true).await;
    other.stop().await;
    f.server.stop().await;
}
