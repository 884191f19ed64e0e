//! Gifts' pictures: copied from a shop page the test serves, uploaded
//! (API and the pages' plain form), put on items and taken off, served
//! only to whoever may read the list (members, the recipient, a share
//! link's guests), live to the other members, and refused clearly when
//! they are not pictures or too large.

use std::net::SocketAddr;

use axum::{http::header, routing::get, Router};
use image::{ImageEncoder, ImageFormat};
use serde_json::{json, Value};

use crate::common::{call, family_on, list_topic, server_with, ws, Browser, Db, Family};
use crate::on_both_backends;

on_both_backends!(pictures_are_copied_served_and_kept_to_their_list);

/// A `width` x `height` PNG of one colour.
fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([30, 120, 200]));
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// A shop whose product page names a picture, and one whose "picture" is
/// a web page.
async fn shop() -> SocketAddr {
    let page = |image: &'static str| {
        move || async move {
            (
                [(header::CONTENT_TYPE, "text/html")],
                format!(
                    r#"<head><meta property="og:title" content="Blue kite">
                    <meta property="og:image" content="{image}"></head>"#
                ),
            )
        }
    };
    let app = Router::new()
        .route("/kite", get(page("/kite.png")))
        .route("/fake", get(page("/fake.png")))
        .route(
            "/kite.png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], png(1200, 600)) }),
        )
        .route(
            "/fake.png",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "image/png")],
                    "<html>not a picture</html>",
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// `GET path` (outside `/api/v1`) as `by`: status, headers and bytes.
async fn fetch(f: &Family, by: &Browser, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = by.http.get(f.server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn thumb(id: &Value) -> String {
    format!("/pictures/{}/thumb", id.as_str().expect("a picture id"))
}

/// The size of a JPEG.
fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory_with_format(bytes, ImageFormat::Jpeg).unwrap();
    (image.width(), image.height())
}

async fn put_picture(by: &Browser, item: &str, bytes: Vec<u8>) -> crate::common::Answer {
    call(
        by.request(reqwest::Method::PUT, &format!("/items/{item}/picture"))
            .header("content-type", "image/png")
            .body(bytes),
    )
    .await
}

/// The pages' upload form, as a browser posts it.
async fn post_form(f: &Family, by: &Browser, item: &str, file: &[u8]) -> reqwest::Response {
    let boundary = "giftlist-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"list_id\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"picture\"; filename=\"p.png\"\r\n\
         Content-Type: image/png\r\n\r\n",
        f.list_id
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    by.http
        .post(f.server.url(&format!("/items/{item}/picture")))
        .header("origin", by.origin())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn pictures_are_copied_served_and_kept_to_their_list(db: Db) {
    let shop = shop().await;
    let server = server_with(db, |s| s.fetch_allow_private = true).await;
    let f = family_on(server).await;
    let mut watching = ws::open_browser(&f.server, &f.member).await;
    watching
        .subscribe(&[&list_topic(&f)], json!({}), "s1")
        .await;

    // A shop's picture is copied on reading the link, in two sizes, and
    // only its reader sees it until it is on a gift.
    let preview = f
        .admin
        .post(
            "/link-preview",
            json!({ "url": format!("http://{shop}/kite") }),
        )
        .await
        .expect(200)["preview"]
        .clone();
    let copied = preview["picture"].clone();
    let (status, headers, bytes) = fetch(&f, &f.admin, &thumb(&copied)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(jpeg_size(&bytes), (128, 64));
    let medium = thumb(&copied).replace("/thumb", "/medium");
    assert_eq!(jpeg_size(&fetch(&f, &f.admin, &medium).await.2), (640, 320));
    let etag = headers["etag"].clone();
    let again = f
        .admin
        .http
        .get(f.server.url(&thumb(&copied)))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert_eq!(fetch(&f, &f.member, &thumb(&copied)).await.0, 404);
    let other_size = thumb(&copied).replace("/thumb", "/huge");
    assert_eq!(fetch(&f, &f.admin, &other_size).await.0, 404);

    // A page whose "picture" is a web page: no picture, the rest read.
    let fake = f
        .admin
        .post(
            "/link-preview",
            json!({ "url": format!("http://{shop}/fake") }),
        )
        .await
        .expect(200)["preview"]
        .clone();
    assert_eq!(fake["title"], "Blue kite");
    assert_eq!(fake["picture"], Value::Null);

    // On a gift, everyone who reads the list sees it, live; nobody else.
    let kite = f
        .admin
        .post(
            &format!("/lists/{}/items", f.list_id),
            json!({ "title": "Blue kite", "picture": copied }),
        )
        .await
        .expect(201)["item"]
        .clone();
    assert_eq!(kite["picture"], copied);
    let added = watching.events(1).await;
    assert_eq!(added[0]["data"]["payload"]["picture"], copied);
    for reader in [&f.member, &f.recipient] {
        assert_eq!(fetch(&f, reader, &thumb(&copied)).await.0, 200);
    }
    let outsider = f.server.browser();
    outsider.register("Mallory").await;
    assert_eq!(fetch(&f, &outsider, &thumb(&copied)).await.0, 404);
    let nobody = f.server.browser();
    assert_eq!(fetch(&f, &nobody, &thumb(&copied)).await.0, 401);
    let item = kite["id"].as_str().unwrap();
    let listed = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["picture"], copied);

    // A guest sees it through the share link, and nothing beyond it.
    let share = f
        .admin
        .post(
            &format!("/lists/{}/shares", f.list_id),
            json!({ "kind": "view" }),
        )
        .await
        .expect(201)["share"]
        .clone();
    let token = share["path"].as_str().unwrap().trim_start_matches("/s/");
    let shared = f.server.browser();
    let through_link = format!("/s/{token}{}", thumb(&copied));
    assert_eq!(fetch(&f, &shared, &through_link).await.0, 200);
    let mine = f
        .member
        .post(
            "/link-preview",
            json!({ "url": format!("http://{shop}/kite") }),
        )
        .await
        .expect(200)["preview"]["picture"]
        .clone();
    assert_ne!(mine, copied, "each reader gets their own copy");
    let not_on_list = format!("/s/{token}{}", thumb(&mine));
    assert_eq!(fetch(&f, &shared, &not_on_list).await.0, 404);

    // Nobody may put someone else's picture on a gift.
    f.member
        .post(
            &format!("/lists/{}/items", f.list_id),
            json!({ "title": "Borrowed", "picture": copied }),
        )
        .await
        .expect_error(400, "bad_request");
    f.admin
        .patch(
            &format!("/items/{item}"),
            json!({ "version": kite["version"], "picture": mine }),
        )
        .await
        .expect_error(400, "bad_request");

    // Uploads: a picture replaces the old one, which is gone; what is not
    // a picture, or too large, is refused and nothing changes.
    let replaced = put_picture(&f.member, item, png(300, 300))
        .await
        .expect(200)["item"]
        .clone();
    let uploaded = replaced["picture"].clone();
    assert_ne!(uploaded, copied);
    assert_eq!(replaced["version"], kite["version"].as_i64().unwrap() + 1);
    assert_eq!(fetch(&f, &f.admin, &thumb(&copied)).await.0, 404);
    let updated = watching.events(1).await;
    assert_eq!(updated[0]["data"]["payload"]["picture"], uploaded);
    put_picture(&f.member, item, b"<html><script>alert(1)</script>".to_vec())
        .await
        .expect_error(400, "bad_request");
    put_picture(&f.member, item, vec![0; 5 * 1024 * 1024 + 1])
        .await
        .expect_error(413, "too_large");
    let id = call(
        f.member
            .request(reqwest::Method::POST, "/pictures")
            .body(png(10, 10)),
    )
    .await
    .expect(201)["picture"]
        .clone();
    assert_eq!(fetch(&f, &f.member, &thumb(&id)).await.0, 200);
    let unchanged = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(unchanged["items"][0]["picture"], uploaded);
    assert_eq!(unchanged["items"][0]["version"], replaced["version"]);

    // Guests may not upload.
    call(
        shared
            .request(reqwest::Method::POST, "/pictures")
            .body(png(10, 10)),
    )
    .await
    .expect_error(401, "unauthorized");

    // The pages' form: back to the list at the gift, or saying why not.
    let answer = post_form(&f, &f.admin, item, &png(64, 64)).await;
    assert_eq!(answer.url().path(), format!("/lists/{}", f.list_id));
    assert_eq!(answer.url().query(), None);
    let formed = f
        .admin
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200)["items"][0]["picture"]
        .clone();
    assert_ne!(formed, uploaded);
    assert_eq!(fetch(&f, &f.admin, &thumb(&uploaded)).await.0, 404);
    let refused = post_form(&f, &f.admin, item, b"GIF89a not really").await;
    assert_eq!(
        refused.url().query(),
        Some(format!("picture_item={item}&picture_error=not_a_picture").as_str())
    );

    // Taken off, and with its gift: gone.
    let off = call(
        f.admin
            .request(reqwest::Method::DELETE, &format!("/items/{item}/picture")),
    )
    .await
    .expect(200)["item"]
        .clone();
    assert_eq!(off["picture"], Value::Null);
    assert_eq!(fetch(&f, &f.admin, &thumb(&formed)).await.0, 404);
    let second =
        put_picture(&f.admin, item, png(20, 20)).await.expect(200)["item"]["picture"].clone();
    f.admin.delete(&format!("/items/{item}")).await.expect(204);
    assert_eq!(fetch(&f, &f.admin, &thumb(&second)).await.0, 404);

    // Uploads are limited per person (30 a minute); others still upload.
    let upload = |by: &Browser| {
        call(
            by.request(reqwest::Method::POST, "/pictures")
                .body(png(2, 2)),
        )
    };
    let mut refused = None;
    for n in 0..40 {
        let answer = upload(&f.member).await;
        if answer.status == 429 {
            refused = Some(n);
            answer.expect_error(429, "rate_limited");
            break;
        }
        answer.expect(201);
    }
    assert!(
        refused.is_some_and(|n| n >= 20),
        "refused after {refused:?}"
    );
    upload(&f.admin).await.expect(201);
    f.server.stop().await;
}
