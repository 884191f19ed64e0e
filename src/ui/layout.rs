//! The frame every page shares: skip link, header, the connection badge's place.

use leptos::prelude::*;
use leptos_router::components::A;

use super::auth::{use_current_user, AccountMenu};
use crate::live::client::{LiveStatus, Status};

/// The site header: the app name, linking home, and the slot where the live
/// connection's status badge sits.
///
/// The slot is an `aria-live="polite"` region from the first render, so a
/// screen reader announces status changes without the region being
/// inserted late (regions added after load are often not announced).
#[component]
pub fn Header() -> impl IntoView {
    let status = use_context::<LiveStatus>().map(|status| status.0);
    let current = move || status.map(|s| s.get()).unwrap_or(Status::Idle);
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <A href="/" attr:class="brand">
                <img class="brand-mark" src="/logo.svg" alt="" width="28" height="28" />
                <span class="brand-name">"Giftlist"</span>
            </A>
            <nav class="account" aria-label="Account">
                <AccountMenu />
            </nav>
            <div
                class="connection-status"
                data-testid="connection-status"
                data-status=move || current().kind()
                role="status"
                aria-live="polite"
            >
                {move || current().label()}
            </div>
            <Notices />
        </header>
    }
}

/// What the logged-in user hears on `/events`: someone changed or removed a
/// gift they claimed. Announced politely, like the connection status.
#[component]
fn Notices() -> impl IntoView {
    let notices = RwSignal::new(Vec::<String>::new());
    let user = use_current_user();
    Effect::new(move |_| {
        let logged_in = matches!(user.get(), Some(Ok(Some(_))));
        crate::live::client::claimer_notices(logged_in, notices);
    });
    view! {
        <div class="notices" data-testid="notices" role="status" aria-live="polite">
            {move || notices.get().into_iter().map(|text| view! { <p class="notice">{text}</p> }).collect_view()}
        </div>
    }
}
