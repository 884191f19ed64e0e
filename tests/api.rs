//! The JSON API of PROTOCOL.md section 9, row by row, on SQLite and
//! PostgreSQL, through a real server and HTTP clients.
#![cfg(feature = "ssr")]

mod common;

use common::{answer, call, family, Db, FreshDb, TestServer};
use futures::future::join_all;
use giftlist::store::outbox::{self, Audience};
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    register_login_logout_and_me,
    sessions_rotate_at_login_and_die_at_logout,
    tokens_for_scripts,
    families_and_invites,
    lists_for_members_and_for_people_without_accounts,
    who_may_rename_and_remove_lists,
    items_versions_and_conflicts,
    claims_have_one_holder,
    the_surprise_rule_holds_on_every_read_path,
    events_are_recorded_per_audience,
    twenty_parallel_patches_one_winner,
    twenty_parallel_claims_one_holder,
    fifty_parallel_creations_number_without_gaps,
    bad_input_gets_the_documented_error,
    other_families_ids_look_unknown,
    cross_site_writes_are_refused,
    trace_ids_are_adopted_and_stored,
    family_and_claimer_topics_are_recorded,
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

async fn families_and_invites(db: Db) {
    let f = family(db).await;
    let detail = f
        .member
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect(200);
    assert_eq!(detail["family"]["name"], "The Smiths");
    let roles: Vec<(String, String)> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().into(),
                m["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("Alice".into(), "admin".into()),
            ("Bob".into(), "member".into()),
            ("Carol".into(), "member".into())
        ]
    );
    assert_eq!(detail["lists"].as_array().unwrap().len(), 1);

    // Any member may invite; accepting again is a no-op.
    let invite = f
        .member
        .post(&format!("/families/{}/invites", f.family_id), json!(null))
        .await
        .expect(201);
    let code = invite["code"].as_str().unwrap();
    assert!(invite["expires_at"].as_str().unwrap().ends_with('Z'));
    let again = f
        .member
        .post(&format!("/invites/{code}/accept"), json!(null))
        .await
        .expect(200);
    assert_eq!(again["family"]["id"], f.family_id.as_str());
    let detail = f
        .admin
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect(200);
    assert_eq!(detail["members"].as_array().unwrap().len(), 3);

    // The code serves several people.
    let newcomer = f.server.browser();
    newcomer.register("Dan").await;
    newcomer
        .post(&format!("/invites/{code}/accept"), json!(null))
        .await
        .expect(200);
    let me = newcomer.get("/me").await.expect(200);
    assert_eq!(me["families"][0]["id"], f.family_id.as_str());

    newcomer
        .post("/invites/no-such-code/accept", json!(null))
        .await
        .expect_error(404, "not_found");
    // Outsiders see nothing.
    let outsider = f.server.browser();
    outsider.register("Eve").await;
    outsider
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect_error(404, "not_found");
    outsider
        .post(&format!("/families/{}/invites", f.family_id), json!(null))
        .await
        .expect_error(404, "not_found");
    f.server.stop().await;
}

async fn lists_for_members_and_for_people_without_accounts(db: Db) {
    let f = family(db).await;
    let path = format!("/families/{}/lists", f.family_id);
    let child = f
        .member
        .post(
            &path,
            json!({ "title": "Little Tim", "recipient_name": "Tim" }),
        )
        .await
        .expect(201);
    let list = &child["list"];
    assert_eq!(list["recipient_name"], "Tim");
    assert_eq!(list["recipient_user_id"], Value::Null);
    assert_eq!(list["version"], 1);
    assert_eq!(list["family_id"], f.family_id.as_str());

    let second = f
        .member
        .post(
            &path,
            json!({ "title": "Carol's Christmas", "recipient_user_id": f.recipient_id }),
        )
        .await
        .expect(201);
    assert_eq!(second["list"]["recipient_user_id"], f.recipient_id.as_str());

    let outsider = f.server.browser();
    let outsider_id = outsider.register("Zed").await["id"].clone();
    for bad in [
        json!({ "title": "Both", "recipient_name": "Tim", "recipient_user_id": f.recipient_id }),
        json!({ "title": "Neither" }),
        json!({ "title": "Stranger", "recipient_user_id": outsider_id }),
        json!({ "title": "", "recipient_name": "Tim" }),
    ] {
        f.member
            .post(&path, bad)
            .await
            .expect_error(400, "bad_request");
    }
    let detail = f
        .admin
        .get(&format!("/families/{}", f.family_id))
        .await
        .expect(200);
    assert_eq!(
        detail["lists"].as_array().unwrap().len(),
        3,
        "refused lists were not half-written"
    );

    let got = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(got["list"]["title"], "Carol's birthday");
    assert_eq!(got["items"], json!([]));
    assert_eq!(got["seq"], 0);
    f.server.stop().await;
}

