//! The command-line tools beside the server: `giftlist check-config` reads
//! the settings the way the server does and says what it would do, or
//! what stops it; `giftlist backup FILE` copies a SQLite database while
//! the server runs. Both print plain lines for a person at a terminal.

use std::path::Path;

use crate::{
    assets::Bundle,
    auth::{client_ip::TrustedProxies, secret::JwtSecret},
    config::{Backend, Settings},
    mail::Mailer,
    store::Store,
};

/// What `check-config` found: what the server would do, and what would
/// stop it (or make it misbehave). No problems: it would start.
#[derive(Debug, Default)]
pub struct ConfigReport {
    pub facts: Vec<String>,
    pub problems: Vec<String>,
}

/// Reads `settings` as the server would, and looks at the database, the
/// data folder and the built site, changing nothing (no migration, no
/// secret generated, no folder made).
pub async fn check_config(settings: &Settings) -> ConfigReport {
    let mut report = ConfigReport::default();
    let mut problem = |text: String| report.problems.push(text);
    let mut facts = Vec::new();

    // What `validate` finds in the database URL and the origins is said
    // below, once.
    if let (Err(err), Ok(_), Ok(_)) = (
        settings.validate(),
        settings.database(),
        settings.allowed_origins(),
    ) {
        problem(err.to_string());
    }
    match settings.database() {
        Err(err) => problem(err.to_string()),
        Ok(url) => {
            let backend = match url.backend() {
                Backend::Sqlite => "SQLite",
                Backend::Postgres => "PostgreSQL",
            };
            match Store::pending_migrations(&url).await {
                Ok(None) => facts.push(format!(
                    "database: {backend}, a new file (created, with its tables, on start)"
                )),
                Ok(Some(0)) => facts.push(format!("database: {backend}, reachable, up to date")),
                Ok(Some(pending)) => facts.push(format!(
                    "database: {backend}, reachable; {pending} migration(s) to apply on start \
                     (the first instance applies them, others wait for it)"
                )),
                Err(err) => problem(err.to_string()),
            }
        }
    }
    facts.push(format!("listen: {}", settings.site_addr));
    match settings.allowed_origins() {
        Ok(origins) => facts.push(format!(
            "public URL: {} (cookies {}; allowed origins: {})",
            settings.public_origin(),
            if settings.secure_cookies() {
                "Secure"
            } else {
                "not Secure: http only"
            },
            origins.join(", ")
        )),
        Err(err) => problem(err.to_string()),
    }
    match TrustedProxies::parse(&settings.trusted_proxies) {
        Ok(_) if settings.trusted_proxies.is_empty() => facts.push(
            "trusted proxies: none (behind a proxy, rate limits would count the proxy, not the people)"
                .into(),
        ),
        Ok(_) => facts.push(format!(
            "trusted proxies: {}",
            settings.trusted_proxies.join(", ")
        )),
        Err(err) => problem(err.to_string()),
    }
    check_secret(settings, &mut facts, &mut problem);
    check_site(&settings.site_root, &mut facts, &mut problem);
    // Parsing makes no connection; a wrong password shows in the log at
    // the first mail.
    match settings.smtp_url.as_deref().map(str::trim) {
        None | Some("") => facts.push("mail: written to the log (no GIFTLIST_SMTP_URL)".into()),
        Some(_) => match mail_settings(settings) {
            Ok(()) => facts.push(format!("mail: by SMTP, from {}", settings.mail_from)),
            Err(err) => problem(err),
        },
    }
    match settings.instance_header() {
        Ok(Some(name)) => facts.push(format!(
            "instance: {} (X-Giftlist-Instance)",
            name.to_str().unwrap_or_default()
        )),
        Ok(None) => {}
        Err(err) => problem(err.to_string()),
    }
    if settings.fetch_allow_private {
        facts.push(
            "link import: may read private addresses (GIFTLIST_FETCH_ALLOW_PRIVATE): tests only"
                .into(),
        );
    }
    report.facts = facts;
    report
}

/// The token secret: configured, kept in the data folder, or to be made.
fn check_secret(settings: &Settings, facts: &mut Vec<String>, problem: &mut impl FnMut(String)) {
    if let Some(secret) = settings.jwt_secret.as_deref() {
        match JwtSecret::load(Some(secret), &settings.data_dir) {
            Ok(_) => facts.push("token secret: from GIFTLIST_JWT_SECRET".into()),
            Err(err) => problem(err.to_string()),
        }
        return;
    }
    let dir = &settings.data_dir;
    let file = dir.join(crate::auth::secret::SECRET_FILE);
    if file.exists() {
        match JwtSecret::load(None, dir) {
            Ok(_) => facts.push(format!("token secret: kept in {}", file.display())),
            Err(err) => problem(err.to_string()),
        }
    } else if writable_or_creatable(dir) {
        facts.push(format!(
            "token secret: generated into {} on start (several instances need the same GIFTLIST_JWT_SECRET)",
            file.display()
        ));
    } else {
        problem(format!(
            "data folder {}: cannot be created or written",
            dir.display()
        ));
    }
}

/// The built browser files the pages need.
fn check_site(root: &Path, facts: &mut Vec<String>, problem: &mut impl FnMut(String)) {
    let missing = match Bundle::read(root) {
        Ok(bundle) => bundle.missing(root),
        Err(err) => vec![err],
    };
    if missing.is_empty() {
        facts.push(format!("site: {}", root.display()));
    } else {
        problem(format!(
            "LEPTOS_SITE_ROOT {} lacks {}: build it with `cargo leptos build --release --precompress --split`",
            root.display(),
            missing.join(", ")
        ));
    }
}

fn mail_settings(settings: &Settings) -> Result<(), String> {
    Mailer::check(settings.smtp_url.as_deref(), &settings.mail_from).map_err(|err| err.to_string())
}

/// Whether `dir` can be written, or made (its nearest existing parent
/// writable).
fn writable_or_creatable(dir: &Path) -> bool {
    let mut at = Some(dir);
    while let Some(path) = at {
        if path.exists() {
            return std::fs::metadata(path).is_ok_and(|meta| !meta.permissions().readonly())
                && path.is_dir();
        }
        at = path.parent();
    }
    false
}

/// `giftlist backup FILE`: the SQLite database copied to `target`; the
/// copy's size.
pub async fn backup(settings: &Settings, target: &Path) -> Result<u64, crate::error::StartError> {
    let url = settings.database()?;
    Store::backup_sqlite(&url, target).await
}
