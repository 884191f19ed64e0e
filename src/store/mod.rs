//! The database: opening it, migrating it, and handing out connections and
//! write transactions.
//!
//! One query set serves both backends through sqlx's `Any` driver: the SQL is
//! written once in the dialect SQLite and PostgreSQL share (`$1` parameters,
//! `ON CONFLICT`, `RETURNING`), and columns use only the types `Any` maps on
//! both (BIGINT, TEXT). Only the migrations differ, one folder per backend.
//!
//! SQLite needs care that sqlx does not take for it: the file is put in WAL
//! mode (readers never block the writer), every connection waits on a busy
//! lock instead of failing at once, and write transactions start with
//! `BEGIN IMMEDIATE`, which takes the write lock up front. A plain `BEGIN`
//! that reads first and writes later cannot upgrade its lock when another
//! connection committed in between, and fails with "database is locked"
//! whatever the busy timeout. Writes also go through a pool of one
//! connection, so writers in this process queue fairly in the pool instead
//! of polling SQLite's lock; `BEGIN IMMEDIATE` still guards against another
//! process on the same file.

pub mod accounts;
pub mod families;
pub mod lists;
pub mod notices;
pub mod outbox;
pub mod pictures;
pub mod shares;

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    any::{AnyPoolOptions, AnyRow},
    migrate::Migrator,
    sqlite::{SqliteConnectOptions, SqliteJournalMode},
    Any, AnyPool, ConnectOptions, Connection, Executor, Transaction,
};
use tracing::{info, instrument};

