//! The `giftlist` binary as an operator meets it: `--help`, every start-up
//! failure as one clear line and a non-zero exit, JSON request logs, and a
//! graceful stop on SIGTERM.
#![cfg(feature = "ssr")]

mod common;

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

/// The binary with a clean environment: only what a test sets counts.
fn giftlist(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_giftlist"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap());
    command.env("LEPTOS_SITE_ROOT", dir.join("site"));
    command
}

/// Runs the binary, which must fail to start: exit code 1, nothing on
/// stdout, exactly one line on stderr (no backtrace), which is returned.
fn start_fails(command: &mut Command) -> String {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the server started instead of failing");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Output { status, stderr, .. } = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(1), "exit code");
    let stderr = String::from_utf8(stderr).unwrap();
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("giftlist: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    errors[0].to_string()
}

#[test]
fn help_lists_every_setting() {
    let dir = tempfile::tempdir().unwrap();
    let output = giftlist(dir.path()).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for name in [
        "DATABASE_URL",
        "GIFTLIST_DATA_DIR",
        "LEPTOS_SITE_ADDR",
        "LEPTOS_SITE_ROOT",
        "GIFTLIST_PUBLIC_URL",
        "GIFTLIST_ALLOWED_ORIGINS",
        "GIFTLIST_JWT_SECRET",
        "GIFTLIST_HEARTBEAT_MS",
        "GIFTLIST_LOG_FORMAT",
        "GIFTLIST_SHUTDOWN_TIMEOUT_SECS",
        "RUST_LOG",
    ] {
        assert!(
            help.contains(name),
            "--help does not mention {name}:\n{help}"
        );
    }
    // And .env.example documents the same names.
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example")).unwrap();
    for name in [
        "DATABASE_URL",
        "GIFTLIST_JWT_SECRET",
        "GIFTLIST_PUBLIC_URL",
        "GIFTLIST_ALLOWED_ORIGINS",
    ] {
        assert!(
            example.contains(name),
            ".env.example does not mention {name}"
        );
    }
}

#[test]
fn malformed_database_url_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let line =
        start_fails(giftlist(dir.path()).env("DATABASE_URL", "mysql://root:hunter22@db/gifts"));
    assert!(
        line.contains("DATABASE_URL must start with sqlite:// or postgres://"),
        "{line}"
    );
    assert!(!line.contains("hunter22"), "the password leaked: {line}");
}

#[test]
fn unreachable_postgres_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on loopback: refused at once.
    let line = start_fails(giftlist(dir.path()).env(
        "DATABASE_URL",
        "postgres://postgres:hunter22@127.0.0.1:1/giftlist",
    ));
    assert!(line.contains("cannot open the database"), "{line}");
    assert!(!line.contains("hunter22"), "the password leaked: {line}");
}

#[test]
fn unwritable_data_dir_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // Tests run as root, which may write anywhere: a path through a regular
    // file is unwritable for everyone.
    std::fs::write(dir.path().join("file"), b"").unwrap();
    let line =
        start_fails(giftlist(dir.path()).env("GIFTLIST_DATA_DIR", dir.path().join("file/data")));
    assert!(line.contains("data folder"), "{line}");
}

#[test]
fn port_in_use_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let line = start_fails(
        giftlist(dir.path())
            .env("GIFTLIST_DATA_DIR", dir.path().join("data"))
            .env("LEPTOS_SITE_ADDR", &addr),
    );
    assert!(line.contains(&format!("cannot listen on {addr}")), "{line}");
}

#[test]
fn short_jwt_secret_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let line = start_fails(
        giftlist(dir.path())
            .env("GIFTLIST_DATA_DIR", dir.path().join("data"))
            .env("GIFTLIST_JWT_SECRET", "shortsecret"),
    );
    assert!(
        line.contains("GIFTLIST_JWT_SECRET is 11 bytes; it must be at least 32"),
        "{line}"
    );
    assert!(!line.contains("shortsecret"), "{line}");
}

#[test]
fn failed_migration_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A database migrated by a newer Giftlist: a migration this binary does not know.
    std::fs::create_dir_all(&data).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use sqlx::{sqlite::SqliteConnectOptions, ConnectOptions, Connection};
        let mut conn = SqliteConnectOptions::new()
            .filename(data.join("giftlist.db"))
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::raw_sql(
            "create table _sqlx_migrations (version bigint primary key, description text not null, \
             installed_on timestamp not null default current_timestamp, success boolean not null, \
             checksum blob not null, execution_time bigint not null); \
             insert into _sqlx_migrations values (99990101000000, 'from the future', current_timestamp, 1, x'00', 1);",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    });
    let line = start_fails(giftlist(dir.path()).env("GIFTLIST_DATA_DIR", &data));
    assert!(line.contains("database migration failed"), "{line}");
}

