//! The server's HTTP basics on both backends: health, the server-rendered
//! shell, 404s, graceful stop with requests in flight.
#![cfg(feature = "ssr")]

mod common;

use std::time::{Duration, Instant};

use common::{Db, FreshDb, TestServer};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

on_both_backends!(
    health_answers_ok_while_the_database_answers,
    home_page_is_rendered_on_the_server
);

/// `/healthz` is liveness (the process serves), `/readyz` readiness (the
/// database answers, the change listener listens); a named instance says
/// its name on every answer.
async fn health_answers_ok_while_the_database_answers(db: Db) {
    let server = common::server_with(db, |s| s.instance_name = Some("b-2".into())).await;
    let get = |path: &'static str| {
        let url = server.url(path);
        async move {
            let response = reqwest::get(url).await.unwrap();
            let status = response.status().as_u16();
            let instance = response.headers().get("x-giftlist-instance").cloned();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body, instance)
        }
    };
    let (status, body, instance) = get("/healthz").await;
    assert_eq!((status, body), (200, serde_json::json!({ "status": "ok" })));
    assert_eq!(instance.unwrap(), "b-2");
    let (status, body, _) = get("/readyz").await;
    assert_eq!(
        (status, body),
        (
            200,
            serde_json::json!({ "status": "ready", "database": true, "listener": true })
        )
    );

    // With the database gone, readiness says so; liveness does not.
    server.state.store.close().await;
    let (status, body, _) = get("/readyz").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], false);
    assert_eq!(get("/healthz").await.0, 200);
    let (_, _, instance) = get("/api/v1/nowhere").await;
    assert_eq!(instance.unwrap(), "b-2");
    server.stop().await;
}

async fn home_page_is_rendered_on_the_server(db: Db) {
    let server = TestServer::start(db).await;
    let response = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>Giftlist</title>"), "{html}");
    assert!(html.contains("Gift lists for the whole family"));
    // The shell links the bundle that hydrates it, and the stylesheet.
    assert!(html.contains("/pkg/giftlist.js"), "{html}");
    assert!(html.contains("/pkg/giftlist.css"), "{html}");
    assert!(html.contains(r#"data-hydrated="false""#));
    assert!(html.contains(r#"aria-live="polite""#));

    let response = reqwest::get(server.url("/no/such/page")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
    server.stop().await;
}

/// A request that is in flight when the stop signal comes is still
/// answered; the server then stops without waiting for the grace period.
#[tokio::test]
async fn stop_lets_requests_in_flight_finish() {
    let db = FreshDb::new(Db::Sqlite).await;
    let mut settings = db.settings();
    settings.shutdown_timeout_secs = 30;
    let server = TestServer::start_with(db, settings).await;

    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    // Let the server start reading the request before the stop signal.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !stopping.is_finished(),
        "server stopped with a request in flight"
    );

    stream
        .write_all(b"Connection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    stopping.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A request that never completes cannot hold the server past the grace period.
#[tokio::test]
async fn stop_is_bounded_by_the_grace_period() {
    let db = FreshDb::new(Db::Sqlite).await;
    let mut settings = db.settings();
    settings.shutdown_timeout_secs = 1;
    let server = TestServer::start_with(db, settings).await;

    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    server.stop().await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "stop took {took:?}"
    );
}
