//! Email addresses: a change takes effect only through a link mailed to
//! the new address (the test follows the link out of a real SMTP
//! conversation), the old address is told, taken addresses give nothing
//! away, and a site that asks for confirmed addresses lets nobody join a
//! family before.

use serde_json::json;

use crate::common::{server_with, smtp::Smtp, Browser, Db, TestServer};
use crate::on_both_backends;

on_both_backends!(
    an_address_changes_once_the_new_one_confirms_it,
    joining_waits_for_a_confirmed_address_when_the_site_asks,
);

const PASSWORD: &str = "correct horse battery";

async fn server_and_mailbox(db: Db, require: bool) -> (TestServer, Smtp) {
    let smtp = Smtp::start().await;
    let url = smtp.url();
    let server = server_with(db, move |s| {
        s.smtp_url = Some(url);
        s.mail_retry_ms = 100;
        s.require_verified_email = require;
    })
    .await;
    (server, smtp)
}

async fn account(server: &TestServer, name: &str) -> (Browser, String) {
    let browser = server.browser();
    let user = browser.register(name).await;
    (browser, user["email"].as_str().unwrap().to_owned())
}

async fn log_in(server: &TestServer, email: &str) -> u16 {
    server
        .browser()
        .post(
            "/auth/login",
            json!({ "email": email, "password": PASSWORD }),
        )
        .await
        .status
}

async fn an_address_changes_once_the_new_one_confirms_it(db: Db) {
    let (server, mut mailbox) = server_and_mailbox(db, false).await;
    let (alice, old) = account(&server, "Alice").await;
    let (bob, bobs) = account(&server, "Bob").await;
    assert_eq!(alice.get("/me").await.expect(200)["email_confirmed"], false);

    let change = |email: &str, password: &str| json!({ "email": email, "password": password });
    alice
        .post("/me/email", change("alice@new.example", "not it"))
        .await
        .expect_error(403, "forbidden");
    alice
        .post("/me/email", change("no address", PASSWORD))
        .await
        .expect_error(400, "bad_request");
    alice
        .post("/me/email", change(&old.to_uppercase(), PASSWORD))
        .await
        .expect_error(400, "bad_request");
    server
        .browser()
        .post("/me/email", change("alice@new.example", PASSWORD))
        .await
        .expect_error(401, "unauthorized");

    let asked = alice
        .post("/me/email", change("alice@new.example", PASSWORD))
        .await
        .expect(202);
    assert_eq!(asked["mail_configured"], true);
    let mail = mailbox.mail().await;
    assert_eq!(mail.to, ["<alice@new.example>"]);
    assert!(
        mail.data.contains("Subject: Confirm your address"),
        "{}",
        mail.data
    );
    let link = mail
        .link(&server.url("/confirm-email/"))
        .expect("a confirmation link");
    let token = link.rsplit('/').next().unwrap().to_owned();
    // Nothing changes before the link is used; opening it changes nothing
    // either (mail scanners open links).
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert_eq!(log_in(&server, "alice@new.example").await, 401);
    assert_eq!(log_in(&server, &old).await, 200);

    let confirmed = server
        .browser()
        .post("/auth/confirm-email", json!({ "token": token }))
        .await
        .expect(200);
    assert_eq!(confirmed["user"]["email"], "alice@new.example");
    let told = mailbox.mail().await;
    assert_eq!(told.to, [format!("<{old}>")]);
    assert!(told.data.contains("alice@new.example"), "{}", told.data);
    assert_eq!(log_in(&server, "alice@new.example").await, 200);
    assert_eq!(log_in(&server, &old).await, 401);
    let me = alice.get("/me").await.expect(200);
    assert_eq!(me["user"]["email"], "alice@new.example");
    assert_eq!(me["email_confirmed"], true);

    // Once only; forged and malformed links are refused alike.
    for token in [token.clone(), "0".repeat(64), "nope".into()] {
        let refused = server
            .browser()
            .post("/auth/confirm-email", json!({ "token": token }))
            .await
            .expect_error(400, "bad_request");
        assert_eq!(
            refused["error"]["message"],
            "this confirmation link is invalid, used or expired: ask for a new one"
        );
    }

    // Bob's address: the same answer as for a free one, and a note to
    // that address instead of a link; nothing changes.
    let taken = alice
        .post("/me/email", change(&bobs.to_uppercase(), PASSWORD))
        .await
        .expect(202);
    assert_eq!(taken, asked);
    let note = mailbox.mail().await;
    assert_eq!(note.to, [format!("<{}>", bobs.to_uppercase())]);
    assert!(
        note.data.contains("already belongs to an account"),
        "{}",
        note.data
    );
    assert!(note.link(&server.url("/confirm-email/")).is_none());
    assert_eq!(
        alice.get("/me").await.expect(200)["user"]["email"],
        "alice@new.example"
    );

    // Two people asking for one free address: the first to confirm gets
    // it; the other's link is refused and stays unused.
    alice
        .post("/me/email", change("shared@example.org", PASSWORD))
        .await
        .expect(202);
    let alices = mailbox
        .mail()
        .await
        .link(&server.url("/confirm-email/"))
        .unwrap();
    bob.post("/me/email", change("shared@example.org", PASSWORD))
        .await
        .expect(202);
    let bobs_link = mailbox
        .mail()
        .await
        .link(&server.url("/confirm-email/"))
        .unwrap();
    let token_of = |link: &str| link.rsplit('/').next().unwrap().to_owned();
    server
        .browser()
        .post(
            "/auth/confirm-email",
            json!({ "token": token_of(&bobs_link) }),
        )
        .await
        .expect(200);
    mailbox.mail().await; // Bob's old address is told.
    server
        .browser()
        .post("/auth/confirm-email", json!({ "token": token_of(&alices) }))
        .await
        .expect_error(409, "conflict");
    let unused: Option<String> = sqlx::query_scalar(
        "select used_at from email_confirmations where email = 'shared@example.org' and user_id = $1",
    )
    .bind(alice.get("/me").await.expect(200)["user"]["id"].as_str().unwrap())
    .fetch_one(server.state.store.pool())
    .await
    .unwrap();
    assert_eq!(unused, None);

    // An expired link is refused like a used one.
    alice
        .post("/me/email", change("later@example.org", PASSWORD))
        .await
        .expect(202);
    let late = mailbox
        .mail()
        .await
        .link(&server.url("/confirm-email/"))
        .unwrap();
    sqlx::query("update email_confirmations set expires_at = 0 where email = 'later@example.org'")
        .execute(server.state.store.pool())
        .await
        .unwrap();
    server
        .browser()
        .post("/auth/confirm-email", json!({ "token": token_of(&late) }))
        .await
        .expect_error(400, "bad_request");
    server.stop().await;
}

