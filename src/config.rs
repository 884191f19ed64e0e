//! Every setting of the server, as a command-line flag and an environment
//! variable (read from `.env` too). `giftlist --help` prints this list;
//! `.env.example` shows each with its default.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Parser, ValueEnum};
use url::Url;

use crate::error::StartError;

/// Giftlist: shared family gift lists that update live.
///
/// Every option can also be given as the environment variable shown beside
/// it, or in a `.env` file in the working directory.
#[derive(Parser, Clone)]
#[command(name = "giftlist", version, about, long_about = None)]
#[command(
    after_help = "Logging: RUST_LOG sets the filter (default: info), e.g. RUST_LOG=giftlist=debug,info."
)]
pub struct Settings {
    /// Database: sqlite://PATH or postgres://USER@HOST:PORT/DB.
    /// Default: sqlite://<data dir>/giftlist.db.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Folder for the SQLite file and generated secrets; created if missing.
    #[arg(long, env = "GIFTLIST_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Address and port to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// Folder of the built browser assets (the wasm bundle, CSS, public files).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// The URL people open, e.g. https://gifts.example.org. Its origin is
    /// allowed for cookie-authenticated writes and socket upgrades, and an
    /// https URL makes cookies Secure. Default: http://<site addr>.
    #[arg(long, env = "GIFTLIST_PUBLIC_URL")]
    pub public_url: Option<Url>,

    /// More allowed origins, comma-separated (scheme://host[:port]).
    #[arg(long, env = "GIFTLIST_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Secret that signs tokens: at least 32 bytes. Default: generated on
    /// first start and kept in the data folder. Several instances behind
    /// one load balancer must share it.
    #[arg(long, env = "GIFTLIST_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Live-socket heartbeat in milliseconds; a socket silent for twice this is closed.
    #[arg(long, env = "GIFTLIST_HEARTBEAT_MS", default_value_t = 30_000)]
    pub heartbeat_ms: u64,

    /// Bytes of frames a live connection may have waiting to be sent; a
    /// client that falls further behind is closed with 4429.
    #[arg(long, env = "GIFTLIST_WS_QUEUE_BYTES", default_value_t = 1 << 20)]
    pub ws_queue_bytes: usize,

    /// Largest client WebSocket frame in bytes; bigger closes with 1009.
    #[arg(long, env = "GIFTLIST_WS_MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    pub ws_max_frame_bytes: usize,

    /// Live sockets one user may hold at once; one more is closed with 4429.
    #[arg(long, env = "GIFTLIST_WS_MAX_SOCKETS_PER_USER", default_value_t = 16)]
    pub ws_max_sockets_per_user: usize,

    /// Topics one socket may hold at once.
    #[arg(long, env = "GIFTLIST_WS_MAX_TOPICS", default_value_t = 128)]
    pub ws_max_topics: usize,

    /// Client frames per minute a socket may send on average ...
    #[arg(long, env = "GIFTLIST_WS_FRAMES_PER_MINUTE", default_value_t = 100)]
    pub ws_frames_per_minute: u32,

    /// ... and in one burst.
    #[arg(long, env = "GIFTLIST_WS_FRAME_BURST", default_value_t = 20)]
    pub ws_frame_burst: u32,

    /// Keep-alive comment interval on /events, in milliseconds.
    #[arg(long, env = "GIFTLIST_SSE_KEEPALIVE_MS", default_value_t = 15_000)]
    pub sse_keepalive_ms: u64,

    /// Bearer token that `/metrics` requires. Unset: `/metrics` answers 404,
    /// so nobody can watch activity counters without the operator's word.
    #[arg(long, env = "GIFTLIST_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Reverse proxies whose `X-Forwarded-For` is believed, comma-separated
    /// addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8). Default: none,
    /// so the client address is the TCP peer.
    #[arg(long, env = "GIFTLIST_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// Log-in, token and register attempts one client address may make per
    /// minute on average ...
    #[arg(long, env = "GIFTLIST_AUTH_IP_PER_MINUTE", default_value_t = 60)]
    pub auth_ip_per_minute: u32,

    /// ... and in one burst.
    #[arg(long, env = "GIFTLIST_AUTH_IP_BURST", default_value_t = 60)]
    pub auth_ip_burst: u32,

