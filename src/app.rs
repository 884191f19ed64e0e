//! The application shell, the router and the context every page shares.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags};
use leptos_router::{
    components::{Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
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
/// `data-hydrated` turns `true` only once the whole page is hydrated
/// (`mark_hydrated`, called by `hydrate`), so tests and styles can tell a
/// live page from a server-rendered one.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    AuthActions::provide();
    crate::live::client::LiveStatus::provide();
    crate::ui::lang::provide_language();
    // True while the router gets the next page ready (a lazily loaded
    // page's code on its way): the old page stays until then, so the app
    // says it is busy (a bar under the header, style/main.css).
    let (routing, set_routing) = signal(false);

    view! {
        <I18nContextProvider>
        <Router set_is_routing=set_routing>
            <div
                class="app"
                data-testid="app"
                data-hydrated="false"
                aria-busy=move || routing.get().then_some("true")
            >
                <Header />
                <main id="main" class="page">
                    <Routes fallback=NotFound>
                        <Route path=path!("") ssr=SsrMode::Async view=HomePage />
                        <Route path=path!("/login") ssr=SsrMode::Async view={Lazy::<LoginRoute>::new()} />
                        <Route path=path!("/register") ssr=SsrMode::Async view={Lazy::<RegisterRoute>::new()} />
                        <Route path=path!("/forgot") ssr=SsrMode::Async view={Lazy::<ForgotRoute>::new()} />
                        <Route path=path!("/reset/:token") ssr=SsrMode::Async view={Lazy::<ResetRoute>::new()} />
                        <Route path=path!("/confirm-email/:token") ssr=SsrMode::Async view={Lazy::<ConfirmEmailRoute>::new()} />
                        <Route path=path!("/settings") ssr=SsrMode::Async view={Lazy::<SettingsRoute>::new()} />
                        <Route path=path!("/families/:id") ssr=SsrMode::Async view=FamilyPage />
                        <Route path=path!("/invite/:code") ssr=SsrMode::Async view={Lazy::<InviteRoute>::new()} />
                        <Route path=path!("/lists/:id") ssr=SsrMode::Async view=ListPage />
                        <Route path=path!("/s/:token") ssr=SsrMode::Async view=SharePage />
                        <Route path=path!("/share") ssr=SsrMode::Async view={Lazy::<IncomingShareRoute>::new()} />
                    </Routes>
                </main>
            </div>
        </Router>
        </I18nContextProvider>
    }
}

/// Marks the page live: `data-hydrated="true"` on the app's root.
///
/// Set on the element, not through a signal the view reads: hydration is
/// over by then, and nothing renders that attribute again.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    let root = leptos::prelude::document()
        .query_selector(".app")
        .ok()
        .flatten();
    if let Some(root) = root {
        _ = root.set_attribute("data-hydrated", "true");
    }
}

/// Declares, for each page, a route that loads the page's code on first use.
///
/// With cargo-leptos's `--split` build each such page is its own wasm chunk:
/// the main bundle keeps what a family opening a list needs (home, family,
/// list and share pages), and the account pages, invitations and the share
/// target come when they are opened (on a server-rendered first load, the
/// page links the chunk for preloading and hydration waits for it). The
/// route's data half is empty: these pages load their data in their body.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        #[doc = concat!("The lazily loaded route of [`", stringify!($page), "`].")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    LoginRoute => LoginPage,
    RegisterRoute => RegisterPage,
    ForgotRoute => ForgotPage,
    ResetRoute => ResetPage,
    ConfirmEmailRoute => ConfirmEmailPage,
    SettingsRoute => SettingsPage,
    InviteRoute => InvitePage,
    IncomingShareRoute => IncomingSharePage,
}
