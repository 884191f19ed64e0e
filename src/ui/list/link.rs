//! "Fill from link" on the add and edit forms: a pasted shop link is read
//! on the server (see `import`) and the gift's title, price, currency and
//! picture are filled in from it, for the person to check before saving.
//! The picture is the app's copy (`/pictures/...`): the browser never
//! loads anything from the shop. With the
//! wasm it happens on paste (or on leaving the field); without it, the
//! button posts the add form to `fill_from_link`, which sends the page
//! back with the form filled in and `?link=` saying how it went.

use leptos::prelude::*;

use super::server::read_link;
use crate::ui::money::cents_text;
use crate::{
    i18n::{tu_string, use_i18n},
    model::preview::{LinkPreview, LinkProblem},
};

/// How reading the link went.
#[derive(Clone, Debug, PartialEq)]
enum Reading {
    Idle,
    Busy,
    Read,
    Problem(LinkProblem),
    /// The server refused (not a link, too many reads): its words.
    Refused(String),
}

/// The fields a read link fills in.
#[derive(Clone, Copy)]
pub(super) struct LinkFields {
    pub url: NodeRef<leptos::html::Input>,
    pub title: NodeRef<leptos::html::Input>,
    pub price: NodeRef<leptos::html::Input>,
    pub currency: NodeRef<leptos::html::Input>,
    /// The picture read from the link, sent with the form as `picture`.
    pub picture: RwSignal<Option<String>>,
}

/// The link field, the button and the line that says how reading went.
/// `with_button`: only the add form has the plain-post button (the edit
/// form reads on paste, with the wasm).
#[component]
pub(super) fn UrlField(
    id: String,
    value: Option<String>,
    fields: LinkFields,
    with_button: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let query = leptos_router::hooks::use_query_map();
    let from_post = query
        .with_untracked(|q| q.get("link"))
        .map(|code| LinkProblem::from_code(&code).map_or(Reading::Read, Reading::Problem));
    let state = RwSignal::new(if with_button {
        from_post.unwrap_or(Reading::Idle)
    } else {
        Reading::Idle
    });
    let last = StoredValue::new(String::new());
    let read_now = move || read_into(fields, state, last);
    // The pasted text is in the field only once the paste is done.
    let on_paste = move |_| set_timeout(read_now, std::time::Duration::ZERO);
    // A link shared to the app (`/share`) is read as soon as the page runs.
    if with_button && query.with_untracked(|q| q.get("shared").is_some()) {
        Effect::new(move |_| read_now());
    }
    let text = move || match state.get() {
        Reading::Idle => String::new(),
        Reading::Busy => tu_string!(i18n, link_reading).to_string(),
        Reading::Read => tu_string!(i18n, link_read).to_string(),
        Reading::Problem(problem) => problem_text(problem),
        Reading::Refused(message) => crate::ui::lang::translate_error(&message),
    };
    view! {
        <input
            id=id
            name="url"
            type="url"
            maxlength="2000"
            value=value
            node_ref=fields.url
            on:paste=on_paste
            on:change=move |_| read_now()
        />
        <div class="link-fill">
            {with_button.then(|| view! {
                <button
                    type="submit"
                    class="small"
                    formaction="/api/fn/fill_from_link"
                    formnovalidate=true
                    data-testid="fill-from-link"
                    on:click=move |ev| {
                        ev.prevent_default();
                        last.set_value(String::new());
                        read_now();
                    }
                >
                    {move || tu_string!(i18n, fill_from_link)}
                </button>
            })}
            <p class="muted" role="status" data-testid="link-status">{text}</p>
        </div>
        // A hidden input's value is its attribute, so this is right with or
        // without the wasm.
        <input type="hidden" name="picture" value=move || fields.picture.get().unwrap_or_default() />
        {move || fields.picture.get().map(|id| view! {
            <img
                class="link-picture"
                data-testid="link-picture"
                src=format!("/pictures/{id}/thumb")
                alt=tu_string!(i18n, picture_from_link)
            />
        })}
    }
}

/// A problem in the page's language.
fn problem_text(problem: LinkProblem) -> String {
    let i18n = use_i18n();
    match problem {
        LinkProblem::Blocked => tu_string!(i18n, link_blocked),
        LinkProblem::Private => tu_string!(i18n, link_private),
        LinkProblem::Unreachable => tu_string!(i18n, link_unreachable),
        LinkProblem::TooSlow => tu_string!(i18n, link_too_slow),
        LinkProblem::NotAPage => tu_string!(i18n, link_not_a_page),
    }
    .to_string()
}

/// Reads the link in the field (once per link) and fills in what the page
/// said.
fn read_into(fields: LinkFields, state: RwSignal<Reading>, last: StoredValue<String>) {
    let Some(input) = fields.url.get_untracked() else {
        return;
    };
    let link = input.value().trim().to_owned();
    if link.is_empty() || last.with_value(|seen| *seen == link) {
        return;
    }
    last.set_value(link.clone());
    state.set(Reading::Busy);
    leptos::task::spawn_local(async move {
        match read_link(link).await {
            Ok(preview) => {
                fill(fields, &preview);
                state.set(preview.problem.map_or(Reading::Read, Reading::Problem));
            }
            Err(err) => state.set(Reading::Refused(err.message)),
        }
    });
}

fn fill(fields: LinkFields, preview: &LinkPreview) {
    let set = |field: NodeRef<leptos::html::Input>, value: Option<String>| {
        if let (Some(input), Some(value)) = (field.get_untracked(), value) {
            input.set_value(&value);
        }
    };
    set(fields.title, preview.title.clone());
    set(fields.price, preview.price_cents.map(cents_text));
    set(fields.currency, preview.currency.clone());
    if preview.problem.is_none() {
        fields
            .picture
            .set(preview.picture.as_ref().map(|p| p.to_string()));
    }
}