    /// Log-in and token attempts per account (by email) per minute ...
    #[arg(long, env = "GIFTLIST_AUTH_ACCOUNT_PER_MINUTE", default_value_t = 6)]
    pub auth_account_per_minute: u32,

    /// ... and in one burst.
    #[arg(long, env = "GIFTLIST_AUTH_ACCOUNT_BURST", default_value_t = 10)]
    pub auth_account_burst: u32,

    /// Where mail goes: smtps://user:pass@host:465 (implicit TLS),
    /// smtp://user:pass@host:587?tls=required (STARTTLS), or plain smtp://
    /// for a relay on this machine. Unset: mails are written to the log.
    #[arg(long, env = "GIFTLIST_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of Giftlist's mails.
    #[arg(
        long,
        env = "GIFTLIST_MAIL_FROM",
        default_value = "Giftlist <giftlist@localhost>"
    )]
    pub mail_from: String,

    /// The first pause before a failed mail is tried again, in
    /// milliseconds (it doubles; four attempts in all).
    #[arg(long, env = "GIFTLIST_MAIL_RETRY_MS", default_value_t = 5_000)]
    pub mail_retry_ms: u64,

    /// Whether link import may read pages on private network addresses
    /// (loopback, 10.x, 192.168.x, ...). Off: a pasted link must not reach
    /// into the server's own network. Tests turn it on to serve their own
    /// pages.
    #[arg(long, env = "GIFTLIST_FETCH_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub fetch_allow_private: bool,

    /// Shop pages one person may have read per minute.
    #[arg(long, env = "GIFTLIST_FETCHES_PER_MINUTE", default_value_t = 20)]
    pub fetches_per_minute: u32,

    /// Seconds a claimer's notice waits for a live page of theirs before
    /// it goes into their digest mail instead ...
    #[arg(long, env = "GIFTLIST_NOTICE_MAIL_DELAY_SECS", default_value_t = 300)]
    pub notice_mail_delay_secs: u64,

    /// ... and at most one digest per person in this many seconds.
    #[arg(
        long,
        env = "GIFTLIST_NOTICE_DIGEST_EVERY_SECS",
        default_value_t = 3600
    )]
    pub notice_digest_every_secs: u64,

    /// Password-reset requests per email address per minute (per client
    /// address, the login limit applies) ...
    #[arg(long, env = "GIFTLIST_RESET_PER_MINUTE", default_value_t = 1)]
    pub reset_per_minute: u32,

    /// ... and in one burst.
    #[arg(long, env = "GIFTLIST_RESET_BURST", default_value_t = 3)]
    pub reset_burst: u32,

    /// Invites one member may mail per minute ...
    #[arg(long, env = "GIFTLIST_INVITE_MAILS_PER_MINUTE", default_value_t = 1)]
    pub invite_mails_per_minute: u32,

    /// ... and in one burst.
    #[arg(long, env = "GIFTLIST_INVITE_MAILS_BURST", default_value_t = 10)]
    pub invite_mails_burst: u32,

    /// Share and guest links that do not exist, opened from one client
    /// address per minute, before it is answered 429 ...
    #[arg(long, env = "GIFTLIST_LINK_MISSES_PER_MINUTE", default_value_t = 20)]
    pub link_misses_per_minute: u32,

    /// ... and in one burst.
    #[arg(long, env = "GIFTLIST_LINK_MISSES_BURST", default_value_t = 20)]
    pub link_misses_burst: u32,

    /// Whether an account must confirm its address (a link mailed to it)
    /// before it can join a family. Off by default: a site without mail
    /// could not let anyone in.
    #[arg(long, env = "GIFTLIST_REQUIRE_VERIFIED_EMAIL", default_value_t = false, action = clap::ArgAction::Set)]
    pub require_verified_email: bool,

    /// How long a request may wait for a password-hashing slot before it is
    /// answered 503, in milliseconds.
    #[arg(long, env = "GIFTLIST_HASH_WAIT_MS", default_value_t = 5_000)]
    pub hash_wait_ms: u64,

    /// Days that announced events are kept for catching up; older ones are
    /// pruned unless they are among the last ones a stream can replay.
    #[arg(long, env = "GIFTLIST_OUTBOX_RETENTION_DAYS", default_value_t = 30)]
    pub outbox_retention_days: u32,

    /// Seconds a client has to send a request's headers; slower ones are
    /// disconnected.
    #[arg(long, env = "GIFTLIST_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Live sockets that may wait for their `auth` frame at once, overall ...
    #[arg(long, env = "GIFTLIST_WS_PENDING_AUTH_MAX", default_value_t = 1024)]
    pub ws_pending_auth_max: usize,

    /// ... and from one client address.
    #[arg(long, env = "GIFTLIST_WS_PENDING_AUTH_PER_IP", default_value_t = 16)]
    pub ws_pending_auth_per_ip: usize,

    /// An SSE stream whose events wait this long without being written (the
    /// client stopped reading) is ended, in milliseconds.
    #[arg(long, env = "GIFTLIST_SSE_STALL_MS", default_value_t = 30_000)]
    pub sse_stall_ms: u64,

    /// Log line format.
    #[arg(long, env = "GIFTLIST_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// This instance's name, sent on every answer as `X-Giftlist-Instance`
    /// (several instances behind a proxy: which one answered). Unset: no
    /// such header.
    #[arg(long, env = "GIFTLIST_INSTANCE_NAME")]
    pub instance_name: Option<String>,

    /// Seconds that in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "GIFTLIST_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,

    /// Port of the development live-reload socket (set by `cargo leptos watch`).
    #[arg(long, env = "LEPTOS_RELOAD_PORT", default_value_t = 3001, hide = true)]
    pub reload_port: u32,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Which database the server talks to, chosen once at start from the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL whose scheme has been checked. Its `Debug` and `Display`
