//! The HTTP server: preparing what it needs, the axum router, request
//! logging with trace ids, and a graceful stop.
//!
//! [`run`] is all that `main` calls. Tests use the seams below it:
//! [`prepare`] then [`serve`] on a listener bound to port 0, with a
//! shutdown future of their own.

use std::{
    future::Future,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use axum::{
    body::Body,
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use leptos::prelude::*;
use leptos_axum::{file_and_error_handler, generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower::ServiceExt as _;
use tower_http::compression::CompressionLayer;
use tracing::{info, info_span, warn, Instrument};

use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

pub use crate::state::{AppState, Runtime, TraceId};

use crate::{
    api,
    app::{shell, App, OUTPUT_NAME},
    assets::{self, Bundle},
    auth::{
        client_ip::TrustedProxies,
        jwt::{Tokens, DEFAULT_TOKEN_TTL},
        limits::{AuthLimits, Rate, Rates},
        links::LinkKeys,
        origin::refuse_cross_site_writes,
        password::Passwords,
        secret::JwtSecret,
        session::{cookie_name, DbSessionStore},
    },
    config::{Backend, Settings},
    error::StartError,
    import::Importer,
    live::{self, bus::Bus, hub::Hub, pending::PendingAuth},
    mail::Mailer,
    metrics::Metrics,
    model::error::AppError,
    service::{notices::NoticeMails, Service},
    store::Store,
};

/// Checks the settings, readies the data folder and the secret, and opens
/// and migrates the database.
pub async fn prepare(settings: &Settings) -> Result<AppState, StartError> {
    settings.validate()?;
    let database = settings.database()?;
    let uses_data_dir =
        settings.jwt_secret.is_none() || settings.database_url.as_deref().is_none_or(str::is_empty);
    if uses_data_dir {
        ensure_writable_dir(&settings.data_dir)?;
    }
    let jwt_secret = JwtSecret::load(settings.jwt_secret.as_deref(), &settings.data_dir)?;
    let store = Store::open(&database).await?;
    let hub = Arc::new(Hub::new(Arc::new(Metrics::default())));
    let (given, reports) = tokio::sync::mpsc::unbounded_channel();
    hub.report_notices(given);
    tokio::spawn(crate::service::notices::forget_given(
        store.clone(),
        reports,
    ));
    let bus = Bus::start(hub, store.clone(), database.expose()).await?;
    let service = Service {
        store: store.clone(),
        passwords: Passwords::new(std::time::Duration::from_millis(settings.hash_wait_ms)),
        tokens: Arc::new(Tokens::new(&jwt_secret, DEFAULT_TOKEN_TTL)),
        limits: Arc::new(AuthLimits::new(Rates {
            per_ip: Rate {
                per_minute: settings.auth_ip_per_minute,
                burst: settings.auth_ip_burst,
            },
            per_account: Rate {
                per_minute: settings.auth_account_per_minute,
                burst: settings.auth_account_burst,
            },
            link_misses: Rate {
                per_minute: settings.link_misses_per_minute,
                burst: settings.link_misses_burst,
            },
            mails_per_address: Rate {
                per_minute: settings.reset_per_minute,
                burst: settings.reset_burst,
            },
            invite_mails: Rate {
                per_minute: settings.invite_mails_per_minute,
                burst: settings.invite_mails_burst,
            },
        })),
        mailer: Arc::new(Mailer::start(
            settings.smtp_url.as_deref(),
            &settings.mail_from,
            std::time::Duration::from_millis(settings.mail_retry_ms),
        )?),
        links: Arc::new(LinkKeys::new(&jwt_secret, &settings.public_origin())),
        bus,
        require_verified_email: settings.require_verified_email,
        notice_mails: NoticeMails {
            delay: std::time::Duration::from_secs(settings.notice_mail_delay_secs),
            every: std::time::Duration::from_secs(settings.notice_digest_every_secs),
        },
        importer: Arc::new(Importer::new(
            settings.fetch_allow_private,
            settings.fetches_per_minute,
        )?),
    };

    // The bundle's hashed names (src/assets.rs), given to Leptos as an
    // absolute path: it reads the file for the pages' script tags.
    let bundle = Bundle::read(&settings.site_root).map_err(StartError::Config)?;
    let leptos_options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(settings.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(settings.site_addr)
        .reload_port(settings.reload_port)
        .hash_files(bundle.hash_file.is_some())
        .hash_file(
            bundle
                .hash_file
                .as_ref()
                .map_or("hash.txt".into(), |file| file.to_string_lossy().into()),
        )
        .build();

    Ok(AppState {
        leptos_options,
        store,
        service,
        runtime: Arc::new(Runtime {
            allowed_origins: settings.allowed_origins()?,
            secure_cookies: settings.secure_cookies(),
            live: settings.live_limits(),
            cookie_name: cookie_name(settings.secure_cookies()),
            metrics_token: settings
                .metrics_token
                .clone()
                .filter(|token| !token.trim().is_empty()),
            proxies: TrustedProxies::parse(&settings.trusted_proxies)?,
            pending_auth: Arc::new(PendingAuth::new(
                settings.ws_pending_auth_max,
                settings.ws_pending_auth_per_ip,
            )),
            header_timeout: std::time::Duration::from_secs(settings.header_timeout_secs),
            outbox_retention: std::time::Duration::from_secs(
                u64::from(settings.outbox_retention_days) * 24 * 3600,
            ),
            instance: settings.instance_header()?,
        }),
    })
}

/// Creates `dir` if needed and proves it writable, so a bad data folder is
/// reported at start in one line rather than at the first write.
fn ensure_writable_dir(dir: &Path) -> Result<(), StartError> {
    let fail = |source| StartError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}

/// Sessions idle this long expire.
const SESSION_IDLE_DAYS: i64 = 30;

/// The whole application as one axum router.
///
/// Layers, outermost first: the instance's name, compression, request
/// logging (with the trace id), the cross-site write check, the server
/// functions' body limit and error statuses, then sessions.
///
/// Compression (brotli or gzip, as `Accept-Encoding` asks; identity for
/// anything else) covers pages, JSON, scripts, styles and wasm; tower-http
/// leaves out what must not be: Server-Sent Events (each event must leave
/// at once), pictures, ranges, what is already compressed (the build's
/// `.br` and `.gz` files) and bodies under 32 bytes, which includes the
/// WebSocket's `101` answer.
pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let options = state.leptos_options.clone();
    let site_root = PathBuf::from(options.site_root.as_ref());
    // Read again here (prepare checked it) so a router can be made from any
    // state; it is a few bytes.
    let bundle = Bundle::read(&site_root).unwrap_or_else(|_| Bundle::plain());
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.store.clone()))
        .with_name(state.runtime.cookie_name)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.runtime.secure_cookies)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(
            SESSION_IDLE_DAYS,
        )));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/ws", get(live::socket::upgrade))
        .route("/events", get(live::sse::events))
        .route(
            &format!("{}/{{code}}", crate::ui::lang::LANG_PATH),
            get(crate::ui::server::set_language),
        )
        .route("/g/{token}", get(api::shares::manage_link))
        .nest("/api/v1", api::router())
        .merge(api::pictures::page_routes())
        .merge(assets::routes(&site_root, &bundle))
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(private_link_headers))
        // Outside `private_link_headers`: only what says nothing of its own
        // caching gets `no-cache`, never a secret link's page.
        .layer(middleware::from_fn(assets::revalidate_by_default))
        .layer(sessions)
        .layer(middleware::from_fn(crate::ui::server::server_fn_envelope))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_cross_site_writes,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(state.clone(), name_instance))
        .with_state(state)
}

