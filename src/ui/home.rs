//! The home page: my families when logged in, what Giftlist is otherwise.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{auth::use_current_user, families::Dashboard};
use crate::i18n::{tu_string, use_i18n};

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
    let i18n = use_i18n();
    view! {
        <section class="hero" aria-labelledby="hero-title">
            <h1 id="hero-title">{tu_string!(i18n, hero_title)}</h1>
            <p class="lead">{tu_string!(i18n, hero_lead)}</p>
            <p><A href="/register">{tu_string!(i18n, create_an_account)}</A>" · "<A href="/login">{tu_string!(i18n, log_in)}</A></p>
        </section>
    }
}
