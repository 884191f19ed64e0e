//! The application shell, the router and the context every page shares.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::i18n::I18nContextProvider;
use crate::ui::{
    account::{ConfirmEmailPage, ForgotPage, ResetPage, SettingsPage},
    auth::{AuthActions, LoginPage, RegisterPage},
    families::{FamilyPage, InvitePage},
    home::HomePage,
    incoming::IncomingSharePage,
    layout::Header,
    list::ListPage,
    not_found::NotFound,
    share::SharePage,
};

/// The name the build gives the browser bundle (`output-name` in
/// `Cargo.toml`); the pages link `/pkg/{OUTPUT_NAME}.{hash}.js`, `.wasm`
/// and `.css` (see `assets`).
pub const OUTPUT_NAME: &str = "giftlist";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // Installable on a phone, readable offline, and a target of
                // "Share" (public/manifest.webmanifest, public/sw.js).
                <link rel="manifest" href="/manifest.webmanifest" />
                <meta name="theme-color" content="#b3261e" />
                <link rel="apple-touch-icon" href="/icons/icon-192.png" />
                <script src="/register-sw.js" defer></script>
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The root component: header, routes and the hydration marker.
///
/// The language provider wraps everything: it picks the page's language
/// (see `ui::lang`) and writes it into `<html lang>`.
///
/// Pages render with `SsrMode::Async`: the server waits for their data and
/// sends whole HTML, so they read right with no script (out-of-order
/// streaming needs JavaScript to put resolved parts in place).
///
/// `data-hydrated` turns `true` only once the wasm has run (effects never
/// run on the server), so tests and styles can tell a live page from a
/// server-rendered one.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    AuthActions::provide();
    crate::live::client::LiveStatus::provide();
    crate::ui::lang::provide_language();
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <I18nContextProvider>
        <Router>
            <div class="app" data-testid="app" data-hydrated=move || hydrated.get().to_string()>
                <Header />
                <main id="main" class="page">
                    <Routes fallback=NotFound>
                        <Route path=path!("") ssr=SsrMode::Async view=HomePage />
                        <Route path=path!("/login") ssr=SsrMode::Async view=LoginPage />
                        <Route path=path!("/register") ssr=SsrMode::Async view=RegisterPage />
                        <Route path=path!("/forgot") ssr=SsrMode::Async view=ForgotPage />
                        <Route path=path!("/reset/:token") ssr=SsrMode::Async view=ResetPage />
                        <Route path=path!("/confirm-email/:token") ssr=SsrMode::Async view=ConfirmEmailPage />
                        <Route path=path!("/settings") ssr=SsrMode::Async view=SettingsPage />
                        <Route path=path!("/families/:id") ssr=SsrMode::Async view=FamilyPage />
                        <Route path=path!("/invite/:code") ssr=SsrMode::Async view=InvitePage />
                        <Route path=path!("/lists/:id") ssr=SsrMode::Async view=ListPage />
                        <Route path=path!("/s/:token") ssr=SsrMode::Async view=SharePage />
                        <Route path=path!("/share") ssr=SsrMode::Async view=IncomingSharePage />
                    </Routes>
                </main>
            </div>
        </Router>
        </I18nContextProvider>
    }
}
