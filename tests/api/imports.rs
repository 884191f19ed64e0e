//! Link import against pages the test serves itself: every way a shop
//! writes its metadata, and every way a page can be hostile (a captcha, a
//! redirect chain, an endless body, a slow body, not a page at all), with
//! private addresses allowed; with them refused (the default), the same
//! local pages are refused, by address and by a name that resolves to
//! loopback.

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use axum::{
    body::Body,
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use serde_json::{json, Value};

use crate::common::{family_on, server_with, Db, Family};
use crate::on_both_backends;

on_both_backends!(shop_pages_are_read_and_hostile_ones_survived);

/// A shop: the pages the tests read.
async fn shop() -> SocketAddr {
    let html = |body: &'static str| {
        move || async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body) }
    };
    let app = Router::new()
        .route(
            "/graph",
            get(html(
                r#"<html><head><title>Kite - Shop</title>
                <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
                  {"@type":"BreadcrumbList"},
                  {"@type":"Product","name":"Stunt kite","image":["/img/kite.jpg"],
                   "offers":{"@type":"Offer","price":"49.90","priceCurrency":"EUR"}}]}</script>
                </head><body>Kite</body></html>"#,
            )),
        )
        .route(
            "/og",
            get(html(
                r#"<head><meta property="og:title" content="Red scarf">
                <meta property="og:image" content="https://cdn.shop.example/scarf.png">
                <meta property="og:site_name" content="Scarves">
                <meta property="product:price:amount" content="1234.5">
                <meta property="product:price:currency" content="USD"></head>"#,
            )),
        )
        .route(
            "/micro",
            get(html(
                r#"<div itemscope itemtype="http://schema.org/Product"><h1 itemprop="name">Teekanne</h1>
                <span itemprop="price">1.234,56</span><meta itemprop="priceCurrency" content="EUR"></div>"#,
            )),
        )
        .route(
            "/broken",
            get(html(
                r#"<title>Just a mug</title><script type="application/ld+json">{"@type":"Product",</script>"#,
            )),
        )
        .route(
            "/captcha",
            get(html(
                r#"<title>Robot Check</title><form action="/errors/validateCaptcha"></form>"#,
            )),
        )
        .route(
            "/forbidden",
            get(|| async { (StatusCode::FORBIDDEN, "no robots") }),
        )
        .route("/latin1", get(|| async {
            ([(header::CONTENT_TYPE, "text/html; charset=iso-8859-1")], b"<title>K\xfcchenwaage</title>".to_vec())
        }))
        .route("/picture.png", get(|| async {
            ([(header::CONTENT_TYPE, "image/png")], vec![0x89, b'P', b'N', b'G'])
        }))
        .route("/r0", get(|| async { Redirect::temporary("/r1") }))
        .route("/r1", get(|| async { Redirect::temporary("/r2") }))
        .route("/r2", get(|| async { Redirect::temporary("/r3") }))
        .route("/r3", get(|| async { Redirect::temporary("/graph") }))
        .route("/huge", get(huge))
        .route("/slow", get(slow));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A page that never ends (10 GB if anyone read it all): its title first.
async fn huge() -> Response {
    let start = futures::stream::once(async {
        Ok::<_, Infallible>(bytes::Bytes::from_static(
            b"<html><head><title>Huge</title></head><body>",
        ))
    });
    let filler = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
    let rest = futures::stream::repeat_with(move || Ok(filler.clone())).take(160_000);
    use futures::StreamExt;
    (
        [(header::CONTENT_TYPE, "text/html")],
        Body::from_stream(start.chain(rest)),
    )
        .into_response()
}

/// A page that sends its headers and then a byte a second, for ever.
async fn slow() -> Response {
    use futures::StreamExt;
    let drip = futures::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        Some((Ok::<_, Infallible>(bytes::Bytes::from_static(b" ")), ()))
    });
    let start = futures::stream::once(async {
        Ok::<_, Infallible>(bytes::Bytes::from_static(b"<title>Slow</title>"))
    });
    (
        [(header::CONTENT_TYPE, "text/html")],
        Body::from_stream(start.chain(drip)),
    )
        .into_response()
}

async fn read(f: &Family, url: &str) -> Value {
    f.member
        .post("/link-preview", json!({ "url": url }))
        .await
        .expect(200)["preview"]
        .clone()
}