use crate::{
    config::{Backend, DatabaseUrl},
    error::StartError,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Set on every pooled SQLite connection (the URL that `Any` parses cannot
/// carry them). The busy timeout matches `SQLITE_BUSY_TIMEOUT`; `NORMAL`
/// sync is safe in WAL mode: a crash of the process loses nothing, a power
/// cut at most the last commits.
const SQLITE_CONNECTION_PRAGMAS: &str =
    "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// How long opening the database may take before start-up fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request waits for a PostgreSQL connection (also at start):
/// past it, the database counts as unreachable and the request gets 503
/// `unavailable` rather than hanging while the database restarts.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A write transaction: commit it, or drop it to roll back.
pub type WriteTx = Transaction<'static, Any>;

/// Handle to the database, cheap to clone (the pools are shared).
#[derive(Clone, Debug)]
pub struct Store {
    /// Reads, and on PostgreSQL everything.
    pool: AnyPool,
    /// Write transactions. On SQLite a pool of one connection: see the
    /// module docs. On PostgreSQL the same pool as `pool`.
    writer: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens the database, creating the SQLite file if needed, and applies
    /// pending migrations.
    #[instrument(skip_all, fields(backend = ?url.backend()))]
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StartError> {
        sqlx::any::install_default_drivers();
        let store = match url.backend() {
            Backend::Sqlite => Self::open_sqlite(url.expose()).await?,
            Backend::Postgres => Self::open_postgres(url.expose()).await?,
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_sqlite(url: &str) -> Result<Self, StartError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| StartError::Config(format!("DATABASE_URL: {}", one_line(&err))))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|source| StartError::DataDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        // Creates the file and switches it to WAL, which the file keeps.
        options
            .connect()
            .await
            .map_err(database_error)?
            .close()
            .await
            .map_err(database_error)?;

        let any_url = options.to_url_lossy().to_string();
        let pool = sqlite_pool(8)
            .connect(&any_url)
            .await
            .map_err(database_error)?;
        let writer = sqlite_pool(1)
            .connect(&any_url)
            .await
            .map_err(database_error)?;
        Ok(Self {
            pool,
            writer,
            backend: Backend::Sqlite,
        })
    }

    async fn open_postgres(url: &str) -> Result<Self, StartError> {
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(database_error)?;
        Ok(Self {
            writer: pool.clone(),
            pool,
            backend: Backend::Postgres,
        })
    }

    async fn migrate(&self) -> Result<(), StartError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.writer)
            .await
            .map_err(|err| StartError::Migration(one_line(&err)))?;
        info!(
            migrations = migrator.iter().count(),
            "database schema is up to date"
        );
        Ok(())
    }

    /// How many of this build's migrations the database at `url` still
    /// lacks, looked at without changing anything (`giftlist check-config`).
    /// `Ok(None)`: a SQLite file that does not exist yet.
    pub async fn pending_migrations(url: &DatabaseUrl) -> Result<Option<usize>, StartError> {
        sqlx::any::install_default_drivers();
        let migrator = match url.backend() {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url.expose()).map_err(|err| {
                    StartError::Config(format!("DATABASE_URL: {}", one_line(&err)))
                })?;
                if !options.get_filename().exists() {
                    return Ok(None);
                }
                &SQLITE_MIGRATIONS
            }
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect(url.expose())
            .await
            .map_err(database_error)?;
        // A database no server has started on yet has no table of them.
        let applied: Vec<i64> =
            sqlx::query_scalar("select version from _sqlx_migrations where success")
                .fetch_all(&pool)
                .await
                .unwrap_or_default();
        pool.close().await;
        Ok(Some(
            migrator
                .iter()
                .filter(|m| !applied.contains(&m.version))
                .count(),
        ))
    }

    /// Writes a consistent copy of the SQLite database at `url` to
    /// `target` while servers may be using it (`giftlist backup`).
    ///
    /// `VACUUM INTO` rather than the C backup API (which sqlx does not
    /// expose): it reads the database in one read transaction, so the copy
    /// is one moment's state, lets writers go on meanwhile (WAL), needs no
    /// unsafe code, and leaves a compact file. It refuses to overwrite
    /// `target`.
    pub async fn backup_sqlite(url: &DatabaseUrl, target: &Path) -> Result<u64, StartError> {
        if url.backend() != Backend::Sqlite {
            return Err(StartError::Config(
                "giftlist backup copies SQLite databases; for PostgreSQL use pg_dump".into(),
            ));
        }
        let options = SqliteConnectOptions::from_str(url.expose())
            .map_err(|err| StartError::Config(format!("DATABASE_URL: {}", one_line(&err))))?
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        if !options.get_filename().exists() {
            return Err(StartError::Database(format!(
                "{} does not exist",
                options.get_filename().display()
            )));
        }
        if target.exists() {
            return Err(StartError::Config(format!(
                "{} exists already; give a new file",
                target.display()
            )));
        }
        let mut conn = options.connect().await.map_err(database_error)?;
        sqlx::query("VACUUM INTO $1")
            .bind(target.to_string_lossy().into_owned())
            .execute(&mut conn)
            .await
            .map_err(|err| StartError::Database(format!("backup: {}", one_line(&err))))?;
        conn.close().await.map_err(database_error)?;
        std::fs::metadata(target)
            .map(|meta| meta.len())
            .map_err(|source| StartError::DataDir {
                path: target.to_path_buf(),
                source,
            })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads outside a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for single-statement writes outside a transaction (on
    /// SQLite the single writer connection, so writers queue fairly).
    pub fn writes(&self) -> &AnyPool {
        &self.writer
    }

    /// Starts a write transaction that already holds the write lock on
    /// SQLite, so it cannot fail half-way with "database is locked".
    pub async fn begin_write(&self) -> sqlx::Result<WriteTx> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
    }

    /// Answers when the database answers a query.
    pub async fn ping(&self) -> sqlx::Result<()> {
        let _: AnyRow = sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection, waiting for those in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

fn sqlite_pool(max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(CONNECT_TIMEOUT.max(SQLITE_BUSY_TIMEOUT))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(SQLITE_CONNECTION_PRAGMAS).await?;
                Ok(())
            })
        })
}

fn database_error(err: sqlx::Error) -> StartError {
    StartError::Database(one_line(&err))
}

/// Driver messages sometimes span lines; start-up errors must not.
fn one_line(err: &dyn std::fmt::Display) -> String {
    err.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