/// Share pages (`/s/{token}`), guests' links (`/g/{token}`) and reset
/// links (`/reset/{token}`) carry their token in the address: it must not
/// leak to the sites they link to (`Referrer-Policy: no-referrer`), nor be
/// kept by a shared cache.
async fn private_link_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let private = ["/s/", "/g/", "/reset/", "/confirm-email/"]
        .iter()
        .any(|prefix| path.starts_with(prefix));
    let mut response = next.run(request).await;
    if private {
        let headers = response.headers_mut();
        headers.insert(
            header::REFERRER_POLICY,
            axum::http::HeaderValue::from_static("no-referrer"),
        );
        // A guest's pictures say how long they may be kept (privately).
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(
                header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("private, no-store"),
            );
        }
    }
    response
}

/// How often the housekeeping runs.
const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// The pages' routes, worked out once per process. Working them out runs
/// the app with resource loading suppressed process-wide (leptos_server's
/// `SuppressResourceLoad`): a page that another server in the same process
/// rendered meanwhile would wait for ever on its resources (leptos issue
/// 4773). The tests run many servers in one process; once per process,
/// before any server serves, nothing renders meanwhile.
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Expired sessions, old events and idle rate-limit buckets are cleared
/// every hour, until the process ends (see [`Service::housekeeping`]).
fn spawn_housekeeping(
    service: Service,
    retention: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
        loop {
            every.tick().await;
            service.housekeeping(retention).await;
        }
    })
}