async fn who_may_rename_and_remove_lists(db: Db) {
    let f = family(db).await;
    let path = format!("/lists/{}", f.list_id);
    // Bob neither made the list nor is an admin.
    f.member
        .patch(&path, json!({ "title": "Mine now" }))
        .await
        .expect_error(403, "forbidden");
    f.member.delete(&path).await.expect_error(403, "forbidden");
    let renamed = f
        .admin
        .patch(&path, json!({ "title": "Carol turns 40" }))
        .await
        .expect(200);
    assert_eq!(renamed["list"]["title"], "Carol turns 40");
    assert_eq!(renamed["list"]["version"], 2);

    // The creator may manage their own list without being admin.
    let own = f
        .add_list(
            &f.member,
            json!({ "title": "Tim", "recipient_name": "Tim" }),
        )
        .await;
    f.member
        .patch(&format!("/lists/{own}"), json!({ "title": "Tim (7)" }))
        .await
        .expect(200);
    f.member.delete(&format!("/lists/{own}")).await.expect(204);
    f.member
        .get(&format!("/lists/{own}"))
        .await
        .expect_error(404, "not_found");

    f.add_item(&f.member, "Scarf").await;
    assert_eq!(f.admin.delete(&path).await.status, 204);
    f.admin.get(&path).await.expect_error(404, "not_found");
    f.server.stop().await;
}

async fn items_versions_and_conflicts(db: Db) {
    let f = family(db).await;
    let created = f
        .member
        .post(
            &format!("/lists/{}/items", f.list_id),
            json!({ "title": "Bike", "url": "https://shop.example/bike", "price_cents": 19999, "currency": "USD",
                    "notes": "blue, not red", "priority": 1 }),
        )
        .await
        .expect(201)["item"]
        .clone();
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "claim",
        "created_by",
        "currency",
        "id",
        "list_id",
        "notes",
        "price_cents",
        "priority",
        "title",
        "url",
        "version",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(created["version"], 1);
    assert_eq!(created["created_by"], f.member_id.as_str());
    assert_eq!(created["claim"], Value::Null);

    let defaults = f.add_item(&f.admin, "Book").await;
    assert_eq!(
        (defaults["currency"].clone(), defaults["priority"].clone()),
        (json!("EUR"), json!(3))
    );
    assert_eq!(defaults["url"], Value::Null);

    let item = format!("/items/{}", created["id"].as_str().unwrap());
    let edited = f
        .admin
        .patch(
            &item,
            json!({ "version": 1, "title": "Red bike", "notes": null }),
        )
        .await
        .expect(200);
    assert_eq!(edited["item"]["version"], 2);
    assert_eq!(edited["item"]["title"], "Red bike");
    assert_eq!(edited["item"]["notes"], Value::Null);
    assert_eq!(edited["item"]["price_cents"], 19999, "absent fields stay");

    // A stale version: 409 with the current item, nothing overwritten.
    let stale = f
        .member
        .patch(&item, json!({ "version": 1, "title": "Blue bike" }))
        .await;
    let body = stale.expect_error(409, "conflict");
    assert_eq!(body["current"]["title"], "Red bike");
    assert_eq!(body["current"]["version"], 2);

    // The recipient may edit and remove items too (they are a member).
    f.recipient
        .patch(&item, json!({ "version": 2, "priority": 2 }))
        .await
        .expect(200);
    assert_eq!(f.recipient.delete(&item).await.status, 204);
    f.admin
        .patch(&item, json!({ "version": 3, "title": "Gone" }))
        .await
        .expect_error(404, "not_found");
    f.admin.delete(&item).await.expect_error(404, "not_found");
    f.server.stop().await;
}

