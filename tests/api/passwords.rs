//! Getting back in: a forgotten password reset through a real mail (the
//! server under test talks SMTP to a server the test runs), the refusals of
//! reset links, changing the password and logging out everywhere, each
//! ending the other sessions and their sockets.

use std::time::Duration;

use serde_json::json;

use crate::common::{server_with, smtp::Smtp, ws, Browser, Db, TestServer};
use crate::on_both_backends;

on_both_backends!(
    a_forgotten_password_is_reset_through_the_mail,
    reset_links_refuse_what_they_must,
    changing_the_password_and_logging_out_everywhere_end_other_sessions,
);

const OLD: &str = "correct horse battery";
const NEW: &str = "a new and longer secret";

async fn server_and_mailbox(db: Db) -> (TestServer, Smtp) {
    let smtp = Smtp::start().await;
    let url = smtp.url();
    let server = server_with(db, move |s| {
        s.smtp_url = Some(url);
        s.mail_retry_ms = 100;
        s.reset_burst = 2;
    })
    .await;
    (server, smtp)
}

/// A new account's browser, and its email address.
async fn account(server: &TestServer, name: &str) -> (Browser, String) {
    let browser = server.browser();
    let user = browser.register(name).await;
    let email = user["email"].as_str().unwrap().to_owned();
    (browser, email)
}

async fn log_in(server: &TestServer, email: &str, password: &str) -> (Browser, u16) {
    let browser = server.browser();
    let status = browser
        .post(
            "/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
        .status;
    (browser, status)
}

async fn a_forgotten_password_is_reset_through_the_mail(db: Db) {
    let (server, mut mailbox) = server_and_mailbox(db).await;
    let (laptop, email) = account(&server, "Alice").await;
    let mut socket = ws::open_browser(&server, &laptop).await;

    // The same answer whether or not the address has an account.
    let stranger = server.browser();
    let asked = stranger
        .post("/auth/forgot", json!({ "email": email.to_uppercase() }))
        .await
        .expect(202);
    let unknown = stranger
        .post("/auth/forgot", json!({ "email": "nobody@example.org" }))
        .await
        .expect(202);
    assert_eq!(asked, unknown);
    assert_eq!(asked["mail_configured"], true);

    let mail = mailbox.mail().await;
    assert_eq!(mail.to, [format!("<{email}>")]);
    assert!(
        mail.data.contains("Subject: Reset your Giftlist password"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("text/html") && mail.data.contains("text/plain"));
    let link = mail.link(&server.url("/reset/")).expect("a reset link");
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert_eq!(token.len(), 64, "{link}");
    assert!(
        mailbox
            .mail_within(Duration::from_millis(500))
            .await
            .is_none(),
        "no mail for an address without an account"
    );
    // The reset page is there for the link.
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert_eq!(page.headers()["cache-control"], "private, no-store");

    // Using it sets the password and logs this browser in ...
    let phone = server.browser();
    let reset = phone
        .post("/auth/reset", json!({ "token": token, "password": NEW }))
        .await
        .expect(200);
    assert_eq!(reset["user"]["email"], email);
    phone.get("/me").await.expect(200);
    // ... and ends every other session, and its socket.
    laptop.get("/me").await.expect_error(401, "unauthorized");
    socket.expect_close(1008, true).await;
    assert_eq!(log_in(&server, &email, OLD).await.1, 401);
    assert_eq!(log_in(&server, &email, NEW).await.1, 200);
    // Once only.
    server
        .browser()
        .post(
            "/auth/reset",
            json!({ "token": token, "password": "yet another one" }),
        )
        .await
        .expect_error(400, "bad_request");
    server.stop().await;
}

async fn reset_links_refuse_what_they_must(db: Db) {
    let (server, mut mailbox) = server_and_mailbox(db).await;
    let (_, email) = account(&server, "Bob").await;
    let anyone = server.browser();
    for token in ["0".repeat(64), "not-a-token".into(), String::new()] {
        let refused = anyone
            .post("/auth/reset", json!({ "token": token, "password": NEW }))
            .await
            .expect_error(400, "bad_request");
        assert_eq!(
            refused["error"]["message"],
            "this reset link is invalid, used or expired: ask for a new one"
        );
    }
    anyone
        .post("/auth/forgot", json!({ "email": "not an address" }))
        .await
        .expect_error(400, "bad_request");

    // The mail server refuses for a while: the request is answered at once
    // all the same, and the mail goes out once it accepts again.
    mailbox.refuse(true);
    anyone
        .post("/auth/forgot", json!({ "email": email }))
        .await
        .expect(202);
    tokio::time::sleep(Duration::from_millis(150)).await;
    mailbox.refuse(false);
    let mail = mailbox.mail().await;
    let token = mail
        .link(&server.url("/reset/"))
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    // A short password is refused before the link is used up.
    anyone
        .post(
            "/auth/reset",
            json!({ "token": token, "password": "short" }),
        )
        .await
        .expect_error(400, "bad_request");
    // An expired link is refused like any other.
    sqlx::query("update password_resets set expires_at = 1")
        .execute(server.state.store.pool())
        .await
        .unwrap();
    anyone
        .post("/auth/reset", json!({ "token": token, "password": NEW }))
        .await
        .expect_error(400, "bad_request");

    // Asking again and again for one address is limited (two at once
    // here), whether or not it has an account.
    for address in [email.as_str(), "ghost@example.org"] {
        let limited = loop {
            let answer = anyone
                .post("/auth/forgot", json!({ "email": address }))
                .await;
            if answer.status != 202 {
                break answer;
            }
        };
        assert!(limited.headers.contains_key("retry-after"));
        limited.expect_error(429, "rate_limited");
    }
    server.stop().await;
}

async fn changing_the_password_and_logging_out_everywhere_end_other_sessions(db: Db) {
    let (server, _mailbox) = server_and_mailbox(db).await;
    let (laptop, email) = account(&server, "Carol").await;
    let (phone, status) = log_in(&server, &email, OLD).await;
    assert_eq!(status, 200);
    let mut phone_socket = ws::open_browser(&server, &phone).await;
    let mut laptop_socket = ws::open_browser(&server, &laptop).await;

    laptop
        .post(
            "/me/password",
            json!({ "current_password": "wrong one here", "new_password": NEW }),
        )
        .await
        .expect_error(403, "forbidden");
    laptop
        .post(
            "/me/password",
            json!({ "current_password": OLD, "new_password": "short" }),
        )
        .await
        .expect_error(400, "bad_request");
    laptop
        .post(
            "/me/password",
            json!({ "current_password": OLD, "new_password": NEW }),
        )
        .await
        .expect(204);
    // The other session and its socket end; this one goes on.
    phone.get("/me").await.expect_error(401, "unauthorized");
    phone_socket.expect_close(1008, true).await;
    laptop.get("/me").await.expect(200);
    laptop_socket
        .send(json!({ "type": "ping", "id": "p" }))
        .await;
    assert_eq!(laptop_socket.expect("pong").await["id"], "p");
    assert_eq!(log_in(&server, &email, NEW).await.1, 200);

    // Logging out everywhere ends this session too.
    laptop
        .post("/auth/logout-everywhere", json!(null))
        .await
        .expect(204);
    laptop.get("/me").await.expect_error(401, "unauthorized");
    laptop_socket.expect_close(1008, true).await;
    server.stop().await;
}
