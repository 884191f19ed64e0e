//! Test harness: a real Giftlist server on 127.0.0.1:0 with a fresh
//! database, SQLite in a temporary folder or a new PostgreSQL database.
#![allow(dead_code)] // each test file uses a different part

pub mod smtp;
pub mod sse;
pub mod ws;

use std::{
    net::SocketAddr,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use giftlist::{
    config::{DatabaseUrl, Settings},
    server::{self, AppState},
};
use sqlx::{Connection, PgConnection};
use tempfile::TempDir;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// Which database a test runs against.
#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs one async test body against SQLite and against PostgreSQL, as two
/// tests named `sqlite` and `postgres` in a module named after the body.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::Db::Postgres).await
            }
        }
    )*};
}

/// The PostgreSQL server that tests make databases on.
pub fn postgres_server_url() -> String {
    std::env::var("GIFTLIST_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
        .trim_end_matches('/')
        .to_string()
}

/// A database made for one test, removed by [`FreshDb::drop_database`]
/// (scripts/test.sh sweeps what a failed test leaves behind).
pub struct FreshDb {
    pub url: DatabaseUrl,
    pub dir: TempDir,
    postgres_name: Option<String>,
}

impl FreshDb {
    pub async fn new(db: Db) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        match db {
            Db::Sqlite => FreshDb {
                url: DatabaseUrl::sqlite_in(dir.path()),
                dir,
                postgres_name: None,
            },
            Db::Postgres => {
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let name = format!(
                    "giftlist_test_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                );
                let mut admin =
                    PgConnection::connect(&format!("{}/postgres", postgres_server_url()))
                        .await
                        .expect("PostgreSQL must run on 127.0.0.1:5432 (see scripts/test.sh)");
                sqlx::query(&format!("create database \"{name}\""))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let url = DatabaseUrl::parse(&format!("{}/{name}", postgres_server_url())).unwrap();
                FreshDb {
                    url,
                    dir,
                    postgres_name: Some(name),
                }
            }
        }
    }

    /// A database made elsewhere (a test's own PostgreSQL cluster), with a
    /// folder of its own; nothing to remove.
    pub fn at(url: DatabaseUrl) -> FreshDb {
        FreshDb {
            url,
            dir: tempfile::tempdir().expect("temporary folder"),
            postgres_name: None,
        }
    }

    /// The same database, with a folder of its own, for a second server;
    /// the original removes the database.
    pub fn same_database(&self) -> FreshDb {
        FreshDb {
            url: self.url.clone(),
            dir: tempfile::tempdir().expect("temporary folder"),
            postgres_name: None,
        }
    }

    pub async fn drop_database(&self) {
        if let Some(name) = &self.postgres_name {
            let mut admin = PgConnection::connect(&format!("{}/postgres", postgres_server_url()))
                .await
                .expect("connect to drop the test database");
            sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
                .execute(&mut admin)
                .await
                .expect("drop test database");
        }
    }

    /// Settings for a server on this database, data in the temporary folder.
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::for_data_dir(self.dir.path());
        settings.database_url = Some(self.url.expose().to_string());
        settings.site_root = self.dir.path().join("site");
        settings.site_addr = "127.0.0.1:0".parse().unwrap();
        settings.jwt_secret = None;
        settings
    }
}

/// A running server; call [`TestServer::stop`] at the end of the test.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub db: FreshDb,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), giftlist::error::StartError>>,
}

impl TestServer {
    pub async fn start(db: Db) -> Self {
        let db = FreshDb::new(db).await;
        let settings = db.settings();
        Self::start_with(db, settings).await
    }