/// hide everything but the scheme, since the URL may hold a password.
#[derive(Clone)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
}

impl DatabaseUrl {
    /// Checks the scheme: `sqlite:` or `postgres://` (`postgresql://` too).
    pub fn parse(url: &str) -> Result<Self, StartError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StartError::Config(
                "DATABASE_URL must start with sqlite:// or postgres://".into(),
            ));
        };
        Ok(Self {
            url: url.to_owned(),
            backend,
        })
    }

    /// The SQLite file for the default database in `data_dir`.
    pub fn sqlite_in(data_dir: &std::path::Path) -> Self {
        Self {
            url: format!("sqlite://{}", data_dir.join("giftlist.db").display()),
            backend: Backend::Sqlite,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full URL, for the driver only: never log it.
    pub fn expose(&self) -> &str {
        &self.url
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?}, ..)", self.backend)
    }
}

impl Settings {
    /// The database to open: `DATABASE_URL`, else the SQLite file in the data folder.
    pub fn database(&self) -> Result<DatabaseUrl, StartError> {
        match self.database_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => DatabaseUrl::parse(url),
            _ => Ok(DatabaseUrl::sqlite_in(&self.data_dir)),
        }
    }

    /// The origin of the public URL (the default is derived from the listen address).
    pub fn public_origin(&self) -> String {
        match &self.public_url {
            Some(url) => url.origin().ascii_serialization(),
            None => format!("http://{}", self.site_addr),
        }
    }

    /// Every origin allowed for cookie-authenticated writes: the public URL's
    /// and the extra ones, normalised the way browsers send `Origin`.
    pub fn allowed_origins(&self) -> Result<Vec<String>, StartError> {
        let mut origins = vec![self.public_origin()];
        for raw in self.allowed_origins.iter().map(|o| o.trim()) {
            if raw.is_empty() {
                continue;
            }
            let url = Url::parse(raw).map_err(|_| {
                StartError::Config(format!(
                    "GIFTLIST_ALLOWED_ORIGINS: {raw:?} is not an origin like https://host:port"
                ))
            })?;
            let origin = url.origin();
            if !origin.is_tuple() {
                return Err(StartError::Config(format!(
                    "GIFTLIST_ALLOWED_ORIGINS: {raw:?} is not an http(s) origin"
                )));
            }
            origins.push(origin.ascii_serialization());
        }
        origins.dedup();
        Ok(origins)
    }

    /// Whether cookies must be `Secure`: the public URL is https.
    /// The `X-Giftlist-Instance` value, if this instance is named.
    pub fn instance_header(&self) -> Result<Option<axum::http::HeaderValue>, StartError> {
        let Some(name) = self.instance_name.as_deref().map(str::trim) else {
            return Ok(None);
        };
        if name.is_empty() {
            return Ok(None);
        }
        let valid = name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        match axum::http::HeaderValue::from_str(name) {
            Ok(value) if valid => Ok(Some(value)),
            _ => Err(StartError::Config(
                "GIFTLIST_INSTANCE_NAME must be at most 64 letters, digits, '-', '_' or '.'".into(),
            )),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|url| url.scheme() == "https")
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms)
    }

    /// The live channel's limits.
    pub fn live_limits(&self) -> crate::live::LiveLimits {
        crate::live::LiveLimits {
            heartbeat: self.heartbeat(),
            queue_bytes: self.ws_queue_bytes,
            max_frame_bytes: self.ws_max_frame_bytes,
            max_sockets_per_user: self.ws_max_sockets_per_user,
            max_topics: self.ws_max_topics,
            frames_per_minute: self.ws_frames_per_minute,
            frame_burst: self.ws_frame_burst,
            sse_keepalive: Duration::from_millis(self.sse_keepalive_ms),
            sse_stall: Duration::from_millis(self.sse_stall_ms),
        }
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    /// Checks what clap cannot: values that must agree with each other.
    pub fn validate(&self) -> Result<(), StartError> {
        if self.ws_max_frame_bytes < 1024 || self.ws_queue_bytes < self.ws_max_frame_bytes {
            return Err(StartError::Config(
                "GIFTLIST_WS_MAX_FRAME_BYTES must be at least 1024, and GIFTLIST_WS_QUEUE_BYTES at least that".into(),
            ));
        }
        if self.ws_frames_per_minute == 0 || self.ws_frame_burst == 0 || self.sse_keepalive_ms < 100
        {
            return Err(StartError::Config(
                "the frame rate and burst must be above 0, and GIFTLIST_SSE_KEEPALIVE_MS at least 100".into(),
            ));
        }
        if self.sse_stall_ms < 100 || self.header_timeout_secs == 0 || self.hash_wait_ms == 0 {
            return Err(StartError::Config(
                "GIFTLIST_SSE_STALL_MS must be at least 100, and GIFTLIST_HEADER_TIMEOUT_SECS and GIFTLIST_HASH_WAIT_MS above 0".into(),
            ));
        }
        if self.heartbeat_ms < 100 {
            return Err(StartError::Config(
                "GIFTLIST_HEARTBEAT_MS must be at least 100".into(),
            ));
        }
        if let Some(url) = &self.public_url {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(StartError::Config(
                    "GIFTLIST_PUBLIC_URL must be an http:// or https:// URL".into(),
                ));
            }
        }
        self.database()?;
        self.allowed_origins()?;
        Ok(())
    }
}

