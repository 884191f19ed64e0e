//! Several instances on one PostgreSQL database share events and logouts.

use serde_json::json;

use crate::common::ws::{open, seq, Open, Received};
use crate::common::{family_on_two_instances, list_topic, ws};
use crate::subscribed;

/// Two instances on one PostgreSQL database: a change made through one
/// reaches sockets on the other, and so does a logout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_instances_share_events_and_logouts() {
    let (f, other) = family_on_two_instances().await;

    let topic = list_topic(&f);
    let mut on_other = subscribed(&other, &f.member_id, &[&topic], json!({})).await;
    let mut on_first = subscribed(&f.server, &f.member_id, &[&topic], json!({})).await;
    for n in 0..5 {
        f.add_item(&f.admin, &format!("item {n}")).await;
    }
    for ws in [&mut on_other, &mut on_first] {
        assert_eq!(
            ws.events(5).await.iter().map(seq).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
    }
    // The member's browser session, used on the other instance's socket.
    let mut cookie_socket = open(
        &other,
        Open {
            cookie: f.member.cookie_header(),
            origin: Some(other.origin()),
            token: None,
            ..Open::default()
        },
    )
    .await
    .unwrap();
    // The other instance's origin differs; allow it there.
    match cookie_socket.next_within(ws::WAIT).await {
        Some(Received::Frame(frame)) => assert_eq!(frame["type"], "welcome"),
        other => panic!("expected welcome, got {other:?}"),
    }
    f.member.post("/auth/logout", json!(null)).await.expect(204);
    cookie_socket.expect_close(1008, false).await;
    other.stop().await;
    f.server.stop().await;
}
