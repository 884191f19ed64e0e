//! `/share`: where a phone's "Share → Giftlist" lands (the web app
//! manifest's `share_target`). The person picks one of their lists, and
//! its add form opens with the shared link (and title) filled in, to be
//! read and checked there like a pasted link.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};
use serde::{Deserialize, Serialize};

use super::{auth::use_current_user, lang::translate_error};
use crate::{
    i18n::{tu_string, use_i18n},
    model::{error::AppError, ListId},
};

/// A list a shared link may go on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareChoice {
    pub list_id: ListId,
    pub title: String,
    pub family: String,
}

/// The lists the caller may add gifts to now: every list of their
/// families that is not archived.
#[server(prefix = "/api/fn", endpoint = "share_choices", client = crate::ui::fetch::PageClient)]
pub async fn share_choices() -> Result<Vec<ShareChoice>, AppError> {
    let service = super::server::state()?.service;
    let me = super::server::user_id().await?;
    let mut choices = Vec::new();
    for family in service.me(&me).await?.families {
        let detail = service.family_detail(&me, &family.id).await?;
        choices.extend(
            detail
                .lists
                .into_iter()
                .filter(|list| !list.archived)
                .map(|list| ShareChoice {
                    list_id: list.id,
                    title: list.title,
                    family: detail.family.name.clone(),
                }),
        );
    }
    Ok(choices)
}

/// The link a share carries: `url`, or else the first web address in
/// `text` (Android puts a page's address there), trimmed of the
/// punctuation a sentence leaves on it.
pub fn shared_link(url: Option<&str>, text: Option<&str>) -> Option<String> {
    let is_web = |word: &str| word.starts_with("https://") || word.starts_with("http://");
    url.map(str::trim)
        .filter(|url| is_web(url))
        .map(str::to_owned)
        .or_else(|| {
            text?
                .split_whitespace()
                .find(|word| is_web(word))
                .map(|word| {
                    word.trim_end_matches([',', '.', ')', ';', '!', '?'])
                        .to_owned()
                })
        })
}

/// The login page, set to come back to this page with the shared link
/// (and title) once the person is logged in.
fn login_then_back(link: Option<&str>, title: Option<&str>) -> String {
    let mut back = form_urlencoded::Serializer::new(String::new());
    if let Some(link) = link {
        back.append_pair("url", link);
    }
    if let Some(title) = title {
        back.append_pair("title", title);
    }
    let back = back.finish();
    let next = if back.is_empty() {
        "/share".to_owned()
    } else {
        format!("/share?{back}")
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", &next)
        .finish();
    format!("/login?{query}")
}

/// Where a choice leads: the list's add form, filled in.
fn add_form_address(list: &ListId, link: &str, title: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("shared", "1").append_pair("url", link);
    if let Some(title) = title.filter(|t| !t.trim().is_empty()) {
        query.append_pair("title", title.trim());
    }
    format!("/lists/{list}?{}#add-a-gift", query.finish())
}

#[component]
pub fn IncomingSharePage() -> impl IntoView {
    let i18n = use_i18n();
    let user = use_current_user();
    let query = leptos_router::hooks::use_query_map();
    let (link, title) = query.with_untracked(|q| {
        (
            shared_link(q.get("url").as_deref(), q.get("text").as_deref()),
            q.get("title"),
        )
    });
    let choices = Resource::new(|| (), |_| share_choices());
    view! {
        <Title text="Giftlist" />
        <h1>{tu_string!(i18n, incoming_heading)}</h1>
        <Transition fallback=|| ()>
            {move || {
                let (link, title) = (link.clone(), title.clone());
                Suspend::new(async move {
                    if !matches!(user.await, Ok(Some(_))) {
                        // Back here, with the shared link, once logged in.
                        let login = login_then_back(link.as_deref(), title.as_deref());
                        return view! { <Redirect path=login /> }.into_any();
                    }
                    let Some(link) = link else {
                        return view! { <p class="empty" data-testid="incoming-no-link">{tu_string!(i18n, incoming_no_link)}</p> }.into_any();
                    };
                    // The link is shown whatever follows: the person sees
                    // what they shared, even with no list to put it on.
                    let shared = view! { <p class="shared-link" data-testid="incoming-link">{link.clone()}</p> };
                    match choices.await {
                        Ok(lists) if lists.is_empty() => view! {
                            {shared}
                            <p class="empty">{tu_string!(i18n, incoming_no_lists)}</p>
                        }.into_any(),
                        Ok(lists) => view! {
                            {shared}
                            <h2>{tu_string!(i18n, incoming_pick)}</h2>
                            <ul class="choices">
                                {lists.into_iter().map(|choice| {
                                    let href = add_form_address(&choice.list_id, &link, title.as_deref());
                                    view! {
                                        <li>
                                            <A href=href attr:data-testid="share-list">{choice.title}</A>
                                            <span class="muted">" · "{choice.family}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <p role="alert">{translate_error(&err.message)}</p> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_comes_from_url_or_else_from_text() {
        assert_eq!(
            shared_link(Some("https://shop.example/a"), Some("x https://b.example")),
            Some("https://shop.example/a".into())
        );
        assert_eq!(
            shared_link(None, Some("Look at this: https://shop.example/kettle.")),
            Some("https://shop.example/kettle".into())
        );
        assert_eq!(
            shared_link(Some("javascript:alert(1)"), Some("no link")),
            None
        );
        assert_eq!(shared_link(None, None), None);
    }

    #[test]
    fn logging_in_comes_back_with_the_link() {
        assert_eq!(
            login_then_back(Some("https://s.example/a?b=1"), Some("Kettle")),
            "/login?next=%2Fshare%3Furl%3Dhttps%253A%252F%252Fs.example%252Fa%253Fb%253D1%26title%3DKettle"
        );
        assert_eq!(login_then_back(None, None), "/login?next=%2Fshare");
    }

    #[test]
    fn a_choice_opens_the_add_form_filled_in() {
        assert_eq!(
            add_form_address(&ListId("l_1".into()), "https://s.example/a?b=1&c", Some("Kettle & cup")),
            "/lists/l_1?shared=1&url=https%3A%2F%2Fs.example%2Fa%3Fb%3D1%26c&title=Kettle+%26+cup#add-a-gift"
        );
    }
}