async fn claims_have_one_holder(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.recipient, "Camera").await;
    let claim = format!("/items/{}/claim", item["id"].as_str().unwrap());

    f.recipient
        .post(&claim, json!({ "status": "reserved" }))
        .await
        .expect_error(403, "forbidden");
    let claimed = f
        .member
        .post(&claim, json!({ "status": "reserved" }))
        .await
        .expect(200);
    assert_eq!(
        claimed["item"]["claim"],
        json!({ "status": "reserved", "by": f.member_id })
    );
    assert_eq!(claimed["item"]["version"], 1, "a claim changes no version");
    f.admin
        .post(&claim, json!({ "status": "purchased" }))
        .await
        .expect_error(409, "conflict");
    // The holder may move their claim on.
    let bought = f
        .member
        .post(&claim, json!({ "status": "purchased" }))
        .await
        .expect(200);
    assert_eq!(bought["item"]["claim"]["status"], "purchased");

    f.admin.delete(&claim).await.expect_error(403, "forbidden");
    f.recipient
        .delete(&claim)
        .await
        .expect_error(403, "forbidden");
    let released = f.member.delete(&claim).await.expect(200);
    assert_eq!(released["item"]["claim"], Value::Null);
    f.member.delete(&claim).await.expect_error(409, "conflict");
    // Free again: anyone but the recipient may claim it.
    f.admin
        .post(&claim, json!({ "status": "reserved" }))
        .await
        .expect(200);
    f.member
        .post(&claim, json!({ "status": "bought" }))
        .await
        .expect_error(400, "bad_request");
    f.server.stop().await;
}

