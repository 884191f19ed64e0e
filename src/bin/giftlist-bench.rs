//! `giftlist-bench`: load on the live channel, measured from the outside.
//!
//! Starts a release server on SQLite in a temporary folder (or targets one
//! given with `--url`), opens N sockets subscribed to one list, adds M
//! items at R per second through the JSON API, and prints commit-to-receipt
//! latency, delivered frames per second, lost, duplicated and out-of-order
//! events, and the server's resident memory per idle subscribed socket.
//!
//! Commit time is the event's `data.timestamp` (set in the change's
//! transaction, just before it commits; millisecond resolution), read
//! against this machine's clock, which the server shares.
//!
//! `--pages N` measures the pages instead: a list of N gifts, its page and
//! its family's page requested many times (time to the last byte on
//! loopback, so the server's time), their HTML raw and compressed, and the
//! browser bundle's sizes as the server sends them.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

/// Load on the live channel: N subscribed sockets, M items at R per second.
#[derive(Parser, Debug)]
#[command(name = "giftlist-bench")]
struct Args {
    /// Subscribed sockets to open.
    #[arg(long, short = 'n', default_value_t = 1000)]
    sockets: usize,
    /// Items to add.
    #[arg(long, short = 'm', default_value_t = 200)]
    items: usize,
    /// Items per second.
    #[arg(long, short = 'r', default_value_t = 20.0)]
    rate: f64,
    /// Target a running server instead of starting one (it must allow
    /// N sockets per user: GIFTLIST_WS_MAX_SOCKETS_PER_USER).
    #[arg(long)]
    url: Option<String>,
    /// The targeted server's process id, to read its memory.
    #[arg(long)]
    pid: Option<u32>,
    /// The server binary to start. Default: `giftlist` beside this one.
    #[arg(long)]
    server: Option<PathBuf>,
    /// Sockets being opened at once.
    #[arg(long, default_value_t = 200)]
    open_concurrency: usize,
    /// Seconds to wait for the last events after the last item.
    #[arg(long, default_value_t = 10)]
    drain_secs: u64,
    /// Storm mode: connections started per second (0: all at once). Paced,
    /// so it measures a given arrival rate, not one burst.
    #[arg(long, default_value_t = 0.0)]
    connect_rate: f64,
    /// Reconnect-storm mode instead of the item run: open N sockets at
    /// `--connect-rate`, drop them all at once, reopen them all at the same
    /// rate, and print the welcome latency of both waves and the server's
    /// memory per socket after the storm.
    #[arg(long)]
    storm: bool,
    /// Exit 1 unless every socket opened and stayed, every write was
    /// accepted, and every socket got every event once, in order (for
    /// scripts: the scale-out test runs it through nginx).
    #[arg(long)]
    strict: bool,
    /// Page mode instead of the live run: a list of this many gifts; prints
    /// the list page's and the family page's time and size, and the
    /// bundle's sizes.
    #[arg(long)]
    pages: Option<usize>,
    /// Page mode: requests per page (after a warm-up of a tenth as many).
    #[arg(long, default_value_t = 300)]
    requests: usize,
    /// The site folder the started server serves (a `cargo leptos build
    /// --release --precompress --split` one, for the bundle's real sizes). Default:
    /// `target/site` beside this binary's `target/<profile>`.
    #[arg(long)]
    site: Option<PathBuf>,
}

/// What one socket saw.
#[derive(Debug, Default)]
struct Seen {
    /// (seq, commit-to-receipt milliseconds), in arrival order.
    events: Vec<(i64, f64)>,
    last_at: Option<Instant>,
    closed: Option<String>,
    /// The instance that took the socket (`X-Giftlist-Instance`), if named.
    instance: Option<String>,
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    seq: Option<i64>,
    #[serde(borrow)]
    data: Option<Data<'a>>,
}

#[derive(Deserialize)]
struct Data<'a> {
    timestamp: &'a str,
}

/// The server's resident memory, in KiB, at three points.
struct Memory {
    before: Option<u64>,
    half: Option<u64>,
    idle: Option<u64>,
    second_half: usize,
}

