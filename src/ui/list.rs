//! `/lists/:id`: a list's items, with add, edit, remove, claim and release.
//! Members see who claimed what; the recipient's page shows no trace of
//! claims (the server never sends them one: see `service::surprise`).

// A server function takes its form's fields as arguments, one each, and
// `#[server]` does not pass an `allow` on to the code it generates.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};
use serde::{Deserialize, Serialize};

use super::form::{error_text, Message};
use crate::model::{
    error::AppError, ClaimStatus, Item, ItemId, ListDetail, ListId, Member, UserId,
};

/// Everything the list page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListPageData {
    pub detail: ListDetail,
    pub members: Vec<Member>,
    pub me: UserId,
}

#[server(prefix = "/api/fn", endpoint = "get_list")]
pub async fn get_list(id: ListId) -> Result<ListPageData, AppError> {
    let service = super::server::state()?.service;
    let me = super::server::user_id().await?;
    let detail = service.list_detail(&me, &id).await?;
    let members = service
        .family_detail(&me, &detail.list.family_id)
        .await?
        .members;
    Ok(ListPageData {
        detail,
        members,
        me,
    })
}

/// "12.50" (or "12,50") to 1250 cents; empty is no price.
pub fn parse_price(text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim().replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || AppError::bad_request("price must be an amount like 12.50");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(fraction))
        .map(Some)
        .ok_or_else(bad)
}

/// 1250 and "EUR" to "12.50 EUR".
pub fn format_price(cents: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", cents / 100, cents % 100)
}

#[cfg(feature = "ssr")]
fn priority_from(text: &str) -> Result<i64, AppError> {
    text.trim()
        .parse()
        .map_err(|_| AppError::bad_request("priority must be a number from 1 to 5"))
}

#[cfg(feature = "ssr")]
fn optional(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

#[server(prefix = "/api/fn", endpoint = "add_item")]
pub async fn add_item(
    list_id: ListId,
    title: String,
    url: String,
    price: String,
    currency: String,
    notes: String,
    priority: String,
) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let result = super::server::act(|service, actor| async move {
        let input = crate::model::input::NewItem {
            title,
            url: optional(url),
            price_cents: parse_price(&price)?,
            currency: optional(currency),
            notes: optional(notes),
            priority: Some(priority_from(&priority)?),
        };
        service.add_item(&actor, &list_id, input).await
    })
    .await;
    super::server::answer(result, &back).await.map(|_| ())
}

#[server(prefix = "/api/fn", endpoint = "edit_item")]
pub async fn edit_item(
    list_id: ListId,
    item_id: ItemId,
    version: i64,
    title: String,
    url: String,
    price: String,
    currency: String,
    notes: String,
    priority: String,
) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let result = super::server::act(|service, actor| async move {
        let patch = crate::model::input::ItemPatch {
            version,
            title: Some(Some(title)),
            url: Some(optional(url)),
            price_cents: Some(parse_price(&price)?),
            currency: Some(Some(currency)),
            notes: Some(optional(notes)),
            priority: Some(Some(priority_from(&priority)?)),
        };
        service.update_item(&actor, &item_id, patch).await
    })
    .await;
    super::server::answer(result, &back).await.map(|_| ())
}

#[server(prefix = "/api/fn", endpoint = "remove_item")]
pub async fn remove_item(list_id: ListId, item_id: ItemId) -> Result<(), AppError> {
    let result =
        super::server::act(
            |service, actor| async move { service.delete_item(&actor, &item_id).await },
        )
        .await;
    super::server::answer(result, &format!("/lists/{list_id}")).await
}

#[server(prefix = "/api/fn", endpoint = "claim")]
pub async fn claim(list_id: ListId, item_id: ItemId, status: ClaimStatus) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let result = super::server::act(|service, actor| async move {
        let input = crate::model::input::ClaimRequest { status };
        service.claim_item(&actor, &item_id, input).await
    })
    .await;
    super::server::answer(result, &back).await.map(|_| ())
}

#[server(prefix = "/api/fn", endpoint = "release")]
pub async fn release(list_id: ListId, item_id: ItemId) -> Result<(), AppError> {
    let result =
        super::server::act(
            |service, actor| async move { service.release_item(&actor, &item_id).await },
        )
        .await;
    super::server::answer(result, &format!("/lists/{list_id}"))
        .await
        .map(|_| ())
}

