//! `/metrics` counts connections and events.

use std::time::Duration;

use serde_json::json;

use crate::common::{family_on, list_topic, server_with, Db};
use crate::on_both_backends;
use crate::subscribed;

on_both_backends!(metrics_count_connections_and_events,);

async fn metrics_count_connections_and_events(db: Db) {
    let f =
        family_on(server_with(db, |s| s.metrics_token = Some("metrics-secret".into())).await).await;
    let get_metrics = |token: Option<&'static str>| {
        let mut request = reqwest::Client::new().get(f.server.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    // Private: without the token, or with a wrong one, nothing is read.
    assert_eq!(get_metrics(None).await.unwrap().status(), 401);
    assert_eq!(get_metrics(Some("guess")).await.unwrap().status(), 401);
    // Made-up methods share one label instead of adding a series each.
    for method in ["R4ND0M_a", "R4ND0M_b"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        reqwest::Client::new()
            .request(method, f.server.url("/me"))
            .send()
            .await
            .unwrap();
    }
    let metrics = || async {
        let response = get_metrics(Some("metrics-secret")).await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        response.text().await.unwrap()
    };
    let value = |text: &str, name: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from\n{text}"))
            .parse()
            .unwrap()
    };
    let before = metrics().await;
    assert_eq!(value(&before, "giftlist_ws_connections"), 0.0);
    let mut ws = subscribed(&f.server, &f.member_id, &[&list_topic(&f)], json!({})).await;
    f.add_item(&f.admin, "Counted").await;
    ws.expect("event").await;
    let during = metrics().await;
    assert_eq!(value(&during, "giftlist_ws_connections"), 1.0);
    assert_eq!(value(&during, "giftlist_subscriptions"), 1.0);
    assert!(
        value(&during, "giftlist_events_recorded_total")
            >= value(&before, "giftlist_events_recorded_total") + 2.0
    );
    assert_eq!(value(&during, "giftlist_events_delivered_total"), 1.0);
    assert!(value(&during, "giftlist_frames_sent_total") >= 3.0);
    assert!(during.contains("giftlist_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/lists/{id}/items\"} 1"), "{during}");
    assert!(!during.contains("R4ND0M"), "{during}");
    assert!(
        during.contains("method=\"OTHER\""),
        "unknown methods are counted as OTHER: {during}"
    );
    ws.send(json!({ "type": "unsubscribe", "topics": [list_topic(&f)] }))
        .await;
    ws.expect("unsubscribed").await;
    assert_eq!(value(&metrics().await, "giftlist_subscriptions"), 0.0);
    drop(ws);
    let mut closed = false;
    for _ in 0..40 {
        if value(&metrics().await, "giftlist_ws_connections") == 0.0 {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "a closed socket is no longer counted");
    f.server.stop().await;
}