/// Starts the binary on a free port and waits until it answers.
fn start_server(dir: &Path, extra_env: &[(&str, &str)]) -> (Child, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut command = giftlist(dir);
    command
        .env("LEPTOS_SITE_ADDR", &addr)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in extra_env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&addr).is_err() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the server did not start listening");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, addr)
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// With nothing set but the listen address, the binary makes ./data with the
/// SQLite file and a secret, logs each request as one JSON line, and exits 0
/// on SIGTERM; a restart keeps the secret.
#[test]
fn defaults_json_logs_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = start_server(dir.path(), &[("GIFTLIST_LOG_FORMAT", "json")]);
    assert!(dir.path().join("data/giftlist.db").is_file());
    let secret = std::fs::read(dir.path().join("data/jwt-secret")).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("http://{addr}/healthz?token=do-not-log-me"))
            .header(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);

    sigterm(&child);
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let lines: Vec<String> = stderr.lines().map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit on SIGTERM: {status:?}\n{lines:#?}");

    let records: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let request = records
        .iter()
        .find(|r| r["message"] == "request" && r["route"] == "/healthz")
        .unwrap_or_else(|| panic!("no request line: {lines:#?}"));
    assert_eq!(request["method"], "GET");
    assert_eq!(request["status"], 200);
    assert!(request["latency_ms"].as_f64().is_some(), "{request}");
    assert_eq!(
        request["span"]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
        "{request}"
    );
    assert!(
        records.iter().any(|r| r["message"] == "stopped"),
        "{lines:#?}"
    );
    let all = lines.join("\n");
    assert!(!all.contains("do-not-log-me"), "a query string was logged");

    // A restart keeps the generated secret.
    let (child, _) = start_server(dir.path(), &[]);
    sigterm(&child);
    assert!(child.wait_with_output().unwrap().status.success());
    assert_eq!(
        std::fs::read(dir.path().join("data/jwt-secret")).unwrap(),
        secret
    );
}

/// Runs `giftlist validate-event` with `args`, `stdin` as its input.
fn validate_event(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = giftlist(dir.path())
        .arg("validate-event")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn validate_event_checks_files_and_stdin_and_names_each_violation() {
    let good = serde_json::json!({
        "type": "event", "seq": 42, "topic": "gift-list:l_1", "event": "ADDED",
        "data": {"entity_id": "i_77", "payload": {}, "user_id": "u_2", "tenant_id": "f_5",
                 "timestamp": "2026-11-28T19:20:00.123Z"},
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"
    });
    let mut bad = good.clone();
    bad["data"]["timestamp"] = "2026-11-28 19:20".into();
    bad["trace_id"] = "xyz".into();
    bad["data"].as_object_mut().unwrap().remove("entity_id");

    let dir = tempfile::tempdir().unwrap();
    let good_file = dir.path().join("good.json");
    std::fs::write(&good_file, good.to_string()).unwrap();
    let (code, stdout, _) = validate_event(&[good_file.to_str().unwrap()], "");
    assert_eq!((code, stdout.as_str()), (Some(0), ""));

    // From stdin, as JSON lines: each violation on its own line, with its path.
    let (code, stdout, _) = validate_event(&["-"], &format!("{good}\n{bad}\n"));
    assert_eq!(code, Some(1));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("event 2: $.trace_id: "), "{stdout}");
    assert!(
        lines[1].starts_with("event 2: $.data.entity_id: missing"),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("event 2: $.data.timestamp: "),
        "{stdout}"
    );
    // No argument reads stdin too; an array is a list of events.
    let (code, stdout, _) = validate_event(&[], &format!("[{good}, {good}]"));
    assert_eq!((code, stdout.as_str()), (Some(0), ""));

    let (code, _, stderr) = validate_event(&["/no/such/file"], "");
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with("giftlist: cannot read /no/such/file"),
        "{stderr}"
    );
    let (code, stdout, _) = validate_event(&[], "{ not json");
    assert_eq!(code, Some(1));
    assert!(stdout.contains("not JSON"), "{stdout}");
}