/// The actions of the list page, shared by its rows.
#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddItem>,
    edit: ServerAction<EditItem>,
    remove: ServerAction<RemoveItem>,
    claim: ServerAction<Claim>,
    release: ServerAction<Release>,
}

impl Actions {
    fn version(&self) -> usize {
        self.add.version().get()
            + self.edit.version().get()
            + self.remove.version().get()
            + self.claim.version().get()
            + self.release.version().get()
    }

    /// The last refusal of any of them, or one brought back in `?error=`.
    fn message(&self) -> Signal<Option<String>> {
        let a = *self;
        error_text(move || {
            [
                a.add.value().get(),
                a.edit.value().get(),
                a.remove.value().get(),
                a.claim.value().get(),
                a.release.value().get(),
            ]
            .into_iter()
            .flatten()
            .find(Result::is_err)
        })
    }
}

#[component]
pub fn ListPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || ListId(params.read().get("id").unwrap_or_default());
    let actions = Actions {
        add: ServerAction::new(),
        edit: ServerAction::new(),
        remove: ServerAction::new(),
        claim: ServerAction::new(),
        release: ServerAction::new(),
    };
    let data = Resource::new(move || (id(), actions.version()), |(id, _)| get_list(id));
    let message = actions.message();
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(err) => view! {
                        <Title text="List · Giftlist" />
                        <p role="alert">{err.message}</p>
                    }.into_any(),
                    Ok(page) => list_view(page, actions).into_any(),
                }
            })}
        </Transition>
        <Message message />
    }
}

fn list_view(page: ListPageData, actions: Actions) -> impl IntoView {
    let ListPageData {
        detail,
        members,
        me,
    } = page;
    let list = detail.list;
    let is_recipient = list.recipient_user_id.as_ref() == Some(&me);
    let me_for_names = me.clone();
    let name_of = move |user: &UserId| {
        if *user == me_for_names {
            "you".to_string()
        } else {
            members
                .iter()
                .find(|m| &m.user_id == user)
                .map_or_else(|| "someone".into(), |m| m.name.clone())
        }
    };
    let recipient = list.recipient_name.clone().unwrap_or_else(|| {
        list.recipient_user_id
            .as_ref()
            .map(&name_of)
            .unwrap_or_default()
    });
    let list_id = list.id.to_string();
    let rows = detail
        .items
        .into_iter()
        .map(|item| {
            let claim_text = item.claim.as_ref().map(|c| {
                let status = match c.status {
                    ClaimStatus::Reserved => "Reserved",
                    ClaimStatus::Purchased => "Bought",
                };
                format!("{status} by {}", name_of(&c.by))
            });
            item_row(
                item,
                list_id.clone(),
                claim_text,
                is_recipient,
                &me,
                actions,
            )
        })
        .collect_view();
    view! {
        <Title text=format!("{} · Giftlist", list.title) />
        <p><A href=format!("/families/{}", list.family_id)>"← Family"</A></p>
        <h1>{list.title.clone()}</h1>
        <p class="muted">"For "{recipient}</p>
        <ul class="items" data-testid="items">{rows}</ul>
        <h2>"Add a gift"</h2>
        <ActionForm action=actions.add attr:class="stacked-form" attr:data-testid="add-item">
            <input type="hidden" name="list_id" value=list_id.clone() />
            <ItemFields item=None />
            <button type="submit">"Add"</button>
        </ActionForm>
    }
}

/// The editable fields of an item, filled from `item` when editing.
#[component]
fn ItemFields(item: Option<Item>) -> impl IntoView {
    let prefix = item
        .as_ref()
        .map_or_else(|| "new".to_string(), |i| i.id.to_string());
    let field = |name: &str| format!("{prefix}-{name}");
    let price = item
        .as_ref()
        .and_then(|i| i.price_cents)
        .map(|c| format!("{}.{:02}", c / 100, c % 100))
        .unwrap_or_default();
    let priority = item.as_ref().map_or(3, |i| i.priority);
    view! {
        <label for=field("title")>"Gift"</label>
        <input id=field("title") name="title" required maxlength="200" value=item.as_ref().map(|i| i.title.clone()) />
        <label for=field("url")>"Link (optional)"</label>
        <input id=field("url") name="url" type="url" maxlength="2000" value=item.as_ref().and_then(|i| i.url.clone()) />
        <label for=field("price")>"Price (optional)"</label>
        <input id=field("price") name="price" inputmode="decimal" value=price />
        <label for=field("currency")>"Currency"</label>
        <input id=field("currency") name="currency" maxlength="3" value=item.as_ref().map_or_else(|| "EUR".to_string(), |i| i.currency.clone()) />
        <label for=field("notes")>"Notes (optional)"</label>
        <textarea id=field("notes") name="notes" maxlength="2000">{item.as_ref().and_then(|i| i.notes.clone())}</textarea>
        <label for=field("priority")>"How much wanted (1 most, 5 least)"</label>
        <select id=field("priority") name="priority">
            {(1..=5).map(|p| view! { <option value=p.to_string() selected=p == priority>{p.to_string()}</option> }).collect_view()}
        </select>
    }
}

