//! The server's HTTP basics on both backends: health, the server-rendered
//! shell, 404s, graceful stop with requests in flight; and on SQLite, the
//! site's files (hashed names, caching, pre-compressed copies, ranges) and
//! compression.
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
    // The shell links the bundle that hydrates it, and the stylesheet (by
    // their plain names: this site folder has no hash file).
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

/// A site folder as `cargo leptos build --release --precompress --split` leaves it:
/// hashed names, `hash.txt`, `.br` and `.gz` copies, the service worker.
fn built_site(root: &std::path::Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        root.join("hash.txt"),
        "js: Js1\nwasm: Wasm1\ncss: Css1\nmanifest: Man1\nsplit: Split1\n",
    )
    .unwrap();
    std::fs::write(pkg.join("__wasm_split_manifest.Man1.json"), "{}").unwrap();
    std::fs::write(pkg.join("__wasm_split.Split1.js"), "export {};\n").unwrap();
    let script = "export function hydrate() {}\n".repeat(200);
    std::fs::write(pkg.join("giftlist.Js1.js"), &script).unwrap();
    std::fs::write(
        pkg.join("giftlist.Js1.js.br"),
        b"brotli bytes as the build made them",
    )
    .unwrap();
    std::fs::write(
        pkg.join("giftlist.Js1.js.gz"),
        b"gzip bytes as the build made them",
    )
    .unwrap();
    std::fs::write(
        pkg.join("giftlist.Wasm1.wasm"),
        (0..=255u8).cycle().take(4096).collect::<Vec<u8>>(),
    )
    .unwrap();
    std::fs::write(
        pkg.join("giftlist.Css1.css"),
        "body { margin: 0 }\n".repeat(100),
    )
    .unwrap();
    std::fs::write(
        root.join("sw.js"),
        "const RELEASE = \"\";\nconst SHELL = [\"/pkg/giftlist.js\", \"/pkg/giftlist.wasm\", \"/pkg/giftlist.css\"];\n",
    )
    .unwrap();
}

/// A page with its per-request nonces blanked out (two renderings of one
/// page differ only there).
fn without_nonces(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = ["nonce=\"", "crossorigin=\""]
        .iter()
        .filter_map(|attribute| rest.find(attribute))
        .min()
    {
        let open = at + rest[at..].find('"').unwrap() + 1;
        let close = open + rest[open..].find('"').unwrap();
        out.push_str(&rest[..open]);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes), &mut text).unwrap();
    text
}

fn unbrotli(bytes: &[u8]) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut brotli::Decompressor::new(bytes, 4096), &mut text).unwrap();
    text
}

/// Hashed files are kept for a year, pages and other files revalidated;
/// a stale name is a 404 nobody keeps; the build's `.br`/`.gz` copies go
/// out as they are; pages, JSON and styles are compressed as asked, and
/// sent plain to a client that asks for nothing the server offers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_files_are_hashed_cached_and_compressed() {
    let db = FreshDb::new(Db::Sqlite).await;
    let settings = db.settings();
    built_site(&settings.site_root);
    let server = TestServer::start_with(db, settings).await;
    // No automatic decompression: the test reads what was sent.
    let http = reqwest::Client::new();
    let get = |path: &str, encoding: &str| {
        let mut request = http.get(server.url(path));
        if !encoding.is_empty() {
            request = request.header("accept-encoding", encoding);
        }
        request.send()
    };
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };

    // The page names the hashed files.
    let page = get("/login", "").await.unwrap();
    assert_eq!(header(&page, "cache-control").as_deref(), Some("no-cache"));
    assert_eq!(header(&page, "content-encoding"), None);
    let html = page.text().await.unwrap();
    for name in [
        "/pkg/giftlist.Js1.js",
        "/pkg/giftlist.Wasm1.wasm",
        "/pkg/giftlist.Css1.css",
    ] {
        assert!(html.contains(name), "{name} in {html}");
    }
    assert!(!html.contains("/pkg/giftlist.js"), "{html}");

    // Pages compressed by what the browser takes.
    let page = get("/login", "gzip").await.unwrap();
    assert_eq!(header(&page, "content-encoding").as_deref(), Some("gzip"));
    assert_eq!(header(&page, "vary").as_deref(), Some("accept-encoding"));
    assert_eq!(
        without_nonces(&gunzip(&page.bytes().await.unwrap())),
        without_nonces(&html)
    );
    let page = get("/login", "gzip;q=0.5, br").await.unwrap();
    assert_eq!(header(&page, "content-encoding").as_deref(), Some("br"));
    assert_eq!(
        without_nonces(&unbrotli(&page.bytes().await.unwrap())),
        without_nonces(&html)
    );
    // An encoding the server does not offer: identity.
    let page = get("/login", "zstd, compress").await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-encoding"), None);
    assert_eq!(
        without_nonces(&page.text().await.unwrap()),
        without_nonces(&html)
    );
    // JSON too (this one is an error, still JSON and still compressed).
    let json = get("/api/v1/me", "br").await.unwrap();
    assert_eq!(json.status(), 401);
    assert_eq!(header(&json, "content-encoding").as_deref(), Some("br"));
    let body: serde_json::Value =
        serde_json::from_str(&unbrotli(&json.bytes().await.unwrap())).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    // The bundle: a year, immutable; the build's own compressed copies.
    let script = get("/pkg/giftlist.Js1.js", "gzip, br").await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        header(&script, "cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(header(&script, "content-encoding").as_deref(), Some("br"));
    assert_eq!(
        &script.bytes().await.unwrap()[..],
        b"brotli bytes as the build made them"
    );
    let script = get("/pkg/giftlist.Js1.js", "gzip").await.unwrap();
    assert_eq!(
        &script.bytes().await.unwrap()[..],
        b"gzip bytes as the build made them"
    );
    let script = get("/pkg/giftlist.Js1.js", "").await.unwrap();
    assert!(script
        .text()
        .await
        .unwrap()
        .starts_with("export function hydrate"));
    // No pre-compressed copy: compressed on the way out.
    let css = get("/pkg/giftlist.Css1.css", "gzip").await.unwrap();
    assert_eq!(header(&css, "content-encoding").as_deref(), Some("gzip"));
    assert_eq!(
        gunzip(&css.bytes().await.unwrap()),
        "body { margin: 0 }\n".repeat(100)
    );
    // A range of an asset is that range, uncompressed.
    let part = http
        .get(server.url("/pkg/giftlist.Wasm1.wasm"))
        .header("range", "bytes=256-259")
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        header(&part, "content-range").as_deref(),
        Some("bytes 256-259/4096")
    );
    assert_eq!(header(&part, "content-encoding"), None);
    assert_eq!(&part.bytes().await.unwrap()[..], &[0u8, 1, 2, 3]);
    // A name from another release: 404, and not to be kept.
    for stale in ["/pkg/giftlist.js", "/pkg/giftlist.Old0.wasm"] {
        let gone = get(stale, "").await.unwrap();
        assert_eq!(gone.status(), 404, "{stale}");
        assert_eq!(header(&gone, "cache-control").as_deref(), Some("no-store"));
    }

    // The service worker knows the release and its files.
    let worker = get("/sw.js", "").await.unwrap();
    assert_eq!(
        header(&worker, "cache-control").as_deref(),
        Some("no-cache")
    );
    assert_eq!(
        worker.text().await.unwrap(),
        "const RELEASE = \"Js1\";\nconst SHELL = [\"/pkg/giftlist.Js1.js\", \"/pkg/giftlist.Wasm1.wasm\", \"/pkg/giftlist.Css1.css\"];\n"
    );
    server.stop().await;
}
