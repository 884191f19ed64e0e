//! Accounts: registration, login, sessions, tokens for scripts, and
//! password hashing that does not stall other requests.

use reqwest::Method;
use serde_json::json;

use crate::common;
use crate::common::{answer, call, Db, FreshDb, TestServer};
use crate::on_both_backends;

on_both_backends!(
    register_login_logout_and_me,
    sessions_rotate_at_login_and_die_at_logout,
    tokens_for_scripts,
    fifty_logins_do_not_stall_other_requests,
);

async fn register_login_logout_and_me(db: Db) {
    let server = TestServer::start(db).await;
    let browser = server.browser();
    let answer = browser
        .post(
            "/auth/register",
            json!({ "email": "Dana@Example.org", "name": "Dana", "password": "long enough" }),
        )
        .await;
    assert!(
        answer.headers.get("set-cookie").is_some(),
        "register logs in"
    );
    let user = answer.expect(201)["user"].clone();
    assert_eq!(user["email"], "Dana@Example.org", "stored verbatim");
    assert_eq!(
        user.as_object().unwrap().len(),
        3,
        "user is {{id, email, name}}: {user}"
    );

    let me = browser.get("/me").await.expect(200);
    assert_eq!(me["user"], user);
    assert_eq!(me["families"], json!([]));

    // The same address in other case is the same account.
    let other = server.browser();
    other
        .post(
            "/auth/register",
            json!({ "email": "dana@example.ORG", "name": "D", "password": "long enough" }),
        )
        .await
        .expect_error(409, "conflict");

    // Unknown email and wrong password: the same answer.
    let wrong = other
        .post(
            "/auth/login",
            json!({ "email": "dana@example.org", "password": "not it at all" }),
        )
        .await;
    let unknown = other
        .post(
            "/auth/login",
            json!({ "email": "nobody@example.org", "password": "not it at all" }),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(unknown.status, 401);

    let login = other
        .post(
            "/auth/login",
            json!({ "email": "DANA@example.org", "password": "long enough" }),
        )
        .await;
    assert_eq!(login.expect(200)["user"], user);
    other.get("/me").await.expect(200);

    assert_eq!(
        browser
            .send(Method::POST, "/auth/logout", None)
            .await
            .status,
        204
    );
    browser.get("/me").await.expect_error(401, "unauthorized");
    // The other session is untouched.
    other.get("/me").await.expect(200);

    // Password limits: too short, too long (refused before hashing).
    for password in ["short", &"x".repeat(1025)] {
        server
            .browser()
            .post(
                "/auth/register",
                json!({ "email": "e@example.org", "name": "E", "password": password }),
            )
            .await
            .expect_error(400, "bad_request");
    }
    other
        .post(
            "/auth/login",
            json!({ "email": "dana@example.org", "password": "x".repeat(1025) }),
        )
        .await
        .expect_error(400, "bad_request");
    server.stop().await;
}

fn session_cookie(answer: &common::Answer) -> Option<String> {
    answer
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("giftlist_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

async fn sessions_rotate_at_login_and_die_at_logout(db: Db) {
    let server = TestServer::start(db).await;
    let registered = server
        .browser()
        .post(
            "/auth/register",
            json!({ "email": "f@example.org", "name": "F", "password": "long enough" }),
        )
        .await;
    let first = session_cookie(&registered).expect("a session cookie");
    let attributes = registered
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        attributes.contains("httponly") && attributes.contains("samesite=lax"),
        "{attributes}"
    );
    assert!(
        !attributes.contains("secure"),
        "http public URL: no Secure: {attributes}"
    );

    // A raw client that sends exactly the cookie we give it.
    let raw = reqwest::Client::new();
    let with_cookie = |cookie: &str, method: Method, path: &str| {
        raw.request(method, server.url(&format!("/api/v1{path}")))
            .header("cookie", cookie.to_string())
            .header("origin", server.origin())
    };
    let login = call(
        with_cookie(&first, Method::POST, "/auth/login")
            .json(&json!({ "email": "f@example.org", "password": "long enough" })),
    )
    .await;
    let second = session_cookie(&login).expect("login sets a new session cookie");
    assert_ne!(first, second, "the session id changes at login");
    let me = call(with_cookie(&second, Method::GET, "/me")).await;
    assert_eq!(me.status, 200);
    let old = call(with_cookie(&first, Method::GET, "/me")).await;
    assert_eq!(old.status, 401, "the pre-login id is dead");

    let logout = call(with_cookie(&second, Method::POST, "/auth/logout")).await;
    assert_eq!(logout.status, 204);
    let after = call(with_cookie(&second, Method::GET, "/me")).await;
    assert_eq!(
        after.status, 401,
        "the session is revoked on the server, not only forgotten by the browser"
    );
    server.stop().await;
}

async fn tokens_for_scripts(db: Db) {
    let server = TestServer::start(db).await;
    let browser = server.browser();
    let user = browser.register("Gus").await;
    let script = reqwest::Client::new();
    let token_url = server.url("/api/v1/auth/token");

    // By password, from a script (no Origin, no cookie).
    let issued = call(
        script
            .post(&token_url)
            .json(&json!({ "email": user["email"], "password": "correct horse battery" })),
    )
    .await
    .expect(200);
    let token = issued["token"].as_str().unwrap().to_string();
    assert!(issued["expires_at"].as_str().unwrap().ends_with('Z'));
    let me = call(script.get(server.url("/api/v1/me")).bearer_auth(&token)).await;
    assert_eq!(me.expect(200)["user"]["id"], user["id"]);

    // A token can write without Origin: it is no ambient credential.
    call(
        script
            .post(server.url("/api/v1/families"))
            .bearer_auth(&token)
            .json(&json!({ "name": "Scripted" })),
    )
    .await
    .expect(201);

    // By session, with no body.
    let by_session = browser
        .send(Method::POST, "/auth/token", None)
        .await
        .expect(200);
    assert!(by_session["token"].is_string());

    // Refusals.
    answer(script.post(&token_url).send().await.unwrap())
        .await
        .expect_error(401, "unauthorized");
    call(
        script
            .post(&token_url)
            .json(&json!({ "email": user["email"], "password": "wrong password" })),
    )
    .await
    .expect_error(401, "unauthorized");
    let tampered = format!("{}x", &token[..token.len() - 1]);
    for bad in [tampered.as_str(), "not-a-jwt"] {
        call(script.get(server.url("/api/v1/me")).bearer_auth(bad))
            .await
            .expect_error(401, "unauthorized");
    }
    call(
        script
            .get(server.url("/api/v1/me"))
            .header("authorization", "Basic abc"),
    )
    .await
    .expect_error(401, "unauthorized");
    server.stop().await;
}

/// Password hashing runs off the async runtime behind a small semaphore:
/// while fifty logins queue for it, other requests are answered at once.
async fn fifty_logins_do_not_stall_other_requests(db: Db) {
    // This test measures hashing, not the login limits: lift them.
    let fresh = FreshDb::new(db).await;
    let mut settings = fresh.settings();
    settings.auth_account_burst = 100;
    settings.auth_ip_burst = 100;
    let server = TestServer::start_with(fresh, settings).await;
    let user = server.browser().register("Hana").await;
    let email = user["email"].as_str().unwrap().to_string();
    let url = server.url("/api/v1/auth/login");
    let logins: Vec<_> = (0..50)
        .map(|n| {
            let (url, email) = (url.clone(), email.clone());
            let password = if n % 2 == 0 {
                "correct horse battery"
            } else {
                "wrong password!"
            };
            tokio::spawn(async move {
                let response = reqwest::Client::new()
                    .post(url)
                    .json(&json!({ "email": email, "password": password }))
                    .send()
                    .await
                    .unwrap();
                (n, response.status().as_u16())
            })
        })
        .collect();
    // Let the logins reach the hasher, then ask something else.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let pending = logins.iter().filter(|task| !task.is_finished()).count();
    assert!(pending > 0, "the health check waited for all fifty logins");
    for login in logins {
        let (n, status) = login.await.unwrap();
        assert_eq!(status, if n % 2 == 0 { 200 } else { 401 }, "login {n}");
    }
    server.stop().await;
}
