//! The HTTP edge: documented errors for bad input, cross-site writes
//! refused, trace ids adopted.

use reqwest::Method;
use serde_json::json;

use crate::common::{answer, call, family, Db};
use crate::on_both_backends;

on_both_backends!(
    bad_input_gets_the_documented_error,
    cross_site_writes_are_refused,
    trace_ids_are_adopted_and_stored,
);

async fn bad_input_gets_the_documented_error(db: Db) {
    let f = family(db).await;
    let items = format!("/lists/{}/items", f.list_id);
    let raw = |body: &'static str| {
        f.member
            .request(Method::POST, &items)
            .header("content-type", "application/json")
            .body(body)
    };
    for body in [
        "{",
        "[1,2",
        "null",
        "\"title\"",
        "{\"title\": 5}",
        "{}",
        "{\"title\":\"x\",\"colour\":\"red\"}",
    ] {
        answer(raw(body).send().await.unwrap())
            .await
            .expect_error(400, "bad_request");
    }
    // Not JSON at all.
    call(f.member.request(Method::POST, &items).body("title=x"))
        .await
        .expect_error(400, "bad_request");

    let too_long = [
        json!({ "title": "t".repeat(201) }),
        json!({ "title": "ok", "notes": "n".repeat(2001) }),
        json!({ "title": "ok", "url": format!("https://example.org/{}", "u".repeat(2000)) }),
        json!({ "title": "nul\u{0}here" }),
        json!({ "title": "ok", "notes": "nul\u{0}" }),
        json!({ "title": "ok", "price_cents": -1 }),
        json!({ "title": "ok", "price_cents": 1_000_000_000_001_i64 }),
        json!({ "title": "ok", "price_cents": 1.5 }),
        json!({ "title": "ok", "currency": "euro" }),
        json!({ "title": "ok", "priority": 0 }),
        json!({ "title": "ok", "priority": 6 }),
        json!({ "title": "ok", "url": "javascript:alert(1)" }),
        json!({ "title": "   " }),
    ];
    for body in too_long {
        f.member
            .post(&items, body.clone())
            .await
            .expect_error(400, "bad_request");
    }
    // Exactly at the limits is fine.
    f.member
        .post(&items, json!({ "title": "t".repeat(200), "notes": "n".repeat(2000), "price_cents": 1_000_000_000_000_i64 }))
        .await
        .expect(201);

    // Over 64 KiB: 413 in the envelope.
    let big = json!({ "title": "big", "notes": "n".repeat(70 * 1024) });
    f.member
        .post(&items, big)
        .await
        .expect_error(413, "too_large");

    // Nothing of the refused requests was written.
    let list = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["seq"], 1);

    // Patch: version required, title not nullable.
    let id = list["items"][0]["id"].as_str().unwrap();
    f.member
        .patch(&format!("/items/{id}"), json!({ "title": "x" }))
        .await
        .expect_error(400, "bad_request");
    f.member
        .patch(
            &format!("/items/{id}"),
            json!({ "version": 1, "title": null }),
        )
        .await
        .expect_error(400, "bad_request");
    f.member
        .patch(&format!("/items/{id}"), json!({ "version": "1" }))
        .await
        .expect_error(400, "bad_request");

    // Query parameters.
    for query in ["", "?since=-1", "?since=abc", "?since=1&extra=2"] {
        f.member
            .get(&format!("/lists/{}/changes{query}", f.list_id))
            .await
            .expect_error(400, "bad_request");
    }
    // Unknown API routes answer in the envelope too.
    f.member
        .get("/no-such-thing")
        .await
        .expect_error(404, "not_found");
    f.server.stop().await;
}

async fn cross_site_writes_are_refused(db: Db) {
    let f = family(db).await;
    let jar_client = &f.member.http; // holds Bob's session cookie
    let url = f.server.url(&format!("/api/v1/lists/{}/items", f.list_id));
    let body = json!({ "title": "Planted" });

    // Cookie with no Origin, and cookie with a foreign Origin: 403.
    answer(jar_client.post(&url).json(&body).send().await.unwrap())
        .await
        .expect_error(403, "forbidden");
    for origin in ["https://evil.example", "http://127.0.0.1:1", "null"] {
        call(jar_client.post(&url).header("origin", origin).json(&body))
            .await
            .expect_error(403, "forbidden");
    }
    // Same for PATCH and DELETE, and for logging in from another site.
    call(jar_client.delete(f.server.url(&format!("/api/v1/lists/{}", f.list_id))))
        .await
        .expect_error(403, "forbidden");
    call(
        reqwest::Client::new()
            .post(f.server.url("/api/v1/auth/login"))
            .header("origin", "https://evil.example")
            .json(&json!({ "email": "x@example.org", "password": "whatever1" })),
    )
    .await
    .expect_error(403, "forbidden");
    // Reads are not writes.
    call(jar_client.get(f.server.url("/api/v1/me")))
        .await
        .expect(200);

    // Allowed: the exact origin, or the browser's own word.
    call(
        jar_client
            .post(&url)
            .header("origin", f.server.origin())
            .json(&body),
    )
    .await
    .expect(201);
    call(
        jar_client
            .post(&url)
            .header("sec-fetch-site", "same-origin")
            .json(&body),
    )
    .await
    .expect(201);
    let list = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        2,
        "only the allowed writes happened"
    );
    f.server.stop().await;
}

async fn trace_ids_are_adopted_and_stored(db: Db) {
    let f = family(db).await;
    let trace = "0af7651916cd43dd8448eb211c80319c";
    f.member
        .request(Method::POST, &format!("/lists/{}/items", f.list_id))
        .header("traceparent", format!("00-{trace}-b7ad6b7169203331-01"))
        .json(&json!({ "title": "Traced" }))
        .send()
        .await
        .unwrap();
    f.member
        .request(Method::POST, &format!("/lists/{}/items", f.list_id))
        .header("traceparent", "00-not-a-trace-01")
        .json(&json!({ "title": "Untraced" }))
        .send()
        .await
        .unwrap();
    let changes = f
        .member
        .get(&format!("/lists/{}/changes?since=0", f.list_id))
        .await
        .expect(200);
    assert_eq!(changes["events"][0]["trace_id"], trace);
    let fresh = changes["events"][1]["trace_id"].as_str().unwrap();
    assert!(fresh.len() == 32 && fresh != trace && fresh.bytes().all(|b| b.is_ascii_hexdigit()));
    f.server.stop().await;
}
