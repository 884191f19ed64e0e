//! PostgreSQL restarting under two running instances: while it is down,
//! writes fail with a clear 503 and `/readyz` says so; when it is back,
//! every instance recovers by itself (its pool and its change listener),
//! and a live client gets what it missed, in order, or `resync`.
//!
//! The test runs its own cluster (`initdb` in a temporary folder, on a free
//! port, as the `postgres` user), never the machine's shared server.
#![cfg(feature = "ssr")]

mod common;

use std::{
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};

use common::{family_on, ws, FreshDb, TestServer};
use giftlist::config::DatabaseUrl;
use serde_json::{json, Value};

/// A PostgreSQL cluster of the test's own.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    /// The server's programs (Debian keeps them by major version).
    fn program(name: &str) -> PathBuf {
        let versions = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL is installed");
        let mut found: Vec<PathBuf> = versions
            .filter_map(|entry| Some(entry.ok()?.path().join("bin").join(name)))
            .filter(|path| path.is_file())
            .collect();
        found.sort();
        found
            .pop()
            .unwrap_or_else(|| panic!("no {name} under /usr/lib/postgresql"))
    }

    /// Runs a server program as `postgres` (it refuses to run as root).
    fn run(&self, program: &str, args: &[&str]) {
        let status = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(Self::program(program))
            .args(args)
            .current_dir(self.dir.path())
            .status()
            .expect("runuser");
        assert!(status.success(), "{program} {args:?} failed");
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn new() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        Command::new("chown")
            .args(["postgres", &dir.path().display().to_string()])
            .status()
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster { dir, port };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.start();
        cluster
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(Self::program("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .status();
    }
}

async fn instance(cluster: &Cluster, secret: &str) -> TestServer {
    let db = FreshDb::at(DatabaseUrl::parse(&cluster.url()).unwrap());
    let mut settings = db.settings();
    settings.jwt_secret = Some(secret.to_owned());
    TestServer::start_with(db, settings).await
}

/// Polls `path` on `server` until it answers `status`.
async fn until(server: &TestServer, path: &str, status: u16, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let answer = reqwest::get(server.url(path)).await.unwrap();
        let now = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        if now == status {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{path} stayed {now} ({body}), not {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarting_under_two_instances() {
    let cluster = Cluster::new();
    let secret = "r".repeat(48);
    let a = instance(&cluster, &secret).await;
    let b = instance(&cluster, &secret).await;
    let f = family_on(a).await;
    let topic = common::list_topic(&f);
    // The member follows the list on instance b; the admin writes on a.
    let mut follower = ws::open_as(&b, &f.member_id).await;
    follower.subscribe(&[&topic], json!({}), "s1").await;
    let first = f.add_item(&f.admin, "Kite").await;
    let seen = ws::seq(&follower.events(1).await[0]);

    cluster.stop();
    // A browser's write (its session cannot be read) and a script's (a
    // token, no session: the write itself finds no database), both 503.
    let started = Instant::now();
    let body = f
        .admin
        .post(
            &format!("/lists/{}/items", f.list_id),
            json!({ "title": "Lost?" }),
        )
        .await
        .expect_error(503, "unavailable");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("database"));
    let token = common::token_for(&f.server, &f.admin_id);
    let scripted = common::call(
        reqwest::Client::new()
            .post(f.server.url(&format!("/api/v1/lists/{}/items", f.list_id)))
            .bearer_auth(token)
            .json(&json!({ "title": "Lost too?" })),
    )
    .await;
    assert!(scripted.headers.contains_key("retry-after"));
    scripted.expect_error(503, "unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "two writes waited {:?} to be refused",
        started.elapsed()
    );
    for server in [&f.server, &b] {
        let body = until(server, "/readyz", 503, Duration::from_secs(10)).await;
        assert_eq!(body["database"], false, "{body}");
        assert_eq!(
            reqwest::get(server.url("/healthz")).await.unwrap().status(),
            200
        );
    }

    cluster.start();
    for server in [&f.server, &b] {
        until(server, "/readyz", 200, Duration::from_secs(20)).await;
    }
    let after = f.add_item(&f.admin, "Scarf").await;
    f.admin
        .patch(
            &format!("/items/{}", first["id"].as_str().unwrap()),
            json!({ "version": first["version"], "title": "Red kite" }),
        )
        .await
        .expect(200);
    // The follower's socket lived through it: the next events, in order,
    // with nothing silently skipped (a resync would be honest too).
    let mut expected = seen + 1;
    let deadline = Instant::now() + Duration::from_secs(10);
    while expected <= seen + 2 {
        assert!(Instant::now() < deadline, "stuck: {:?}", follower.log);
        let frame = follower.frame().await;
        match frame["type"].as_str() {
            Some("event") => {
                assert_eq!(ws::seq(&frame), expected, "{:?}", follower.log);
                expected += 1;
            }
            Some("resync") => break,
            _ => {}
        }
    }
    assert_eq!(after["title"], "Scarf");
    f.server.stop().await;
    b.stop().await;
}
