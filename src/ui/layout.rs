//! The frame every page shares: skip link, header, the connection badge's place.

use leptos::prelude::*;
use leptos_router::components::A;

use super::{
    auth::{use_current_user, AccountMenu},
    lang::{fill, LanguagePicker},
};
use crate::{
    i18n::{tu_string, use_i18n},
    live::client::{LiveStatus, Notice, Status},
};

/// The site header: the app name, linking home, and the slot where the live
/// connection's status badge sits.
///
/// The slot is an `aria-live="polite"` region from the first render, so a
/// screen reader announces status changes without the region being
/// inserted late (regions added after load are often not announced).
#[component]
pub fn Header() -> impl IntoView {
    let i18n = use_i18n();
    let status = use_context::<LiveStatus>().map(|status| status.0);
    let current = move || status.map(|s| s.get()).unwrap_or(Status::Idle);
    let label = move || match current() {
        Status::Idle => String::new(),
        Status::Connecting => tu_string!(i18n, status_connecting).to_string(),
        Status::Live => tu_string!(i18n, status_live).to_string(),
        Status::Reconnecting {
            attempt,
            next_in_secs,
        } => fill(
            tu_string!(i18n, status_reconnecting),
            &[("attempt", &attempt), ("secs", &next_in_secs)],
        ),
        Status::Polling => tu_string!(i18n, status_polling).to_string(),
        Status::Offline => tu_string!(i18n, status_offline).to_string(),
        Status::LinkEnded => tu_string!(i18n, status_link_ended).to_string(),
    };
    view! {
        <a class="skip-link" href="#main">{tu_string!(i18n, skip_to_content)}</a>
        <header class="site-header">
            <A href="/" attr:class="brand">
                <img class="brand-mark" src="/logo.svg" alt="" width="28" height="28" />
                <span class="brand-name">"Giftlist"</span>
            </A>
            <nav class="account" aria-label=tu_string!(i18n, nav_account)>
                <AccountMenu />
            </nav>
            <LanguagePicker />
            <div
                class="connection-status"
                data-testid="connection-status"
                data-status=move || current().kind()
                role="status"
                aria-live="polite"
            >
                {label}
            </div>
            <Notices />
            // Shown only on a page the service worker served from its copy
            // while offline (it marks <html data-offline>; see style/main.css).
            <p class="offline-note" data-testid="offline-note" hidden>{tu_string!(i18n, offline_note)}</p>
        </header>
    }
}

/// What the logged-in user hears on `/events`: someone changed or removed a
/// gift they claimed. Announced politely, like the connection status.
#[component]
fn Notices() -> impl IntoView {
    let i18n = use_i18n();
    let notices = RwSignal::new(Vec::<Notice>::new());
    let user = use_current_user();
    Effect::new(move |_| {
        let logged_in = matches!(user.get(), Some(Ok(Some(_))));
        crate::live::client::claimer_notices(logged_in, notices);
    });
    view! {
        <div class="notices" data-testid="notices" role="status" aria-live="polite">
            {move || notices.get().into_iter().map(|notice| {
                let title = notice.title.unwrap_or_else(|| tu_string!(i18n, a_gift).to_string());
                let text = if notice.removed {
                    fill(tu_string!(i18n, notice_removed), &[("title", &title)])
                } else {
                    fill(tu_string!(i18n, notice_changed), &[("title", &title)])
                };
                view! { <p class="notice">{text}</p> }
            }).collect_view()}
        </div>
    }
}
