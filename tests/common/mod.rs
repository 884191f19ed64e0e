//! Test harness: a real Giftlist server on 127.0.0.1:0 with a fresh
//! database, SQLite in a temporary folder or a new PostgreSQL database.
#![allow(dead_code)] // each test file uses a different part

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

    pub async fn start_with(db: FreshDb, settings: Settings) -> Self {
        let state = server::prepare(&settings).await.expect("server prepares");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
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
