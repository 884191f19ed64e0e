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

/// The language a page is rendered in: the browser's, or the one picked
/// through `/lang/{code}` (a cookie), written into `<html lang>`.
/// (Multi-threaded: a page render needs the runtime's other worker.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_rendered_in_the_chosen_language() {
    let server = TestServer::start(Db::Sqlite).await;
    let page = |accept: &'static str, cookie: Option<&'static str>| {
        let mut request = reqwest::Client::new()
            .get(server.url("/"))
            .header("accept-language", accept);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let html = page("en-US,en;q=0.9", None).await;
    assert!(html.contains(r#"<html lang="en""#), "{html}");
    assert!(html.contains("Gift lists for the whole family"));
    let html = page("fr-CH, fr;q=0.9, en;q=0.8", None).await;
    assert!(html.contains(r#"<html lang="fr""#), "{html}");
    assert!(html.contains("Des listes de cadeaux pour toute la famille"));
    let html = page("fr-FR", Some("i18n_pref_locale=de")).await;
    assert!(html.contains(r#"<html lang="de""#), "{html}");
    assert!(html.contains("Wunschlisten für die ganze Familie"));
    let html = page("ja", None).await;
    assert!(
        html.contains(r#"<html lang="en""#),
        "unknown languages fall back"
    );

    // Picking a language: the cookie, and back to the page it came from.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pick = |path: &str| client.get(server.url(path)).send();
    let response = pick("/lang/es?back=%2Flists%2Fl_1%3Fsort%3Dprice")
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/lists/l_1?sort=price");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("i18n_pref_locale=es;"), "{cookie}");
    assert!(
        cookie.contains("Path=/") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    // Never back to another site.
    for back in [
        "%2F%2Fevil.example%2F",
        "https%3A%2F%2Fevil.example%2F",
        "%2F%5Cevil.example",
    ] {
        let response = pick(&format!("/lang/de?back={back}")).await.unwrap();
        assert_eq!(response.headers()["location"], "/", "{back}");
    }
    assert_eq!(pick("/lang/xx").await.unwrap().status(), 404);
    drop(client);
    server.stop().await;
}

async fn health_answers_ok_while_the_database_answers(db: Db) {
    let server = TestServer::start(db).await;
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "status": "ok" }));

    // With the database gone, the same route says so.
    server.state.store.close().await;
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
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
