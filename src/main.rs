//! The `giftlist` server binary: reads the settings, starts logging and
//! serves until stopped. A start-up failure prints one line and exits 1.

use std::process::ExitCode;

use clap::Parser;
use giftlist::{config::Settings, server, telemetry};

/// mimalloc rather than glibc's malloc: after a reconnect storm (5,000
/// sockets at 2,000 a second) the server kept about 3 KiB per socket with
/// it (and the per-user topic check that came with it) against about 5 KiB
/// before; see the README's benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("validate-event") => validate_event(args.get(2).map(String::as_str)),
        Some("check-config") => check_config(),
        Some("backup") => backup(args.get(2).map(String::as_str)),
        _ => serve(),
    }
}

/// The settings as the server reads them (environment and `.env`; the
/// tools take no setting flags), or one line saying why not.
fn settings_from_environment() -> Result<Settings, String> {
    if let Err(err) = dotenvy::dotenv() {
        if !err.not_found() {
            return Err(format!("cannot read .env: {err}"));
        }
    }
    Settings::try_parse_from(["giftlist"]).map_err(|err| {
        err.to_string()
            .lines()
            .next()
            .unwrap_or("bad settings")
            .to_owned()
    })
}

/// `giftlist check-config`: what the server would do with these settings,
/// then one line per problem; exits 1 when there is any.
#[tokio::main]
async fn check_config() -> ExitCode {
    let settings = match settings_from_environment() {
        Ok(settings) => settings,
        Err(err) => {
            println!("problem: {err}");
            return ExitCode::FAILURE;
        }
    };
    let report = giftlist::admin::check_config(&settings).await;
    for fact in &report.facts {
        println!("{fact}");
    }
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    if report.problems.is_empty() {
        println!("ok: the server would start with these settings");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `giftlist backup FILE`: a consistent copy of the SQLite database, taken
/// while the server runs.
#[tokio::main]
async fn backup(target: Option<&str>) -> ExitCode {
    let Some(target) = target.filter(|t| !t.starts_with('-')) else {
        println!("usage: giftlist backup FILE\n\nCopies the SQLite database (DATABASE_URL, or the data folder's) to FILE, consistently, while the server runs. For PostgreSQL, use pg_dump.");
        return ExitCode::FAILURE;
    };
    let settings = match settings_from_environment() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("giftlist: {err}");
            return ExitCode::FAILURE;
        }
    };
    match giftlist::admin::backup(&settings, std::path::Path::new(target)).await {
        Ok(bytes) => {
            println!("giftlist: copied the database to {target} ({bytes} bytes)");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("giftlist: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `giftlist validate-event [FILE|-]`: checks events against the generic
/// event structure of PROTOCOL.md; prints each violation with its JSON
/// path and exits 1 when there is any.
fn validate_event(file: Option<&str>) -> ExitCode {
    use std::io::Read;
    let mut text = String::new();
    let read = match file {
        None | Some("-") => std::io::stdin().read_to_string(&mut text).map(drop),
        Some("--help" | "-h") => {
            println!("usage: giftlist validate-event [FILE|-]\n\nChecks JSON events (one, an array, or JSON lines) against PROTOCOL.md's event structure.");
            return ExitCode::SUCCESS;
        }
        Some(path) => std::fs::read_to_string(path).map(|read| text = read),
    };
    if let Err(err) = read {
        eprintln!("giftlist: cannot read {}: {err}", file.unwrap_or("stdin"));
        return ExitCode::FAILURE;
    }
    let violations = giftlist::live::validate::validate_events_text(&text);
    for line in &violations {
        println!("{line}");
    }
    if violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[tokio::main]
async fn serve() -> ExitCode {
    // A missing .env is normal; a broken one is worth stopping for.
    if let Err(err) = dotenvy::dotenv() {
        if !err.not_found() {
            eprintln!("giftlist: cannot read .env: {err}");
            return ExitCode::FAILURE;
        }
    }
    let settings = Settings::parse();
    telemetry::init(settings.log_format);

    match server::run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("giftlist: {err}");
            ExitCode::FAILURE
        }
    }
}