    pub async fn start_with(db: FreshDb, mut settings: Settings) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The public origin is where the test clients really connect.
        settings.site_addr = addr;
        let state = server::prepare(&settings).await.expect("server prepares");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(
            listener,
            state.clone(),
            async move {
                let _ = stopped.await;
            },
            settings.shutdown_timeout(),
        ));
        TestServer {
            addr,
            state,
            db,
            stop: Some(stop),
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The origin browsers on this server's pages send.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A browser-like client: keeps cookies, sends this server's `Origin`.
    pub fn browser(&self) -> Browser {
        Browser::new(self)
    }

    /// Stops the server and hands back its database, to start another on it.
    pub async fn stop_keeping_db(mut self) -> FreshDb {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(15), &mut self.task)
            .await
            .expect("server stops within 15 s")
            .expect("server task does not panic")
            .expect("server stops cleanly");
        self.db
    }

    /// Asks the server to stop, waits for it, and removes its database.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(15), &mut self.task)
            .await
            .expect("server stops within 15 s")
            .expect("server task does not panic")
            .expect("server stops cleanly");
        self.db.drop_database().await;
    }
}

/// A server whose settings `tune` changes first.
pub async fn server_with(db: Db, tune: impl FnOnce(&mut Settings)) -> TestServer {
    let fresh = FreshDb::new(db).await;
    let mut settings = fresh.settings();
    tune(&mut settings);
    TestServer::start_with(fresh, settings).await
}

/// Tokens signed with the server's secret, living `ttl`.
pub fn tokens(server: &TestServer, ttl: Duration) -> giftlist::auth::jwt::Tokens {
    let secret = giftlist::auth::secret::JwtSecret::load(None, server.db.dir.path())
        .expect("the server's secret");
    giftlist::auth::jwt::Tokens::new(&secret, ttl)
}

/// A token for `user` from the server itself.
pub fn token_for(server: &TestServer, user: &str) -> String {
    server
        .state
        .service
        .tokens
        .issue(&giftlist::model::UserId(user.to_owned()))
        .token
}

/// The topic of the family's list.
pub fn list_topic(family: &Family) -> String {
    format!("gift-list:{}", family.list_id)
}

/// A client that behaves like a browser on the app's pages: a cookie jar,
/// and `Origin` on every request.
pub struct Browser {
    pub http: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    base: String,
    origin: String,
}

/// A response's status and JSON body (`Null` when there is none).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The error code of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> serde_json::Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self.body
    }

    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> serde_json::Value {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected answer: {}",
            self.body
        );
        let message = self.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !message.is_empty(),
            "an error needs a message: {}",
            self.body
        );
        self.body
    }
}

/// Sends `request` and reads its [`Answer`].
pub async fn call(request: reqwest::RequestBuilder) -> Answer {
    answer(request.send().await.unwrap()).await
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
    };
    Answer {
        status,
        body,
        headers,
    }
}

