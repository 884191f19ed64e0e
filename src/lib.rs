//! Giftlist: shared family gift lists that update live.
//!
//! One crate, two targets. With the `ssr` feature it is the server: axum
//! serves the Leptos pages, the JSON API and the live channel, and sqlx keeps
//! everything in SQLite or PostgreSQL. With the `hydrate` feature it is the
//! browser bundle that hydrates the server-rendered pages.
//!
//! Layout (see `DESIGN.md` for the reasons):
//! - [`app`] and [`ui`]: the shell, the router and the pages, for both targets.
//! - [`model`]: entities, inputs, validation and the wire error, shared.
//! - [`live`]: the live channel's wire types, shared.
//! - `config`: every setting, as a flag and an environment variable.
//! - `service`: the operations, with every authorization rule and
//!   transaction, and the surprise rule.
//! - `api`: the `/api/v1` JSON handlers, thin over `service`.
//! - `store`: the database: connection, migrations, write transactions,
//!   the SQL, the event outbox.
//! - `auth`: passwords, tokens, sessions, the caller, the cross-site check.
//! - `mail`: mail over SMTP (or to the log), sent in the background.
//! - `state`: what handlers reach (`AppState`, `Runtime`, `TraceId`); a leaf.
//! - `server`: the axum router, request logging, start and graceful stop.
//! - `assets`: the site's static files, their hashed names and caching.
//!
//! Server-only modules are gated here, where they are declared, so the wasm
//! build never pulls in tokio or sqlx.

// The pages' view types nest deep: the release wasm build of the family
// page needs more than the default 128 (layout of its async view).
#![recursion_limit = "256"]

pub mod app;
pub mod live;
pub mod model;
pub mod ui;

/// The pages' languages, generated from `locales/{en,de,fr,es}.json` at
/// compile time: `Locale`, `use_i18n` and the text macros (`tu_string!`, see `ui::lang`).
///
/// Through the `load_locales!` macro that leptos_i18n 0.6 marks deprecated
/// in favour of a build script: that script's crate brings ~200 more
/// crates into the build (ICU's data exporter, an HTTP client, zip) for
/// formatters Giftlist does not use; the macro reads the same files.
#[allow(deprecated)]
mod locales {
    leptos_i18n::load_locales!();

    // The macro reads the files without telling cargo; including them makes
    // an edited translation rebuild the crate.
    const _: [&str; 4] = [
        include_str!("../locales/en.json"),
        include_str!("../locales/de.json"),
        include_str!("../locales/fr.json"),
        include_str!("../locales/es.json"),
    ];
}
pub use locales::i18n;

#[cfg(feature = "ssr")]
pub mod admin;
#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod assets;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod telemetry;

/// Entry point of the browser bundle: hydrates the server-rendered page.
///
/// Asynchronously, like `leptos::mount::hydrate_lazy`: a lazily loaded
/// page (see `app`) is hydrated once its wasm chunk is in, which only an
/// async hydration can wait for. Written out here so that the page is
/// marked hydrated when all of it is (`app::mark_hydrated`), lazily loaded
/// part included: an effect would run while the chunk is still on its way.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        let mounted = leptos::mount::hydrate_from_async(body, app::App).await;
        // The page lives as long as the tab: nothing ever unmounts it.
        mounted.forget();
        app::mark_hydrated();
    });
}