/// `giftlist check-config` with `env`: exit code and stdout.
fn check_config(dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = giftlist(dir);
    command.arg("check-config");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// check-config says what the server would do, changing nothing, and
/// names each problem on a line of its own, exiting 1.
#[test]
fn check_config_says_what_would_happen_and_each_problem() {
    let dir = tempfile::tempdir().unwrap();
    // A built site, as the release layout has it: hashed names.
    std::fs::create_dir_all(dir.path().join("site/pkg")).unwrap();
    std::fs::write(
        dir.path().join("site/hash.txt"),
        "js: J\nwasm: W\ncss: C\nmanifest: M\nsplit: S\n",
    )
    .unwrap();
    for file in [
        "giftlist.J.js",
        "giftlist.W.wasm",
        "giftlist.C.css",
        "__wasm_split_manifest.M.json",
        "__wasm_split.S.js",
    ] {
        // `{}`: the manifest is read as JSON when a page is rendered.
        std::fs::write(dir.path().join("site/pkg").join(file), b"{}").unwrap();
    }
    let (code, out) = check_config(
        dir.path(),
        &[
            ("GIFTLIST_PUBLIC_URL", "https://gifts.example.org"),
            ("GIFTLIST_TRUSTED_PROXIES", "127.0.0.1"),
            ("GIFTLIST_INSTANCE_NAME", "a"),
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("database: SQLite, a new file"), "{out}");
    assert!(
        out.contains("public URL: https://gifts.example.org (cookies Secure"),
        "{out}"
    );
    assert!(out.contains("trusted proxies: 127.0.0.1"), "{out}");
    assert!(out.contains("instance: a"), "{out}");
    assert!(
        out.ends_with("ok: the server would start with these settings\n"),
        "{out}"
    );
    assert!(!dir.path().join("data").exists(), "nothing is created");

    // A started server's database is up to date.
    let (mut child, _) = start_server(dir.path(), &[]);
    sigterm(&child);
    child.wait().unwrap();
    let (code, out) = check_config(dir.path(), &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("database: SQLite, reachable, up to date"),
        "{out}"
    );

    // Every problem, one line each.
    let (code, out) = check_config(
        dir.path(),
        &[
            ("GIFTLIST_JWT_SECRET", "short"),
            ("GIFTLIST_TRUSTED_PROXIES", "not-an-address"),
            ("GIFTLIST_SMTP_URL", "mail.example.org"),
            ("GIFTLIST_INSTANCE_NAME", "a b"),
            ("LEPTOS_SITE_ROOT", "/nonexistent"),
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    let problems: Vec<&str> = out.lines().filter(|l| l.starts_with("problem: ")).collect();
    assert_eq!(problems.len(), 5, "{out}");
    for (line, says) in problems.iter().zip([
        "not-an-address",
        "GIFTLIST_JWT_SECRET",
        "LEPTOS_SITE_ROOT /nonexistent lacks pkg/giftlist.js",
        "GIFTLIST_SMTP_URL",
        "GIFTLIST_INSTANCE_NAME",
    ]) {
        assert!(line.contains(says), "{line} should name {says}:\n{out}");
    }
    let (code, out) = check_config(
        dir.path(),
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("problem: cannot open the database"), "{out}");
}

/// `giftlist backup FILE` copies the database while the server writes to
/// it: the copy opens, holds what was there, and an existing file is never
/// overwritten.
#[test]
fn backup_copies_a_running_database() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = start_server(dir.path(), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for n in 0..3 {
            let status = client
                .post(format!("http://{addr}/api/v1/auth/register"))
                .json(&serde_json::json!({
                    "email": format!("p{n}@example.org"),
                    "name": format!("P{n}"),
                    "password": "long enough password",
                }))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 201);
        }
    });
    let copy = dir.path().join("copy.db");
    let output = giftlist(dir.path())
        .args(["backup", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let said = String::from_utf8(output.stdout).unwrap();
    assert!(
        said.starts_with(&format!(
            "giftlist: copied the database to {}",
            copy.display()
        )),
        "{said}"
    );
    let users = runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", copy.display()))
            .await
            .unwrap();
        let users: i64 = sqlx::query_scalar("select count(*) from users")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        users
    });
    assert_eq!(users, 3);
    let again = giftlist(dir.path())
        .args(["backup", copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8(again.stderr)
        .unwrap()
        .contains("exists already"));
    sigterm(&child);
    child.wait().unwrap();
}
