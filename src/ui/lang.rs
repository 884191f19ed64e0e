//! The language a page is shown in: English, German, French or Spanish.
//!
//! Chosen on the server for each request: the `i18n_pref_locale` cookie
//! (set by the header's language links through `/lang/{code}`), else the
//! browser's `Accept-Language`, else English. The server writes it into
//! `<html lang>`, and the browser's hydration reads it from there, so the
//! two never disagree and no page flashes in another language. The browser
//! never reads the cookie: only the server does ([`provide_language`]).
//!
//! The server's refusals stay in English on the wire (clients of the API
//! read them); the pages translate the ones they show, here.

use leptos::prelude::*;

use crate::i18n::{tu_string, use_i18n, I18nLocaleTrait as _, Locale};

/// Where the header's links send a language choice; the server remembers it
/// in the cookie and sends the person back (see `server::set_language`).
pub const LANG_PATH: &str = "/lang";

/// The name of the cookie that remembers the choice.
pub const LANG_COOKIE: &str = "i18n_pref_locale";

/// Where leptos_i18n reads the languages a request prefers, on the server:
/// the language picked in the header (the cookie) before the browser's
/// `Accept-Language`. In the browser it is not used (the page's
/// `<html lang>` says which language the server chose).
fn language_source() -> leptos_i18n::context::UseLocalesOptions {
    let options = leptos_i18n::context::UseLocalesOptions::default();
    #[cfg(feature = "ssr")]
    let options = options.ssr_lang_header_getter(preferred_languages);
    options
}

/// Provides the page's language to everything under the caller, as
/// leptos_i18n's context.
///
/// Made here rather than by leptos_i18n's provider alone: the context it
/// makes starts a task on the server (an isomorphic effect keeping its
/// cookie signal in step) that reads the language signal. When a worker
/// thread polls that task just as the page, finished on another thread,
/// drops its owner, the read finds the signal gone and the task panics
/// (seen once in a CI server log, after a 5 ms `/login`). The task checks
/// whether its owner is paused before each run: made under an owner that
/// is paused on the server right after, it never reads there (it has
/// nothing to do on the server: the cookie is the server's own, see
/// `server::set_language`). leptos_i18n's provider (in `App`) finds this
/// context and makes no other, and still writes `<html lang>`.
///
/// Not covered by a test: the window is one poll racing one drop on two
/// threads, and no hook into the task can widen it.
pub fn provide_language() {
    let owner = Owner::new();
    let i18n = owner.with(|| {
        leptos_i18n::context::init_i18n_context_with_options::<Locale>(
            leptos_i18n::context::I18nContextOptions::default()
                .ssr_lang_header_getter(language_source()),
        )
    });
    #[cfg(feature = "ssr")]
    owner.pause();
    // Owners hold their children weakly: this one lives as long as the page.
    on_cleanup(move || drop(owner));
    provide_context(i18n);
}

/// The cookie's language, then the `Accept-Language` list, as one
/// `Accept-Language` value.
#[cfg(feature = "ssr")]
fn preferred_languages() -> Option<String> {
    use axum::http::header;
    let parts = use_context::<axum::http::request::Parts>()?;
    let accept = parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    let picked = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(name, _)| *name == LANG_COOKIE)
        .map(|(_, code)| code)
        .filter(|code| {
            languages()
                .iter()
                .any(|(locale, _)| locale.as_str() == *code)
        });
    match (picked, accept) {
        (Some(code), Some(accept)) => Some(format!("{code},{accept}")),
        (Some(code), None) => Some(code.to_string()),
        (None, accept) => accept.map(str::to_string),
    }
}

/// The language of the page being rendered, for formatting numbers.
pub fn current_lang() -> &'static str {
    lang_of(use_i18n())
}

/// The language of `i18n`, for code that has the context at hand (a list
/// row, rendered 200 times, should not look it up each time).
pub fn lang_of(i18n: leptos_i18n::I18nContext<Locale>) -> &'static str {
    i18n.get_locale_untracked().as_str()
}

