//! The language a page is rendered in. In a test binary of its own: run
//! in one process beside other tests' servers (each test has its own
//! runtime, and some runtimes end while others render), a page render here
//! now and then never finished; alone it always does, and the server in
//! production has one runtime.
#![cfg(feature = "ssr")]

mod common;

use common::{Db, TestServer};

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
