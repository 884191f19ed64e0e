//! The home page: my families when logged in, what Giftlist is otherwise.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{auth::use_current_user, families::Dashboard};

#[component]
pub fn HomePage() -> impl IntoView {
    let user = use_current_user();
    view! {
        <Title text="Giftlist" />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(_)) => view! { <Dashboard /> }.into_any(),
                    _ => view! { <Welcome /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What a visitor sees first: what Giftlist is for.
#[component]
fn Welcome() -> impl IntoView {
    view! {
        <section class="hero" aria-labelledby="hero-title">
            <h1 id="hero-title">"Gift lists for the whole family"</h1>
            <p class="lead">
                "Keep everyone's wishes in one place. When someone adds, changes or "
                "quietly claims a gift, everyone looking at the list sees it at once, "
                "and the person the list is for never finds out who is buying what."
            </p>
            <p><A href="/register">"Create an account"</A>" · "<A href="/login">"Log in"</A></p>
        </section>
    }
}