impl Browser {
    pub fn new(server: &TestServer) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Browser {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .build()
                .unwrap(),
            jar,
            base: server.url("/api/v1"),
            origin: server.origin(),
        }
    }

    /// The `Cookie` header this browser would send to the server.
    pub fn cookie_header(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url: reqwest::Url = self.origin.parse().unwrap();
        self.jar
            .cookies(&url)
            .map(|value| value.to_str().unwrap().to_owned())
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.base, path))
            .header("origin", &self.origin)
    }

    pub async fn get(&self, path: &str) -> Answer {
        answer(
            self.request(reqwest::Method::GET, path)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Answer {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> Answer {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Registers (and so logs in) a new account; returns the user.
    pub async fn register(&self, name: &str) -> serde_json::Value {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let email = format!(
            "{}-{}@example.org",
            name.to_lowercase(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let body = self
            .post(
                "/auth/register",
                serde_json::json!({ "email": email, "name": name, "password": "correct horse battery" }),
            )
            .await
            .expect(201);
        body["user"].clone()
    }
}

/// A family with an admin, a second member, and a list for a third member
/// (the recipient).
pub struct Family {
    pub server: TestServer,
    pub admin: Browser,
    pub admin_id: String,
    pub member: Browser,
    pub member_id: String,
    pub recipient: Browser,
    pub recipient_id: String,
    pub family_id: String,
    pub list_id: String,
}

pub async fn family(db: Db) -> Family {
    family_on(TestServer::start(db).await).await
}

/// Two instances on one fresh PostgreSQL database, sharing a token
/// secret: a [`family`] on the first, and the second server.
pub async fn family_on_two_instances() -> (Family, TestServer) {
    let secret = "s".repeat(48);
    let fresh = FreshDb::new(Db::Postgres).await;
    let mut settings = fresh.settings();
    settings.jwt_secret = Some(secret.clone());
    let second_db = fresh.same_database();
    let mut second_settings = second_db.settings();
    second_settings.jwt_secret = Some(secret);
    let f = family_on(TestServer::start_with(fresh, settings).await).await;
    let other = TestServer::start_with(second_db, second_settings).await;
    (f, other)
}

/// [`family`] on a server already started (with its own settings).
pub async fn family_on(server: TestServer) -> Family {
    let admin = server.browser();
    let admin_id = admin.register("Alice").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let family_id = admin
        .post("/families", serde_json::json!({ "name": "The Smiths" }))
        .await
        .expect(201)["family"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let code = admin
        .post(
            &format!("/families/{family_id}/invites"),
            serde_json::json!(null),
        )
        .await
        .expect(201)["code"]
        .as_str()
        .unwrap()
        .to_string();
    let member = server.browser();
    let member_id = member.register("Bob").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    member
        .post(&format!("/invites/{code}/accept"), serde_json::json!(null))
        .await
        .expect(200);
    let recipient = server.browser();
    let recipient_id = recipient.register("Carol").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    recipient
        .post(&format!("/invites/{code}/accept"), serde_json::json!(null))
        .await
        .expect(200);
    let list_id = admin
        .post(
            &format!("/families/{family_id}/lists"),
            serde_json::json!({ "title": "Carol's birthday", "recipient_user_id": recipient_id }),
        )
        .await
        .expect(201)["list"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    Family {
        server,
        admin,
        admin_id,
        member,
        member_id,
        recipient,
        recipient_id,
        family_id,
        list_id,
    }
}

impl Family {
    /// `by` claims item `id` with `status` (`reserved` or `purchased`).
    pub async fn claim(&self, by: &Browser, id: &str, status: &str) {
        by.post(
            &format!("/items/{id}/claim"),
            serde_json::json!({ "status": status }),
        )
        .await
        .expect(200);
    }

    pub async fn add_item(&self, by: &Browser, title: &str) -> serde_json::Value {
        by.post(
            &format!("/lists/{}/items", self.list_id),
            serde_json::json!({ "title": title }),
        )
        .await
        .expect(201)["item"]
            .clone()
    }
}

impl Family {
    /// Makes a list in the family as `by`; returns its id.
    pub async fn add_list(&self, by: &Browser, body: serde_json::Value) -> String {
        by.post(&format!("/families/{}/lists", self.family_id), body)
            .await
            .expect(201)["list"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `count` more members, registered at once as "{prefix}0", "{prefix}1"...
    /// and joined through one invite (for races between many people).
    pub async fn more_members(&self, prefix: &str, count: usize) -> Vec<Browser> {
        let code = self.invite_code().await;
        futures::future::join_all((0..count).map(|n| {
            let browser = self.server.browser();
            let (code, name) = (code.clone(), format!("{prefix}{n}"));
            async move {
                browser.register(&name).await;
                browser
                    .post(&format!("/invites/{code}/accept"), serde_json::json!(null))
                    .await
                    .expect(200);
                browser
            }
        }))
        .await
    }

    /// A new invite code of the family, made by its admin.
    pub async fn invite_code(&self) -> String {
        self.admin
            .post(
                &format!("/families/{}/invites", self.family_id),
                serde_json::json!(null),
            )
            .await
            .expect(201)["code"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// Appends `count` bare `UPDATED` events to one stream straight into the
/// outbox, in one transaction (for tests of replay limits and pruning).
pub async fn append_events(
    server: &TestServer,
    topic: &str,
    audience: giftlist::store::outbox::Audience,
    count: usize,
) {
    use giftlist::store::outbox;
    let mut tx = server.state.store.begin_write().await.unwrap();
    for _ in 0..count {
        outbox::append(
            &mut tx,
            outbox::NewEvent {
                topic,
                audience,
                event: "UPDATED",
                entity_id: "l_x",
                payload: "{}",
                user_id: None,
                tenant_id: None,
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}