/// Each language by its own name, for the picker.
pub fn languages() -> [(Locale, &'static str); 4] {
    [
        (Locale::en, "English"),
        (Locale::de, "Deutsch"),
        (Locale::fr, "Français"),
        (Locale::es, "Español"),
    ]
}

/// The header's language picker: one link per language. Plain links (with
/// `rel="external"`, so the router lets the browser follow them): the
/// server sets the cookie and sends the person back to the same page,
/// which then renders in the new language, with or without the wasm.
#[component]
pub fn LanguagePicker() -> impl IntoView {
    let i18n = use_i18n();
    let location = leptos_router::hooks::use_location();
    let back = move || {
        let path = location.pathname.get();
        let query = location.search.get();
        let here = if query.is_empty() {
            path
        } else {
            format!("{path}?{}", query.trim_start_matches('?'))
        };
        percent_encode(&here)
    };
    view! {
        <nav class="languages" aria-label=tu_string!(i18n, nav_language) data-testid="languages">
            <ul>
                {languages().into_iter().map(|(locale, name)| {
                    let code = locale.as_str();
                    let current = move || i18n.get_locale() == locale;
                    view! {
                        <li>
                            <a
                                href=move || format!("{LANG_PATH}/{code}?back={}", back())
                                rel="external"
                                lang=code
                                hreflang=code
                                aria-current=move || current().then_some("true")
                            >{name}</a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </nav>
    }
}

/// Enough of percent-encoding for a local path in a query value.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// A translated text with its `{name}` blanks filled in from `values`, in
/// one pass (a value that itself holds `{...}` is left as it is).
///
/// The blanks are Giftlist's own rather than leptos_i18n's `{{ name }}`:
/// the compile-time macro this crate uses cannot turn those into strings,
/// and page titles, labels and messages need strings.
pub fn fill(template: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (close, value))
        });
        match value {
            Some((close, value)) => {
                out.push_str(&value.to_string());
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What a priority means, in the page's language.
pub fn priority_words(priority: i64) -> String {
    let i18n = use_i18n();
    match priority {
        1 => tu_string!(i18n, priority_1),
        2 => tu_string!(i18n, priority_2),
        3 => tu_string!(i18n, priority_3),
        4 => tu_string!(i18n, priority_4),
        _ => tu_string!(i18n, priority_5),
    }
    .to_string()
}

/// "1 gift", "3 gifts".
pub fn gift_count(count: i64) -> String {
    let i18n = use_i18n();
    if count == 1 {
        tu_string!(i18n, gifts_one).to_string()
    } else {
        fill(tu_string!(i18n, gifts_many), &[("count", &count)])
    }
}

/// A refusal's message as the page shows it: the server's English words
/// in the page's language. Messages it does not know stay as they came.
pub fn translate_error(message: &str) -> String {
    let i18n = use_i18n();
    let exact = match message {
        "the server could not be reached. Check your connection and try again." => {
            Some(tu_string!(i18n, err_unreachable))
        }
        "someone else changed this item first; here is the current version" => {
            Some(tu_string!(i18n, err_stale))
        }
        "someone else has already claimed this item" => Some(tu_string!(i18n, err_taken)),
        "nobody has claimed this item" => Some(tu_string!(i18n, err_unclaimed)),
        "you cannot claim items on your own list" => Some(tu_string!(i18n, err_own_claim)),
        "you cannot claim or release items on your own list" => {
            Some(tu_string!(i18n, err_own_release))
        }
        "only the person who claimed this item can release it" => {
            Some(tu_string!(i18n, err_not_claimer))
        }
        "only the person who made this list or a family admin may change it" => {
            Some(tu_string!(i18n, err_not_list_manager))
        }
        "give exactly one of recipient_user_id and recipient_name" => {
            Some(tu_string!(i18n, err_one_recipient))
        }
        "recipient_user_id must be a member of the family" => {
            Some(tu_string!(i18n, err_recipient_not_member))
        }
        "an account with this email already exists" => Some(tu_string!(i18n, err_email_taken)),
        "the email or password is not right" => Some(tu_string!(i18n, err_bad_login)),
        "this account no longer exists" => Some(tu_string!(i18n, err_account_gone)),
        "log in to see this" => Some(tu_string!(i18n, err_log_in)),
        "log in first" => Some(tu_string!(i18n, err_log_in_first)),
        "url must be a web address like https://shop.example/gift"
        | "url must be an http:// or https:// web address" => {
            Some(tu_string!(i18n, err_link_not_web))
        }
        "you have read many shop pages just now; wait a minute and try again" => {
            Some(tu_string!(i18n, err_link_limit))
        }
        "too many attempts from your address; wait a little and try again" => {
            Some(tu_string!(i18n, err_too_many_ip))
        }
        "too many attempts for this account; wait a little and try again" => {
            Some(tu_string!(i18n, err_too_many_account))
        }
        "the server is busy checking passwords; try again in a moment" => {
            Some(tu_string!(i18n, err_busy))
        }
        "the database cannot be reached just now; try again in a moment" => {
            Some(tu_string!(i18n, err_database_away))
        }
        "something went wrong on the server; please try again" => {
            Some(tu_string!(i18n, err_internal))
        }
        "cross-site request refused: it must come from this site" => {
            Some(tu_string!(i18n, err_cross_site))
        }
        "price must be an amount like 12.50" => Some(tu_string!(i18n, err_price)),
        "priority must be a number from 1 to 5" => Some(tu_string!(i18n, err_priority)),
        "email is not a valid address" => Some(tu_string!(i18n, err_email_invalid)),
        "url must be a web address starting with http:// or https://" => {
            Some(tu_string!(i18n, err_url))
        }
        "currency must be an ISO 4217 code such as EUR or USD" => {
            Some(tu_string!(i18n, err_currency))
        }
        "all of this item is taken" => Some(tu_string!(i18n, err_all_taken)),
        "this item is not a group gift" => Some(tu_string!(i18n, err_not_group)),
        "members have pledged to this gift: they must withdraw their pledges first" => {
            Some(tu_string!(i18n, err_has_pledges))
        }
        "you have not pledged to this gift" => Some(tu_string!(i18n, err_no_pledge)),
        "you cannot chip in for gifts on your own list" => Some(tu_string!(i18n, err_own_chip)),
        "the amount must be like 12.50" => Some(tu_string!(i18n, err_amount)),
        "amount_cents must be between 100 (one unit of the currency) and 1000000000000" => {
            Some(tu_string!(i18n, err_pledge_range))
        }
        "give target_cents: the gift has no price, or no limit on how many" => {
            Some(tu_string!(i18n, err_no_target))
        }
        "only 1 is left to claim" => Some(tu_string!(i18n, err_one_left)),
        "quantity must be between 1 and 999, or null for no limit"
        | "quantity must be a number from 1 to 999, or empty for no limit" => {
            Some(tu_string!(i18n, err_quantity))
        }
        "units must be between 1 and 999" | "units must be a number from 1 to 999" => {
            Some(tu_string!(i18n, err_units))
        }
        "this link was revoked" => Some(tu_string!(i18n, err_link_revoked)),
        "this link has expired" => Some(tu_string!(i18n, err_link_expired)),
        "this link only shows the list: claiming needs a givers' link" => {
            Some(tu_string!(i18n, err_link_view_only))
        }
        "give your name, so the family knows who is bringing it" => {
            Some(tu_string!(i18n, err_guest_name))
        }
        "only whoever claimed this can change it: open the link you were given when you claimed" => {
            Some(tu_string!(i18n, err_guest_not_yours))
        }
        "you cannot make a givers' link for your own list: it would show what is taken" => {
            Some(tu_string!(i18n, err_no_givers_link_own))
        }
        "expires_at must be in the future" => Some(tu_string!(i18n, err_expiry_past)),
        "this reset link is invalid, used or expired: ask for a new one" => {
            Some(tu_string!(i18n, err_bad_reset))
        }
        "the current password is not right" => Some(tu_string!(i18n, err_wrong_current)),
        "the password is not right" => Some(tu_string!(i18n, err_wrong_password)),
        "this confirmation link is invalid, used or expired: ask for a new one" => {
            Some(tu_string!(i18n, err_bad_confirm))
        }
        "this is already your address" => Some(tu_string!(i18n, err_already_yours)),
        "this list is archived: restore it to change it" => Some(tu_string!(i18n, err_archived)),
        "the person a list is for can change only while nothing on it is claimed or chipped in for" => {
            Some(tu_string!(i18n, err_recipient_taken))
        }
        "event_date must be a day like 2026-12-24, at most a year back and five years ahead" => {
            Some(tu_string!(i18n, err_event_date))
        }
        "the person a list is for does not choose what they see after the event" => {
            Some(tu_string!(i18n, err_reveal_recipient))
        }
        "a confirmation link was sent to this address a moment ago; wait a little before asking again" => {
            Some(tu_string!(i18n, err_confirm_wait))
        }
        "confirm your email address first: open the link we mailed you (the settings page sends it again)" => {
            Some(tu_string!(i18n, err_unconfirmed))
        }
        "only the family's admins may rename it" => Some(tu_string!(i18n, err_not_family_admin)),
        "the family's last admin cannot step down or leave: make another member admin first" => {
            Some(tu_string!(i18n, err_last_admin))
        }
        "only the family's admins may remove a member" => {
            Some(tu_string!(i18n, err_not_admin_remove))
        }
        "only the family's admins may change who is an admin" => {
            Some(tu_string!(i18n, err_not_admin_role))
        }
        "only whoever made an invite, or an admin, may revoke it" => {
            Some(tu_string!(i18n, err_invite_not_yours))
        }
        "an invite was mailed to this address a moment ago; wait a little before mailing it again" => {
            Some(tu_string!(i18n, err_invite_wait))
        }
        "you have mailed many invites just now; wait a little and try again" => {
            Some(tu_string!(i18n, err_invite_many))
        }
        "tick the box to confirm that the list and its gifts go" => {
            Some(tu_string!(i18n, err_confirm_delete))
        }
        "a reset link was sent to this address a moment ago; wait a little before asking again" => {
            Some(tu_string!(i18n, err_reset_wait))
        }
        "too many unknown links from your address; wait a little and try again" => {
            Some(tu_string!(i18n, err_too_many_links))
        }
        _ => None,
    };
    if let Some(text) = exact {
        return text.to_string();
    }
    // Refusals that carry a number.
    let between = |before: &str, after: &str| message.strip_prefix(before)?.strip_suffix(after);
    let number_between = |before: &str, after: &str| between(before, after)?.parse::<i64>().ok();
    if let Some(n) = number_between("only ", " are left to claim") {
        return fill(tu_string!(i18n, err_left), &[("n", &n)]);
    }
    if let Some(n) = number_between(
        "givers hold ",
        " of this item: talk to them first, or confirm to release the newest claims",
    ) {
        return fill(tu_string!(i18n, err_held), &[("n", &n)]);
    }
    if let Some(currency) = between(
        "members have pledged in ",
        " to this gift: its currency cannot change",
    ) {
        return fill(
            tu_string!(i18n, err_currency_pledged),
            &[("currency", &currency)],
        );
    }
    let field = |name: &str| -> String {
        match name {
            "title" => tu_string!(i18n, field_title),
            "name" => tu_string!(i18n, field_name),
            "notes" => tu_string!(i18n, field_notes),
            "url" => tu_string!(i18n, field_url),
            "password" => tu_string!(i18n, field_password),
            "email" => tu_string!(i18n, field_email),
            "list" => tu_string!(i18n, what_list),
            "item" => tu_string!(i18n, what_item),
            "family" => tu_string!(i18n, what_family),
            "invite" => tu_string!(i18n, what_invite),
            "page" => tu_string!(i18n, what_page),
            other => return other.to_string(),
        }
        .to_string()
    };
    if let Some(status) = message
        .strip_prefix("the server answered ")
        .and_then(|rest| rest.strip_suffix(". Try again."))
    {
        return fill(tu_string!(i18n, err_status), &[("status", &status)]);
    }
    if let Some(name) = message.strip_suffix(" must not be empty") {
        return fill(tu_string!(i18n, err_empty), &[("field", &field(name))]);
    }
    if let Some(what) = message.strip_suffix(" not found") {
        return fill(tu_string!(i18n, err_not_found), &[("what", &field(what))]);
    }
    if let Some((name, rest)) = message.split_once(" is too long: at most ") {
        if let Some(n) = rest.strip_suffix(" bytes") {
            return fill(
                tu_string!(i18n, err_too_long),
                &[("field", &field(name)), ("n", &n)],
            );
        }
    }
    if let Some(n) = message
        .strip_prefix("password is too short: at least ")
        .and_then(|rest| rest.strip_suffix(" characters"))
    {
        return fill(tu_string!(i18n, err_password_short), &[("n", &n)]);
    }
    if message.starts_with("price_cents must be between") {
        return tu_string!(i18n, err_price_range).to_string();
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{Map, Value};

    fn locale(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).expect("a locale file is a JSON object")
    }

    /// The `{name}` blanks of one text.
    fn placeholders(text: &str) -> BTreeSet<String> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}'))
            .map(|(name, _)| name.to_string())
            .collect()
    }

    #[test]
    fn blanks_are_filled_once() {
        let title = "Kite {reason}";
        assert_eq!(
            super::fill(
                "Could not add “{title}”: {reason}",
                &[("title", &title), ("reason", &"no")]
            ),
            "Could not add “Kite {reason}”: no"
        );
        assert_eq!(super::fill("{unknown} {n}", &[("n", &3)]), "{unknown} 3");
        assert_eq!(super::fill("no blanks", &[]), "no blanks");
    }

    /// The pages' texts are plain strings (`tu_string!`): leptos_i18n's
    /// reactive forms (`t!`, `t_string!`) make a closure per text, each with
    /// its own rendering and hydration code in the browser's bundle, for a
    /// language that never changes under a page.
    #[test]
    fn texts_are_plain_strings() {
        fn sources(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, found);
                } else if path.extension().is_some_and(|ext| ext == "rs") {
                    found.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        assert!(files.len() > 20, "the sources were found");
        let reactive = [concat!("t", "!("), concat!("t_", "string!(")];
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                for form in reactive {
                    let found = line.match_indices(form).any(|(at, _)| {
                        !line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    });
                    assert!(!found, "{}:{}: {line}", file.display(), number + 1);
                }
            }
        }
    }

    /// Every language has every text, with the same blanks to fill in, and
    /// none is left empty.
    #[test]
    fn every_language_has_every_text() {
        let english = locale(include_str!("../../locales/en.json"));
        for (code, text) in [
            ("de", include_str!("../../locales/de.json")),
            ("fr", include_str!("../../locales/fr.json")),
            ("es", include_str!("../../locales/es.json")),
        ] {
            let other = locale(text);
            let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<BTreeSet<_>>();
            assert_eq!(keys(&english), keys(&other), "{code}: not the same keys");
            for (key, english) in &english {
                let (english, translated) =
                    (english.as_str().unwrap(), other[key].as_str().unwrap());
                assert!(!translated.trim().is_empty(), "{code}.{key} is empty");
                assert_eq!(
                    placeholders(english),
                    placeholders(translated),
                    "{code}.{key}: not the same placeholders"
                );
            }
        }
    }

    #[test]
    fn only_local_paths_are_encoded_whole() {
        assert_eq!(
            super::percent_encode("/lists/l_1?sort=price&available=1"),
            "/lists/l_1%3Fsort%3Dprice%26available%3D1"
        );
    }
}
