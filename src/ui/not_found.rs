//! The page for paths that match no route.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::i18n::{tu_string, use_i18n};

/// Answers unknown paths with 404 and a way back home.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }

    let i18n = use_i18n();
    view! {
        <Title text=format!("{} · Giftlist", tu_string!(i18n, page_not_found)) />
        <section class="not-found">
            <h1>{tu_string!(i18n, page_not_found)}</h1>
            <p>{tu_string!(i18n, nothing_here)}</p>
            <p><A href="/">{tu_string!(i18n, back_home)}</A></p>
        </section>
    }
}
