//! What every form shares: its refusal message, from the action (with the
//! wasm) or from `?error=` (a plain form post sent back by `ui::server`).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::lang::translate_error;
use crate::model::error::AppError;

/// A refusal to show: the last action's, or one a plain form post brought
/// back in `?error=`.
pub fn error_text(
    outcome: impl Fn() -> Option<Result<(), AppError>> + Send + Sync + 'static,
) -> Signal<Option<String>> {
    let query = use_query_map();
    Signal::derive(move || match outcome() {
        Some(Err(err)) => Some(translate_error(&err.message)),
        Some(Ok(_)) => None,
        None => query
            .read()
            .get("error")
            .map(|message| translate_error(&message)),
    })
}

/// An `aria-live` region for messages, present from the first render.
#[component]
pub fn Message(message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <p class="form-error" role="alert" aria-live="assertive" data-testid="form-error">
            {move || message.get()}
        </p>
    }
}
