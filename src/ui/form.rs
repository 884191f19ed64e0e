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

/// The refusal of whichever of `answers` (actions' values) came last, a
/// success clearing it; never `?error=`. For a form beside others on a
/// page whose main message already shows a refused plain form post.
pub fn own_refusal(
    answers: Vec<MappedSignal<Option<Result<(), AppError>>>>,
) -> Signal<Option<String>> {
    let latest = RwSignal::new(None::<String>);
    for answered in answers {
        Effect::new(move |_| {
            if let Some(result) = answered.get() {
                latest.set(result.err().map(|err| translate_error(&err.message)));
            }
        });
    }
    latest.into()
}

/// An `aria-live` region for messages, present from the first render.
#[component]
pub fn Message(
    message: Signal<Option<String>>,
    /// A page with several messages names each its own.
    #[prop(default = "form-error")]
    testid: &'static str,
) -> impl IntoView {
    view! {
        <p class="form-error" role="alert" aria-live="assertive" data-testid=testid>
            {move || message.get()}
        </p>
    }
}
