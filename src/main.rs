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
    if args.get(1).map(String::as_str) == Some("validate-event") {
        return validate_event(args.get(2).map(String::as_str));
    }
    serve()
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