/// A server this program started; killed when dropped.
struct Started {
    child: Child,
    dir: PathBuf,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn main() -> Result<std::process::ExitCode, Box<dyn std::error::Error>> {
    let args = Args::parse();
    let clean = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(args))?;
    Ok(if clean {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// The instance named in an answer's `X-Giftlist-Instance`.
fn instance_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get("x-giftlist-instance")?
        .to_str()
        .ok()
        .map(str::to_owned)
}

/// "a 334, b 333, c 333": how many of `names` each instance had.
fn spread<'a>(names: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for name in names.flatten() {
        *counts.entry(name).or_default() += 1;
    }
    (!counts.is_empty()).then(|| {
        counts
            .iter()
            .map(|(name, count)| format!("{name} {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// Runs the benchmark; whether the run was clean (see `--strict`; always
/// true without it).
async fn run(args: Args) -> Result<bool, Box<dyn std::error::Error>> {
    let (base, pid, _started) = match &args.url {
        Some(url) => (url.trim_end_matches('/').to_owned(), args.pid, None),
        None => {
            let started = start_server(&args)?;
            let base = format!("http://127.0.0.1:{}", started.1);
            let pid = started.0.child.id();
            (base, Some(pid), Some(started.0))
        }
    };
    let http = reqwest::Client::new();
    wait_healthy(&http, &base).await?;

    // A user, a family and a list; a token for the sockets and the writes.
    let token = account(&http, &http, &base, "Bench").await?;
    let family = post(
        &http,
        &base,
        "/api/v1/families",
        Some(&token),
        json!({ "name": "Bench" }),
    )
    .await?["family"]["id"]
        .as_str()
        .ok_or("no family")?
        .to_owned();
    let list = post(
        &http,
        &base,
        &format!("/api/v1/families/{family}/lists"),
        Some(&token),
        json!({ "title": "Bench", "recipient_name": "Someone" }),
    )
    .await?["list"]["id"]
        .as_str()
        .ok_or("no list")?
        .to_owned();
    if let Some(gifts) = args.pages {
        return pages(&args, &http, &base, &token, &family, gifts)
            .await
            .map(|()| true);
    }
    let topic = format!("gift-list:{list}");
    let ws_url = format!("{}/ws?token={token}", base.replacen("http", "ws", 1));
    if args.storm {
        return storm(&args, &ws_url, &topic, pid).await.map(|()| true);
    }

    let rss_before = pid.and_then(rss_kib);
    println!("opening {} sockets ...", args.sockets);
    let opening = Instant::now();
    let gate = Arc::new(Semaphore::new(args.open_concurrency));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let received = Arc::new(AtomicUsize::new(0));
    // Opened in two halves: the memory the second half adds is the cost of
    // one more idle subscribed socket, free of whatever the server's
    // allocator kept from start-up (an argon2 hash alone is 19 MiB).
    let halves = [args.sockets / 2, args.sockets - args.sockets / 2];
    let mut handles = Vec::with_capacity(args.sockets);
    let mut failed_to_open = 0;
    let mut rss_half = None;
    for (half, count) in halves.into_iter().enumerate() {
        let mut sockets = Vec::with_capacity(count);
        for _ in 0..count {
            let permit = gate.clone().acquire_owned().await?;
            let socket = Follow {
                url: ws_url.clone(),
                topic: topic.clone(),
                stop: stop_rx.clone(),
                received: received.clone(),
            };
            let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
            sockets.push((
                ready_rx,
                tokio::spawn(async move { socket.run(permit, ready_tx).await }),
            ));
        }
        for (ready, handle) in sockets {
            if ready.await.map(|ok| !ok).unwrap_or(true) {
                failed_to_open += 1;
            }
            handles.push(handle);
        }
        if half == 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            rss_half = pid.and_then(rss_kib);
        }
    }
    let opened = args.sockets - failed_to_open;
    println!(
        "opened {opened} subscribed sockets in {:.1} s ({failed_to_open} failed)",
        opening.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = pid.and_then(rss_kib);
    let memory = Memory {
        before: rss_before,
        half: rss_half,
        idle: rss_idle,
        second_half: halves[1],
    };

    println!("adding {} items at {}/s ...", args.items, args.rate);
    let period = Duration::from_secs_f64(1.0 / args.rate);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut writes = Vec::with_capacity(args.items);
    for n in 0..args.items {
        ticker.tick().await;
        let http = http.clone();
        let url = format!("{base}/api/v1/lists/{list}/items");
        let token = token.clone();
        writes.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({ "title": format!("item {n}") }))
                .send()
                .await
                .map(|response| (response.status().as_u16(), instance_of(response.headers())))
        }));
    }
    let mut write_failures = 0;
    let mut writers = Vec::with_capacity(args.items);
    for write in writes {
        match write.await {
            Ok(Ok((201, instance))) => writers.push(instance),
            _ => write_failures += 1,
        }
    }
    let sent_for = started.elapsed();
    // Wait until every socket has every event, or the drain time is over.
    let everything = opened * args.items;
    let deadline = Instant::now() + Duration::from_secs(args.drain_secs);
    while received.load(Ordering::Relaxed) < everything && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);
    let mut seen: Vec<Seen> = Vec::with_capacity(handles.len());
    for handle in handles {
        seen.push(handle.await.unwrap_or_default());
    }
    if let Some(spread) = spread(seen.iter().map(|s| s.instance.as_deref())) {
        println!("  sockets per instance        {spread}");
    }
    if let Some(spread) = spread(writers.iter().map(Option::as_deref)) {
        println!("  writes per instance         {spread}");
    }
    let clean = report(
        &args,
        &seen,
        opened,
        started,
        sent_for,
        write_failures,
        &memory,
    );
    Ok(clean || !args.strict)
}