/// Hides the secret and the database URL, which may hold a password.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database", &self.database().ok())
            .field("data_dir", &self.data_dir)
            .field("site_addr", &self.site_addr)
            .field("site_root", &self.site_root)
            .field("public_url", &self.public_url.as_ref().map(Url::as_str))
            .field("allowed_origins", &self.allowed_origins)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<set>"))
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("mail_from", &self.mail_from)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<set>"),
            )
            .field("trusted_proxies", &self.trusted_proxies)
            .field("live", &self.live_limits())
            .field("log_format", &self.log_format)
            .field("shutdown_timeout_secs", &self.shutdown_timeout_secs)
            .finish()
    }
}

impl Settings {
    /// Settings for tests and tools: every default, with the given data folder.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let mut settings = Self::parse_from(["giftlist"]);
        settings.data_dir = data_dir.into();
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_scheme_is_checked() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://x.db").unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("giftlist.db").is_err());
    }

    #[test]
    fn database_url_debug_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://u:hunter22@h/db").unwrap();
        assert!(!format!("{url:?}").contains("hunter22"));
    }

    #[test]
    fn allowed_origins_are_normalised() {
        let mut settings = Settings::for_data_dir("/tmp");
        settings.public_url = Some(Url::parse("https://gifts.example.org/app/").unwrap());
        settings.allowed_origins = vec![" http://localhost:8080/ ".into(), "".into()];
        assert_eq!(
            settings.allowed_origins().unwrap(),
            ["https://gifts.example.org", "http://localhost:8080"]
        );
        settings.allowed_origins = vec!["not an origin".into()];
        assert!(settings.allowed_origins().is_err());
    }

    #[test]
    fn default_public_origin_follows_the_listen_address() {
        let settings = Settings::for_data_dir("/tmp");
        assert_eq!(settings.public_origin(), "http://127.0.0.1:3000");
        assert!(!settings.secure_cookies());
    }
}