/// Claimers' missed notices go out by mail on their own, shorter timer (a
/// digest is due a few minutes after its first notice), until the process
/// ends (see [`Service::send_notice_digests`]).
fn spawn_notice_digests(service: Service) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(service.notice_mails.check_every());
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match service
                .send_notice_digests(chrono::Utc::now().timestamp())
                .await
            {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "queued notice digest mails"),
                Err(err) => {
                    tracing::warn!(code = err.code.as_str(), "could not send notice digests")
                }
            }
        }
    })
}

/// Serves on `listener` until `shutdown` completes, then lets requests in
/// flight finish for at most `grace` before returning.
///
/// The accept loop is ours rather than `axum::serve`'s so that every
/// connection gets a header-read timeout (hyper needs a timer for it, which
/// `axum::serve` does not give it) and carries its peer address for the
/// per-address limits.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: std::time::Duration,
) -> Result<(), StartError> {
    let store = state.store.clone();
    let hub = state.service.bus.hub().clone();
    let housekeeping = spawn_housekeeping(state.service.clone(), state.runtime.outbox_retention);
    let digests = spawn_notice_digests(state.service.clone());
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.runtime.header_timeout);
    let app = router(state);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    warn!(cause = %err, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        tune_connection(&tcp);
        let service =
            app.clone()
                .map_request(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request.map(Body::new)
                });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(tcp), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(cause = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    info!(
        grace_secs = grace.as_secs_f32(),
        "shutting down: finishing requests in flight"
    );
    hub.close_all();
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        warn!("requests still running after the grace period; stopping anyway");
    }
    housekeeping.abort();
    digests.abort();
    store.close().await;
    Ok(())
}

/// Kernel send buffer per connection. Linux would grow it to 4 MiB for a
/// reader that falls behind; ten thousand live sockets must not be allowed
/// that much. Still ample for a page's assets over a slow link.
const SEND_BUFFER_BYTES: usize = 256 * 1024;

/// A connection whose sent data stays unacknowledged, or unsent because
/// the peer's window is shut, this long is dropped by the kernel: a client
/// that stopped reading cannot hold a connection open for ever.
const DEAD_PEER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Every accepted connection: no Nagle delay (live frames are small and
/// must go at once), a bounded send buffer, so a reader that stops
/// reading fills its own queue and is closed (4429) instead of parking
/// megabytes in the kernel, and a limit on how long such a reader may
/// keep the connection at all.
fn tune_connection(tcp: &tokio::net::TcpStream) {
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::debug!(cause = %err, "cannot set TCP_NODELAY");
    }
    if let Err(err) = socket2::SockRef::from(tcp).set_send_buffer_size(SEND_BUFFER_BYTES) {
        tracing::debug!(cause = %err, "cannot set the send buffer size");
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(err) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(DEAD_PEER_TIMEOUT)) {
        tracing::debug!(cause = %err, "cannot set TCP_USER_TIMEOUT");
    }
}