/// Registers `name` through `register` (a cookie-keeping client then holds
/// the session) and returns a token for the API, asked for through `http`
/// (without the cookie: a cookie's writes must carry the site's Origin).
async fn account(
    register: &reqwest::Client,
    http: &reqwest::Client,
    base: &str,
    name: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let email = format!(
        "bench-{}-{}@example.org",
        name.to_lowercase(),
        std::process::id()
    );
    let password = "benchmark password";
    post(
        register,
        base,
        "/api/v1/auth/register",
        None,
        json!({ "email": email, "name": name, "password": password }),
    )
    .await?;
    Ok(post(
        http,
        base,
        "/api/v1/auth/token",
        None,
        json!({ "email": email, "password": password }),
    )
    .await?["token"]
        .as_str()
        .ok_or("no token")?
        .to_owned())
}

/// The site folder a started server serves.
fn site_root(args: &Args) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(site) = &args.site {
        return Ok(site.clone());
    }
    let exe = std::env::current_exe()?;
    Ok(exe
        .parent()
        .and_then(|profile| profile.parent())
        .map(|target| target.join("site"))
        .unwrap_or_else(|| PathBuf::from("target/site")))
}

/// A gift as families write them: a title, often a shop link, a price,
/// sometimes a note.
fn sample_gift(n: usize) -> Value {
    let mut gift = json!({
        "title": format!("Gift number {n}: a warm woollen scarf"),
        "priority": 1 + n % 5,
    });
    if !n.is_multiple_of(3) {
        gift["url"] = json!(format!(
            "https://shop.example.org/products/scarves/warm-wool-{n}?colour=blue"
        ));
        gift["price_cents"] = json!(1999 + n as i64 * 10);
        gift["currency"] = json!("EUR");
    }
    if n.is_multiple_of(4) {
        gift["notes"] =
            json!("Size M, anything but yellow. The one from the market last winter was perfect.");
    }
    gift
}

