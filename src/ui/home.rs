//! The home page.

use leptos::prelude::*;
use leptos_meta::Title;

/// What a visitor sees first: what Giftlist is for.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Giftlist" />
        <section class="hero" aria-labelledby="hero-title">
            <h1 id="hero-title">"Gift lists for the whole family"</h1>
            <p class="lead">
                "Keep everyone's wishes in one place. When someone adds, changes or "
                "quietly claims a gift, everyone looking at the list sees it at once, "
                "and the person the list is for never finds out who is buying what."
            </p>
        </section>
    }
}
