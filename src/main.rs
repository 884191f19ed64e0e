//! The `giftlist` server binary: reads the settings, starts logging and
//! serves until stopped. A start-up failure prints one line and exits 1.

use std::process::ExitCode;

use clap::Parser;
use giftlist::{config::Settings, server, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
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