/// Page mode: fills a list with `gifts` gifts (a third claimed by another
/// member), then measures the list page and the family page as its maker
/// sees them (everything they may do: the heaviest page).
async fn pages(
    args: &Args,
    http: &reqwest::Client,
    base: &str,
    token: &str,
    family: &str,
    gifts: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    // The list's maker, with a session cookie like a browser's.
    let viewer = reqwest::Client::builder().cookie_store(true).build()?;
    let viewer_token = account(&viewer, http, base, "Viewer").await?;
    let code = post(
        http,
        base,
        &format!("/api/v1/families/{family}/invites"),
        Some(token),
        json!(null),
    )
    .await?["code"]
        .as_str()
        .ok_or("no invite")?
        .to_owned();
    post(
        http,
        base,
        &format!("/api/v1/invites/{code}/accept"),
        Some(&viewer_token),
        json!(null),
    )
    .await?;
    let own_list = post(
        http,
        base,
        &format!("/api/v1/families/{family}/lists"),
        Some(&viewer_token),
        json!({ "title": "Birthday", "recipient_name": "Sam" }),
    )
    .await?["list"]["id"]
        .as_str()
        .ok_or("no list")?
        .to_owned();
    println!("adding {gifts} gifts ...");
    for n in 0..gifts {
        let item = post(
            http,
            base,
            &format!("/api/v1/lists/{own_list}/items"),
            Some(&viewer_token),
            sample_gift(n),
        )
        .await?;
        if n % 3 == 1 {
            let id = item["item"]["id"].as_str().ok_or("no item")?;
            post(
                http,
                base,
                &format!("/api/v1/items/{id}/claim"),
                Some(token),
                json!({ "status": "reserved" }),
            )
            .await?;
        }
    }
    println!("requesting each page {} times ...", args.requests);
    for (name, path) in [
        (
            format!("list page, {gifts} gifts"),
            format!("/lists/{own_list}"),
        ),
        ("family page".to_owned(), format!("/families/{family}")),
    ] {
        let url = format!("{base}{path}");
        for _ in 0..args.requests / 10 {
            viewer.get(&url).send().await?.bytes().await?;
        }
        let mut times = Vec::with_capacity(args.requests);
        for _ in 0..args.requests {
            let started = Instant::now();
            let response = viewer.get(&url).send().await?;
            if !response.status().is_success() {
                return Err(format!("GET {path}: {}", response.status()).into());
            }
            response.bytes().await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let (raw, gzip, brotli) = sizes(&viewer, &url).await?;
        println!(
            "{name:<24} p50 {:.2} ms   p99 {:.2} ms   HTML {}",
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            size_line(raw, gzip, brotli)
        );
    }
    // The bundle, as the server sends it (the build's compressed copies).
    let page = viewer
        .get(format!("{base}/lists/{own_list}"))
        .send()
        .await?
        .text()
        .await?;
    for extension in ["wasm", "js", "css"] {
        let Some(name) = bundle_files(&page, extension).next() else {
            println!("{extension:<24} not linked from the page");
            continue;
        };
        let (raw, gzip, brotli) = sizes(http, &format!("{base}{name}")).await?;
        println!(
            "{:<24} {}",
            name.trim_start_matches("/pkg/"),
            size_line(raw, gzip, brotli)
        );
    }
    // What a lazily loaded page adds: the chunks the settings page links
    // for preloading (src/app.rs), beyond the list page's module.
    let settings = viewer
        .get(format!("{base}/settings"))
        .send()
        .await?
        .text()
        .await?;
    let main = bundle_files(&page, "wasm").next();
    let mut added = (0, 0, 0, 0);
    for name in bundle_files(&settings, "wasm").filter(|name| Some(name) != main.as_ref()) {
        let (raw, gzip, brotli) = sizes(http, &format!("{base}{name}")).await?;
        added = (added.0 + 1, added.1 + raw, added.2 + gzip, added.3 + brotli);
    }
    println!(
        "{:<24} {} chunk(s), {}",
        "settings page adds",
        added.0,
        size_line(added.1, added.2, added.3)
    );
    Ok(())
}

/// The `/pkg/...` files with this extension that `page` links, in order.
fn bundle_files<'a>(page: &'a str, extension: &'a str) -> impl Iterator<Item = String> + 'a {
    page.match_indices("/pkg/").filter_map(move |(at, _)| {
        let name = &page[at..];
        let name = &name[..name.find(['"', '\'', ' '])?];
        name.ends_with(&format!(".{extension}"))
            .then(|| name.to_owned())
    })
}

/// Bytes of `url`'s body as sent plain, gzip and brotli.
async fn sizes(
    http: &reqwest::Client,
    url: &str,
) -> Result<(usize, usize, usize), Box<dyn std::error::Error>> {
    let mut sizes = [0; 3];
    for (size, encoding) in sizes.iter_mut().zip(["identity", "gzip", "br"]) {
        let response = http
            .get(url)
            .header("accept-encoding", encoding)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: {}", response.status()).into());
        }
        *size = response.bytes().await?.len();
    }
    Ok((sizes[0], sizes[1], sizes[2]))
}

