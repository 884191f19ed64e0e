//! The page for paths that match no route.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Answers unknown paths with 404 and a way back home.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }

    view! {
        <Title text="Page not found · Giftlist" />
        <section class="not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <p><A href="/">"Back to the start page"</A></p>
        </section>
    }
}