async fn joining_waits_for_a_confirmed_address_when_the_site_asks(db: Db) {
    let (server, mut mailbox) = server_and_mailbox(db, true).await;
    let (alice, alices) = account(&server, "Alice").await;
    assert_eq!(mailbox.mail().await.to, [format!("<{alices}>")]);
    // Starting a family needs no confirmed address; joining one does.
    let family = alice
        .post("/families", json!({ "name": "The Smiths" }))
        .await
        .expect(201)["family"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = alice
        .post(&format!("/families/{family}/invites"), json!(null))
        .await
        .expect(201)["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (dan, dans) = account(&server, "Dan").await;
    let first = mailbox.mail().await;
    assert_eq!(first.to, [format!("<{dans}>")]);
    let refused = dan
        .post(&format!("/invites/{code}/accept"), json!(null))
        .await
        .expect_error(403, "forbidden");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("confirm your email address first"));
    assert_eq!(dan.get("/me").await.expect(200)["families"], json!([]));

    // Asking again sends a new link; either works once.
    dan.post("/me/email/confirmation", json!(null))
        .await
        .expect(202);
    let again = mailbox.mail().await;
    assert_eq!(again.to, [format!("<{dans}>")]);
    let link = again.link(&server.url("/confirm-email/")).unwrap();
    let confirmed = server
        .browser()
        .post(
            "/auth/confirm-email",
            json!({ "token": link.rsplit('/').next().unwrap() }),
        )
        .await
        .expect(200);
    assert_eq!(confirmed["user"]["email"], dans.as_str());
    assert!(
        mailbox
            .mail_within(std::time::Duration::from_millis(300))
            .await
            .is_none(),
        "confirming one's own address tells nobody"
    );
    dan.post(&format!("/invites/{code}/accept"), json!(null))
        .await
        .expect(200);
    let me = dan.get("/me").await.expect(200);
    assert_eq!(me["email_confirmed"], true);
    assert_eq!(me["families"][0]["id"], family.as_str());
    // Confirmed already: asking again sends nothing.
    dan.post("/me/email/confirmation", json!(null))
        .await
        .expect(202);
    assert!(mailbox
        .mail_within(std::time::Duration::from_millis(300))
        .await
        .is_none());
    server.stop().await;
}