fn item_row(
    item: Item,
    list_id: String,
    claim_text: Option<String>,
    is_recipient: bool,
    me: &UserId,
    actions: Actions,
) -> impl IntoView {
    let mine = item.claim.as_ref().is_some_and(|c| &c.by == me);
    let free = item.claim.is_none();
    let item_id = item.id.to_string();
    let title = match item.url.clone() {
        Some(url) => view! { <a href=url rel="noopener noreferrer nofollow" target="_blank">{item.title.clone()}</a> }.into_any(),
        None => view! { <span>{item.title.clone()}</span> }.into_any(),
    };
    let hidden = {
        let (list_id, item_id) = (list_id.clone(), item_id.clone());
        move || {
            view! {
                <input type="hidden" name="list_id" value=list_id.clone() />
                <input type="hidden" name="item_id" value=item_id.clone() />
            }
        }
    };
    let claim_controls = (!is_recipient).then(|| {
        let claim_line = claim_text.clone().map(|text| view! { <p class="claim" data-testid="claim">{text}</p> });
        let buttons = if free {
            let (h1, h2) = (hidden.clone(), hidden.clone());
            view! {
                <ActionForm action=actions.claim>{h1()}<input type="hidden" name="status" value="reserved" /><button type="submit">"I'll get this"</button></ActionForm>
                <ActionForm action=actions.claim>{h2()}<input type="hidden" name="status" value="purchased" /><button type="submit">"I bought this"</button></ActionForm>
            }.into_any()
        } else if mine {
            let (h1, h2) = (hidden.clone(), hidden.clone());
            view! {
                <ActionForm action=actions.claim>{h1()}<input type="hidden" name="status" value="purchased" /><button type="submit">"Mark bought"</button></ActionForm>
                <ActionForm action=actions.release>{h2()}<button type="submit">"Release"</button></ActionForm>
            }.into_any()
        } else {
            ().into_any()
        };
        view! { {claim_line} <div class="row-actions">{buttons}</div> }
    });
    let price = item.price_cents.map(|c| format_price(c, &item.currency));
    let remove_hidden = hidden.clone();
    let edit_list = list_id.clone();
    let edit_item_id = item_id.clone();
    let version = item.version.to_string();
    let aria = format!("Remove {}", item.title);
    view! {
        <li class="item" data-testid="item">
            <div class="item-head">
                <span class="priority" title="How much wanted (1 most)">{item.priority}</span>
                <strong class="item-title">{title}</strong>
                {price.map(|p| view! { <span class="price">{p}</span> })}
            </div>
            {item.notes.clone().map(|n| view! { <p class="notes">{n}</p> })}
            {claim_controls}
            <div class="row-actions">
                <details>
                    <summary>"Edit"</summary>
                    <ActionForm action=actions.edit attr:class="stacked-form">
                        <input type="hidden" name="list_id" value=edit_list />
                        <input type="hidden" name="item_id" value=edit_item_id />
                        <input type="hidden" name="version" value=version />
                        <ItemFields item=Some(item.clone()) />
                        <button type="submit">"Save"</button>
                    </ActionForm>
                </details>
                <ActionForm action=actions.remove>{remove_hidden()}<button type="submit" aria-label=aria>"Remove"</button></ActionForm>
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_and_format() {
        assert_eq!(parse_price("12.5").unwrap(), Some(1250));
        assert_eq!(parse_price("12,05").unwrap(), Some(1205));
        assert_eq!(parse_price(" 7 ").unwrap(), Some(700));
        assert_eq!(parse_price("").unwrap(), None);
        for bad in ["1.234", "-1", "abc", ".5", "1e3"] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
        assert_eq!(format_price(1205, "EUR"), "12.05 EUR");
    }
}