/// Everything `main` does: prepare, listen on the configured address, and
/// serve until SIGTERM or Ctrl-C.
pub async fn run(settings: Settings) -> Result<(), StartError> {
    let state = prepare(&settings).await?;
    let stop = stop_signal();
    let addr = settings.site_addr;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let backend = match state.store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    info!(%addr, backend, public_origin = %settings.public_origin(), "giftlist is listening");
    serve(listener, state, stop, settings.shutdown_timeout()).await?;
    info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this
/// is called, before the port is bound: a SIGTERM sent as soon as the port
/// answers (a supervisor, a test) still stops the server gracefully instead
/// of killing it.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        async fn wait(signal: std::io::Result<Signal>, name: &'static str) {
            match signal {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(err) => {
                    warn!(cause = %err, signal = name, "cannot listen for the signal");
                    std::future::pending::<()>().await;
                }
            }
        }
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            tokio::select! {
                () = wait(terminate, "SIGTERM") => {},
                () = wait(interrupt, "SIGINT") => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            warn!(cause = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}

/// `GET /metrics`: the Prometheus text format, for the holder of
/// `GIFTLIST_METRICS_TOKEN` only. Its counters move when people act
/// (claims included), so nobody else may watch them; without a token set
/// the route does not exist (404).
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = &state.runtime.metrics_token else {
        return AppError::not_found("page").into_response();
    };
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if !crate::auth::secret::same_secret(offered.trim(), expected) {
        return AppError::unauthorized("send Authorization: Bearer <GIFTLIST_METRICS_TOKEN>")
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.service.bus.hub().metrics().render(),
    )
        .into_response()
}

/// `GET /healthz`: liveness. 200 while the process serves requests at
/// all; says nothing about the database (see `/readyz`), so a supervisor
/// does not restart an instance that only waits for its database.
async fn healthz() -> Response {
    Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: readiness, for a load balancer. 200 while the database
/// answers and (on PostgreSQL) the change listener is connected; else 503
/// saying which is missing, so the proxy sends requests elsewhere: an
/// instance without its listener would serve pages that never go live.
async fn readyz(State(state): State<AppState>) -> Response {
    // A proxy's health check waits a second or two: so does this.
    let ping = tokio::time::timeout(std::time::Duration::from_secs(1), state.store.ping());
    let database = match ping.await {
        Ok(Ok(())) => true,
        Ok(Err(err)) => {
            warn!(cause = %err, "readiness: the database does not answer");
            false
        }
        Err(_) => {
            warn!("readiness: the database did not answer within a second");
            false
        }
    };
    let listener = state.service.bus.is_listening();
    let body = serde_json::json!({
        "status": if database && listener { "ready" } else { "unavailable" },
        "database": database,
        "listener": listener,
    });
    let status = if database && listener {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Names this instance on every answer (`GIFTLIST_INSTANCE_NAME`).
async fn name_instance(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(name) = &state.runtime.instance {
        response
            .headers_mut()
            .insert("x-giftlist-instance", name.clone());
    }
    response
}

/// Logs one line per request: method, matched route, status and latency,
/// inside a span carrying the trace id. Query strings are never logged:
/// they may hold tokens.
async fn log_request(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let trace_id = TraceId::from_headers(request.headers());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let path = route.is_none().then(|| request.uri().path().to_owned());
    let span = info_span!("request", trace_id = %trace_id.0);
    request.extensions_mut().insert(trace_id);

    async move {
        let response = next.run(request).await;
        state.service.bus.hub().metrics().observe_http(
            method.as_str(),
            route.as_deref().unwrap_or("fallback"),
            started.elapsed(),
        );
        info!(
            %method,
            route = route.as_deref().unwrap_or("fallback"),
            path,
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
        response
    }
    .instrument(span)
    .await
}