async fn shop_pages_are_read_and_hostile_ones_survived(db: Db) {
    let shop = shop().await;
    let at = |path: &str| format!("http://{shop}{path}");
    let server = server_with(db, |s| s.fetch_allow_private = true).await;
    let f = family_on(server).await;

    let graph = read(&f, &at("/graph")).await;
    assert_eq!(graph["title"], "Stunt kite");
    assert_eq!(graph["price_cents"], 4990);
    assert_eq!(graph["currency"], "EUR");
    assert_eq!(graph["image_url"], at("/img/kite.jpg"));
    assert_eq!(graph["problem"], Value::Null);

    let og = read(&f, &at("/og")).await;
    assert_eq!(
        (
            &og["title"],
            &og["price_cents"],
            &og["currency"],
            &og["site_name"]
        ),
        (
            &json!("Red scarf"),
            &json!(123450),
            &json!("USD"),
            &json!("Scarves")
        )
    );
    assert_eq!(og["image_url"], "https://cdn.shop.example/scarf.png");

    let micro = read(&f, &at("/micro")).await;
    assert_eq!(
        (&micro["title"], &micro["price_cents"], &micro["currency"]),
        (&json!("Teekanne"), &json!(123456), &json!("EUR"))
    );

    let broken = read(&f, &at("/broken")).await;
    assert_eq!(broken["title"], "Just a mug");
    assert_eq!(broken["price_cents"], Value::Null);

    let latin1 = read(&f, &at("/latin1")).await;
    assert_eq!(latin1["title"], "Küchenwaage");

    // Three redirects are followed; a fourth is not.
    assert_eq!(read(&f, &at("/r1")).await["title"], "Stunt kite");
    assert_eq!(read(&f, &at("/r0")).await["problem"], "unreachable");

    for (path, problem) in [
        ("/captcha", "blocked"),
        ("/forbidden", "blocked"),
        ("/picture.png", "not_a_page"),
        ("/nowhere", "unreachable"),
    ] {
        let answer = read(&f, &at(path)).await;
        assert_eq!(answer["problem"], problem, "{path}: {answer}");
        assert_eq!(answer["title"], Value::Null);
    }
    assert_eq!(
        read(&f, &at("/captcha")).await["message"],
        "this shop does not let us read its page; fill it in by hand"
    );

    // An endless body is cut at 2 MB and read; a slow one is given up on
    // after 5 s. The server answers others meanwhile.
    let started = std::time::Instant::now();
    let huge = read(&f, &at("/huge")).await;
    assert_eq!(huge["title"], "Huge");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let slow = tokio::spawn({
        let member = f.member.http.clone();
        let url = f.server.url("/api/v1/link-preview");
        let origin = f.server.origin();
        let target = at("/slow");
        async move {
            let started = std::time::Instant::now();
            let answer: Value = member
                .post(url)
                .header("origin", origin)
                .json(&json!({ "url": target }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (answer, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    f.admin.get("/me").await.expect(200);
    let (answer, took) = slow.await.unwrap();
    assert_eq!(answer["preview"]["problem"], "too_slow", "{answer}");
    assert!(took < Duration::from_secs(7), "{took:?}");

    // Not web addresses at all.
    for bad in [
        "shop.example/kite",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://shop.example/kite",
    ] {
        f.member
            .post("/link-preview", json!({ "url": bad }))
            .await
            .expect_error(400, "bad_request");
    }
    f.member
        .post("/link-preview", json!({ "link": "https://shop.example/" }))
        .await
        .expect_error(400, "bad_request");
    f.server.stop().await;

    // The default: private addresses refused, by address and by name;
    // and a person's reads are limited (answers kept per URL are free).
    let server = server_with(db, |s| s.fetches_per_minute = 3).await;
    let f = family_on(server).await;
    for link in [
        at("/graph"),
        format!("http://localhost:{}/graph", shop.port()),
        format!("http://[::ffff:127.0.0.1]:{}/graph", shop.port()),
    ] {
        let answer = read(&f, &link).await;
        assert_eq!(answer["problem"], "private", "{link}: {answer}");
        assert_eq!(answer["title"], Value::Null);
    }
    f.member
        .post("/link-preview", json!({ "url": at("/og") }))
        .await
        .expect_error(429, "rate_limited");
    f.admin
        .post("/link-preview", json!({ "url": at("/og") }))
        .await
        .expect(200);
    f.server.stop().await;
}