fn size_line(raw: usize, gzip: usize, brotli: usize) -> String {
    let kib = |bytes: usize| bytes as f64 / 1024.0;
    format!(
        "{:.1} KiB raw, {:.1} KiB gzip, {:.1} KiB brotli",
        kib(raw),
        kib(gzip),
        kib(brotli)
    )
}

/// The `q` quantile of sorted `values` (NaN for none).
fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values[((values.len() - 1) as f64 * q).round() as usize]
}

/// Starts the release server beside this binary on a free port.
fn start_server(args: &Args) -> Result<(Started, u16), Box<dyn std::error::Error>> {
    let binary = match &args.server {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("giftlist"),
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let dir = std::env::temp_dir().join(format!("giftlist-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let child = Command::new(&binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIFTLIST_DATA_DIR", &dir)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", site_root(args)?)
        .env(
            "GIFTLIST_WS_MAX_SOCKETS_PER_USER",
            (args.sockets + 10).to_string(),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| {
            format!(
                "cannot start {}: {err} (build it: cargo build --release --features ssr)",
                binary.display()
            )
        })?;
    Ok((Started { child, dir }, port))
}

async fn wait_healthy(
    http: &reqwest::Client,
    base: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    for _ in 0..100 {
        if let Ok(response) = http.get(format!("{base}/healthz")).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{base}/healthz did not answer").into())
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Result<Value, Box<dyn std::error::Error>> {
    let mut request = http.post(format!("{base}{path}")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() {
        return Err(format!("POST {path}: {status} {body}").into());
    }
    Ok(body)
}

/// One subscribed socket.
struct Follow {
    url: String,
    topic: String,
    stop: tokio::sync::watch::Receiver<bool>,
    /// Events received by all sockets together.
    received: Arc<AtomicUsize>,
}

impl Follow {
    /// Reports readiness once subscribed, then records every event until the
    /// socket closes or the run stops.
    async fn run(
        mut self,
        permit: tokio::sync::OwnedSemaphorePermit,
        ready: tokio::sync::oneshot::Sender<bool>,
    ) -> Seen {
        let (url, topic) = (self.url.clone(), self.topic.clone());
        let mut seen = Seen::default();
        let Ok((mut ws, answer)) = tokio_tungstenite::connect_async(url.as_str()).await else {
            let _ = ready.send(false);
            return seen;
        };
        seen.instance = answer
            .headers()
            .get("x-giftlist-instance")
            .and_then(|name| name.to_str().ok())
            .map(str::to_owned);
        let mut heartbeat = Duration::from_secs(30);
        let mut subscribed = false;
        let subscribe = json!({ "type": "subscribe", "topics": [topic], "id": "b" }).to_string();
        let mut ready = Some(ready);
        let mut permit = Some(permit);
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        loop {
            let message = tokio::select! {
                message = ws.next() => message,
                _ = self.stop.changed() => break,
                _ = ping.tick() => {
                    if ws.send(Message::text(r#"{"type":"ping"}"#)).await.is_err() {
                        break;
                    }
                    continue;
                }
            };
            let Some(Ok(message)) = message else {
                seen.closed.get_or_insert_with(|| "connection lost".into());
                break;
            };
            let text = match message {
                Message::Text(text) => text,
                Message::Close(frame) => {
                    seen.closed = Some(format!("{frame:?}"));
                    break;
                }
                _ => continue,
            };
            let now = SystemTime::now();
            let Ok(frame) = serde_json::from_str::<Frame>(&text) else {
                continue;
            };
            match frame.kind {
                "welcome" => {
                    if let Ok(value) = serde_json::from_str::<Value>(&text) {
                        if let Some(ms) = value["heartbeat_ms"].as_u64() {
                            heartbeat = Duration::from_millis(ms);
                            ping = tokio::time::interval_at(
                                tokio::time::Instant::now() + heartbeat,
                                heartbeat,
                            );
                        }
                    }
                    if ws.send(Message::text(subscribe.clone())).await.is_err() {
                        break;
                    }
                }
                "subscribed" if !subscribed => {
                    subscribed = true;
                    permit.take();
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(true);
                    }
                }
                "event" => {
                    let (Some(seq), Some(data)) = (frame.seq, frame.data) else {
                        continue;
                    };
                    let latency = commit_millis(data.timestamp)
                        .map(|at| millis_since_epoch(now) - at)
                        .unwrap_or(f64::NAN);
                    seen.events.push((seq, latency));
                    seen.last_at = Some(Instant::now());
                    self.received.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
        if let Some(ready) = ready.take() {
            let _ = ready.send(false);
        }
        seen
    }
}

/// One wave of the storm: `count` sockets started at `rate` per second
/// (0: all at once), each held open, subscribed, until `stop`. Returns the
/// milliseconds from starting each connection to its `welcome` (sorted),
/// the sockets that failed, and the tasks holding the sockets.
async fn wave(
    count: usize,
    rate: f64,
    url: &str,
    topic: &str,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> (Vec<f64>, usize, Vec<tokio::task::JoinHandle<()>>) {
    let subscribe =
        Arc::new(json!({ "type": "subscribe", "topics": [topic], "id": "s" }).to_string());
    let mut pace = (rate > 0.0).then(|| {
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        ticker
    });
    let mut readies = Vec::with_capacity(count);
    let mut holders = Vec::with_capacity(count);
    for _ in 0..count {
        if let Some(pace) = &mut pace {
            pace.tick().await;
        }
        let (url, subscribe, mut stop) = (url.to_owned(), subscribe.clone(), stop.clone());
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Option<f64>>();
        readies.push(ready_rx);
        holders.push(tokio::spawn(async move {
            let started = Instant::now();
            let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
                let _ = ready_tx.send(None);
                return;
            };
            let mut ready_tx = Some(ready_tx);
            loop {
                let message = tokio::select! {
                    message = ws.next() => message,
                    _ = stop.changed() => break,
                };
                let Some(Ok(Message::Text(text))) = message else {
                    break;
                };
                if text.contains(r#""type":"welcome""#) {
                    let welcomed = started.elapsed().as_secs_f64() * 1000.0;
                    if let Some(ready) = ready_tx.take() {
                        let _ = ready.send(Some(welcomed));
                    }
                    if ws.send(Message::text(subscribe.as_str())).await.is_err() {
                        break;
                    }
                }
            }
            if let Some(ready) = ready_tx.take() {
                let _ = ready.send(None);
            }
            // Dropped without a close handshake, as a restart or a lost
            // network drops them.
        }));
    }
    let mut welcomed = Vec::with_capacity(count);
    let mut failed = 0;
    for ready in readies {
        match ready.await {
            Ok(Some(ms)) => welcomed.push(ms),
            _ => failed += 1,
        }
    }
    welcomed.sort_by(f64::total_cmp);
    (welcomed, failed, holders)
}

/// `--storm`: the reconnect storm after a restart, measured.
async fn storm(
    args: &Args,
    url: &str,
    topic: &str,
    pid: Option<u32>,
) -> Result<(), Box<dyn std::error::Error>> {
    let rss_before = pid.and_then(rss_kib);
    let rate = args.connect_rate;
    println!(
        "giftlist-bench --storm: {} sockets at {} connections/s",
        args.sockets,
        if rate > 0.0 {
            rate.to_string()
        } else {
            "unpaced".into()
        }
    );
    let mut rows = Vec::new();
    let (first_stop_tx, first_stop) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let (welcomed, failed, holders) = wave(args.sockets, rate, url, topic, &first_stop).await;
    rows.push(("first wave", welcomed, failed, started.elapsed()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_first = pid.and_then(rss_kib);
    // The storm: every socket dropped at once, then all back.
    let _ = first_stop_tx.send(true);
    for holder in holders {
        let _ = holder.await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (second_stop_tx, second_stop) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let (welcomed, failed, holders) = wave(args.sockets, rate, url, topic, &second_stop).await;
    rows.push(("after the storm", welcomed, failed, started.elapsed()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_storm = pid.and_then(rss_kib);
    for (name, welcomed, failed, took) in &rows {
        println!(
            "  {name:<16} welcome p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms   ({} welcomed, {failed} failed, {:.1} s)",
            percentile(welcomed, 0.5),
            percentile(welcomed, 0.99),
            welcomed.last().copied().unwrap_or(f64::NAN),
            welcomed.len(),
            took.as_secs_f64()
        );
    }
    match (rss_before, rss_first, rss_storm) {
        (Some(before), Some(first), Some(storm)) => println!(
            "  server RSS       {before} KiB before, {first} KiB after the first wave, {storm} KiB after the storm: {:.2} KiB per socket after the first wave, {:.2} KiB after the storm",
            first.saturating_sub(before) as f64 / args.sockets.max(1) as f64,
            storm.saturating_sub(before) as f64 / args.sockets.max(1) as f64
        ),
        _ => println!("  server RSS       unknown (pass --pid for a server started elsewhere)"),
    }
    let _ = second_stop_tx.send(true);
    for holder in holders {
        let _ = holder.await;
    }
    Ok(())
}

fn millis_since_epoch(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
        * 1000.0
}

/// `2026-11-28T19:20:00.123Z` in unix milliseconds.
fn commit_millis(stamp: &str) -> Option<f64> {
    let parsed = chrono::DateTime::parse_from_rfc3339(stamp).ok()?;
    Some(parsed.timestamp_millis() as f64)
}

/// The resident memory of a process, in KiB (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &Args,
    seen: &[Seen],
    opened: usize,
    started: Instant,
    sent_for: Duration,
    write_failures: usize,
    memory: &Memory,
) -> bool {
    let expected = args.items as i64;
    let (mut lost, mut duplicated, mut out_of_order, mut closed) = (0i64, 0i64, 0i64, 0usize);
    let mut latencies = Vec::new();
    let mut delivered = 0usize;
    let mut last = started;
    for socket in seen
        .iter()
        .filter(|socket| !socket.events.is_empty() || socket.closed.is_none())
    {
        let mut got = std::collections::HashSet::new();
        let mut previous = 0;
        for &(seq, latency) in &socket.events {
            if !got.insert(seq) {
                duplicated += 1;
            }
            if seq < previous {
                out_of_order += 1;
            }
            previous = seq;
            latencies.push(latency);
        }
        delivered += socket.events.len();
        lost += (1..=expected).filter(|seq| !got.contains(seq)).count() as i64;
        if socket.closed.is_some() {
            closed += 1;
        }
        if let Some(at) = socket.last_at {
            last = last.max(at);
        }
    }
    let window = (last - started).as_secs_f64().max(sent_for.as_secs_f64());
    latencies.retain(|l| l.is_finite());
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| percentile(&latencies, q);
    println!();
    println!(
        "giftlist-bench: {} sockets, {} items at {}/s",
        args.sockets, args.items, args.rate
    );
    println!("  sockets subscribed          {opened}");
    println!("  item writes failed          {write_failures}");
    println!(
        "  commit-to-receipt latency   p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms   (±1 ms: timestamps are in ms)",
        pick(0.5),
        pick(0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  delivered                   {delivered} event frames in {window:.2} s = {:.0} frames/s",
        delivered as f64 / window
    );
    println!("  lost {lost}   duplicated {duplicated}   out of order {out_of_order}   sockets closed early {closed}");
    match (memory.before, memory.half, memory.idle) {
        (Some(before), Some(half), Some(idle)) if opened > 0 => {
            println!(
                "  server RSS                  {before} KiB before, {half} KiB at half, {idle} KiB with all sockets idle",
            );
            println!(
                "  server RSS per socket       {:.2} KiB per added idle subscribed socket (second half); {:.2} KiB averaged over all",
                idle.saturating_sub(half) as f64 / memory.second_half.max(1) as f64,
                idle.saturating_sub(before) as f64 / opened as f64
            );
        }
        _ => println!(
            "  server RSS                  unknown (pass --pid for a server started elsewhere)"
        ),
    }
    opened == args.sockets
        && write_failures == 0
        && lost == 0
        && duplicated == 0
        && out_of_order == 0
        && closed == 0
}