async fn the_surprise_rule_holds_on_every_read_path(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.member, "Watch").await;
    let id = item["id"].as_str().unwrap();
    let before = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    f.admin
        .post(
            &format!("/items/{id}/claim"),
            json!({ "status": "purchased" }),
        )
        .await
        .expect(200);

    // The list as the recipient reads it is byte for byte what it was.
    let after = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(before, after, "a claim changed what the recipient reads");
    let as_member = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(as_member["items"][0]["claim"]["status"], "purchased");

    // Responses to the recipient's own writes carry no claim either.
    let edited = f
        .recipient
        .patch(
            &format!("/items/{id}"),
            json!({ "version": 1, "notes": "gold" }),
        )
        .await
        .expect(200);
    assert_eq!(edited["item"]["claim"], Value::Null);
    let stale = f
        .recipient
        .patch(
            &format!("/items/{id}"),
            json!({ "version": 1, "notes": "silver" }),
        )
        .await;
    assert_eq!(
        stale.expect_error(409, "conflict")["current"]["claim"],
        Value::Null
    );
    let added = f
        .recipient
        .post(
            &format!("/lists/{}/items", f.list_id),
            json!({ "title": "Hat" }),
        )
        .await
        .expect(201);
    assert_eq!(added["item"]["claim"], Value::Null);

    // Polling: the recipient's stream holds no claim and no gap.
    let changes = f
        .recipient
        .get(&format!("/lists/{}/changes?since=0", f.list_id))
        .await
        .expect(200);
    let text = changes.to_string();
    assert!(
        !text.contains("STATUS_CHANGED") && !text.contains("purchased"),
        "{text}"
    );
    let seqs: Vec<i64> = changes["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3], "ADDED, UPDATED, ADDED with no gap");
    assert_eq!(changes["seq"], 3);
    for event in changes["events"].as_array().unwrap() {
        assert_eq!(event["data"]["payload"]["claim"], Value::Null);
    }

    // Releasing is as invisible as claiming.
    let before = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    f.admin
        .delete(&format!("/items/{id}/claim"))
        .await
        .expect(200);
    let after = f
        .recipient
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(before, after);

    // The recipient's claim and release attempts answer alike, claimed or not.
    f.member
        .post(
            &format!("/items/{id}/claim"),
            json!({ "status": "reserved" }),
        )
        .await
        .expect(200);
    let claimed = f.recipient.delete(&format!("/items/{id}/claim")).await;
    let free_item = f.add_item(&f.member, "Socks").await;
    let free = f
        .recipient
        .delete(&format!(
            "/items/{}/claim",
            free_item["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!((claimed.status, claimed.body), (free.status, free.body));
    f.server.stop().await;
}

async fn events_are_recorded_per_audience(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.member, "Kite").await;
    let id = item["id"].as_str().unwrap();
    f.admin
        .post(
            &format!("/items/{id}/claim"),
            json!({ "status": "reserved" }),
        )
        .await
        .expect(200);
    f.member
        .patch(
            &format!("/items/{id}"),
            json!({ "version": 1, "title": "Big kite" }),
        )
        .await
        .expect(200);

    let members = f
        .member
        .get(&format!("/lists/{}/changes?since=0", f.list_id))
        .await
        .expect(200);
    let names: Vec<&str> = members["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ADDED", "STATUS_CHANGED", "UPDATED"]);
    let claim_event = &members["events"][1];
    assert_eq!(claim_event["type"], "event");
    assert_eq!(claim_event["topic"], format!("gift-list:{}", f.list_id));
    assert_eq!(claim_event["data"]["entity_id"], id);
    assert_eq!(claim_event["data"]["tenant_id"], f.family_id.as_str());
    assert_eq!(
        claim_event["data"]["payload"]["claim"]["status"],
        "reserved"
    );
    assert!(claim_event["data"]["timestamp"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(claim_event["trace_id"].as_str().unwrap().len(), 32);

    // Resuming: only what came after.
    let later = f
        .member
        .get(&format!("/lists/{}/changes?since=2", f.list_id))
        .await
        .expect(200);
    assert_eq!(later["events"].as_array().unwrap().len(), 1);
    assert_eq!(later["events"][0]["seq"], 3);
    let none = f
        .member
        .get(&format!("/lists/{}/changes?since=3", f.list_id))
        .await
        .expect(200);
    assert_eq!(none, json!({ "events": [], "seq": 3 }));
    // Ahead of the stream: reload.
    let ahead = f
        .member
        .get(&format!("/lists/{}/changes?since=99", f.list_id))
        .await
        .expect(200);
    assert_eq!(ahead, json!({ "resync": true, "seq": 3 }));

    // GET list reports the caller's own stream position.
    assert_eq!(
        f.member
            .get(&format!("/lists/{}", f.list_id))
            .await
            .expect(200)["seq"],
        3
    );
    assert_eq!(
        f.recipient
            .get(&format!("/lists/{}", f.list_id))
            .await
            .expect(200)["seq"],
        2
    );
    f.server.stop().await;
}

async fn twenty_parallel_patches_one_winner(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.member, "Lamp").await;
    let path = format!("/items/{}", item["id"].as_str().unwrap());
    let answers = join_all((0..20).map(|n| {
        let by = if n % 2 == 0 { &f.admin } else { &f.member };
        let path = path.clone();
        async move {
            by.patch(&path, json!({ "version": 1, "title": format!("Lamp {n}") }))
                .await
        }
    }))
    .await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let conflicts = answers
        .iter()
        .filter(|a| a.status == 409 && a.code() == "conflict")
        .count();
    assert_eq!((ok, conflicts), (1, 19), "{answers:?}");
    let winner = answers.iter().find(|a| a.status == 200).unwrap();
    let now = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(now["items"][0]["title"], winner.body["item"]["title"]);
    assert_eq!(now["items"][0]["version"], 2);
    f.server.stop().await;
}

async fn twenty_parallel_claims_one_holder(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.recipient, "Telescope").await;
    let code = f.invite_code().await;
    let mut claimers = Vec::new();
    for n in 0..20 {
        let browser = f.server.browser();
        browser.register(&format!("Cousin{n}")).await;
        browser
            .post(&format!("/invites/{code}/accept"), json!(null))
            .await
            .expect(200);
        claimers.push(browser);
    }
    let path = format!("/items/{}/claim", item["id"].as_str().unwrap());
    let answers = join_all(
        claimers
            .iter()
            .map(|b| b.post(&path, json!({ "status": "reserved" }))),
    )
    .await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let conflicts = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!((ok, conflicts), (1, 19), "{answers:?}");
    let holder = &answers.iter().find(|a| a.status == 200).unwrap().body["item"]["claim"]["by"];
    let list = f
        .admin
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(&list["items"][0]["claim"]["by"], holder);
    let changes = f
        .admin
        .get(&format!("/lists/{}/changes?since=1", f.list_id))
        .await
        .expect(200);
    assert_eq!(
        changes["events"].as_array().unwrap().len(),
        1,
        "one claim, one event"
    );
    f.server.stop().await;
}

async fn fifty_parallel_creations_number_without_gaps(db: Db) {
    let f = family(db).await;
    let path = format!("/lists/{}/items", f.list_id);
    let answers = join_all((0..50).map(|n| {
        let by = [&f.admin, &f.member, &f.recipient][n % 3];
        let path = path.clone();
        async move {
            by.post(&path, json!({ "title": format!("Gift {n}") }))
                .await
        }
    }))
    .await;
    assert!(answers.iter().all(|a| a.status == 201), "{answers:?}");
    for reader in [&f.member, &f.recipient] {
        let changes = reader
            .get(&format!("/lists/{}/changes?since=0", f.list_id))
            .await
            .expect(200);
        let seqs: Vec<i64> = changes["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
        let mut ids: Vec<&str> = changes["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["data"]["entity_id"].as_str().unwrap())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 50, "each creation announced once");
    }
    f.server.stop().await;
}

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

async fn other_families_ids_look_unknown(db: Db) {
    let f = family(db).await;
    let item = f.add_item(&f.member, "Secret").await;
    let item_id = item["id"].as_str().unwrap();
    let outsider = f.server.browser();
    outsider.register("Mallory").await;
    outsider
        .post("/families", json!({ "name": "Other" }))
        .await
        .expect(201);

    let probes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/families/{}", f.family_id), None),
        (
            Method::POST,
            format!("/families/{}/lists", f.family_id),
            Some(json!({ "title": "x", "recipient_name": "y" })),
        ),
        (Method::GET, format!("/lists/{}", f.list_id), None),
        (
            Method::GET,
            format!("/lists/{}/changes?since=0", f.list_id),
            None,
        ),
        (
            Method::PATCH,
            format!("/lists/{}", f.list_id),
            Some(json!({ "title": "x" })),
        ),
        (Method::DELETE, format!("/lists/{}", f.list_id), None),
        (
            Method::POST,
            format!("/lists/{}/items", f.list_id),
            Some(json!({ "title": "x" })),
        ),
        (
            Method::PATCH,
            format!("/items/{item_id}"),
            Some(json!({ "version": 1, "title": "x" })),
        ),
        (Method::DELETE, format!("/items/{item_id}"), None),
        (
            Method::POST,
            format!("/items/{item_id}/claim"),
            Some(json!({ "status": "reserved" })),
        ),
        (Method::DELETE, format!("/items/{item_id}/claim"), None),
    ];
    for (method, path, body) in probes {
        let theirs = outsider.send(method.clone(), &path, body.clone()).await;
        let unknown_path = path
            .replace(&f.family_id, "f_000000000000000000000000")
            .replace(&f.list_id, "l_000000000000000000000000")
            .replace(item_id, "i_000000000000000000000000");
        let unknown = outsider.send(method.clone(), &unknown_path, body).await;
        assert_eq!(theirs.status, 404, "{method} {path}: {}", theirs.body);
        assert_eq!(
            (theirs.status, theirs.body),
            (unknown.status, unknown.body),
            "{method} {path}"
        );
    }
    // And nothing changed.
    let list = f
        .member
        .get(&format!("/lists/{}", f.list_id))
        .await
        .expect(200);
    assert_eq!(list["items"][0]["title"], "Secret");
    assert_eq!(list["items"][0]["claim"], Value::Null);
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

/// Events that only the live channel delivers (issue: live channel) are
/// already recorded: the family's topic and the claimer's notices.
async fn family_and_claimer_topics_are_recorded(db: Db) {
    let f = family(db).await;
    let store = f.server.state.store.clone();
    let read = |topic: String| {
        let store = store.clone();
        async move {
            outbox::since(store.pool(), &topic, Audience::All, 0, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.seq, e.event, e.entity_id, e.user_id.unwrap_or_default()))
                .collect::<Vec<_>>()
        }
    };
    let family_topic = format!("family:{}", f.family_id);
    let family_events = read(family_topic.clone()).await;
    assert_eq!(
        family_events,
        [
            (
                1,
                "MEMBER_JOINED".to_string(),
                f.member_id.clone(),
                f.member_id.clone()
            ),
            (
                2,
                "MEMBER_JOINED".to_string(),
                f.recipient_id.clone(),
                f.recipient_id.clone()
            ),
            (
                3,
                "ADDED".to_string(),
                f.list_id.clone(),
                family_events[2].3.clone()
            ),
        ],
        "the founder's joining is no event; the list's creation is"
    );

    let kept = f.add_item(&f.member, "Drum").await;
    let gone = f.add_item(&f.member, "Flute").await;
    for item in [&kept, &gone] {
        f.member
            .post(
                &format!("/items/{}/claim", item["id"].as_str().unwrap()),
                json!({ "status": "reserved" }),
            )
            .await
            .expect(200);
    }
    // The holder's own edit tells them nothing; others' edits and removals do.
    f.member
        .patch(
            &format!("/items/{}", kept["id"].as_str().unwrap()),
            json!({ "version": 1, "notes": "mine" }),
        )
        .await
        .expect(200);
    f.admin
        .patch(
            &format!("/items/{}", kept["id"].as_str().unwrap()),
            json!({ "version": 2, "notes": "theirs" }),
        )
        .await
        .expect(200);
    assert_eq!(
        f.admin
            .delete(&format!("/items/{}", gone["id"].as_str().unwrap()))
            .await
            .status,
        204
    );
    f.admin
        .patch(
            &format!("/lists/{}", f.list_id),
            json!({ "title": "Renamed" }),
        )
        .await
        .expect(200);
    assert_eq!(
        f.admin
            .delete(&format!("/lists/{}", f.list_id))
            .await
            .status,
        204
    );

    let notices: Vec<(i64, String, String)> = read(format!("user:{}", f.member_id))
        .await
        .into_iter()
        .map(|(seq, event, entity, _)| (seq, event, entity))
        .collect();
    let kept_id = kept["id"].as_str().unwrap().to_string();
    let gone_id = gone["id"].as_str().unwrap().to_string();
    assert_eq!(
        notices,
        [
            (1, "UPDATED".into(), kept_id.clone()),
            (2, "DELETED".into(), gone_id),
            (3, "DELETED".into(), kept_id),
        ],
        "edit by another, removal, and removal with the whole list"
    );
    let names: Vec<String> = read(family_topic).await.into_iter().map(|e| e.1).collect();
    assert_eq!(names[3..], ["UPDATED".to_string(), "DELETED".to_string()]);
    f.server.stop().await;
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
