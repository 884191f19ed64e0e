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

use std::sync::Arc;

use super::form::{error_text, Message};
use crate::{
    live::{
        client::{follow_live, LiveData, LiveStatus, Status},
        protocol::{EventFrame, EventName},
    },
    model::{
        error::AppError, ClaimStatus, GiftList, Item, ItemId, ListDetail, ListId, Member, UserId,
    },
};

/// Everything the list page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListPageData {
    pub detail: ListDetail,
    pub members: Vec<Member>,
    pub me: UserId,
}

#[server(prefix = "/api/fn", endpoint = "get_list", client = crate::ui::fetch::PageClient)]
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

#[server(prefix = "/api/fn", endpoint = "add_item", client = crate::ui::fetch::PageClient)]
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

#[server(prefix = "/api/fn", endpoint = "edit_item", client = crate::ui::fetch::PageClient)]
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

#[server(prefix = "/api/fn", endpoint = "remove_item", client = crate::ui::fetch::PageClient)]
pub async fn remove_item(list_id: ListId, item_id: ItemId) -> Result<(), AppError> {
    let result =
        super::server::act(
            |service, actor| async move { service.delete_item(&actor, &item_id).await },
        )
        .await;
    super::server::answer(result, &format!("/lists/{list_id}")).await
}

#[server(prefix = "/api/fn", endpoint = "claim", client = crate::ui::fetch::PageClient)]
pub async fn claim(list_id: ListId, item_id: ItemId, status: ClaimStatus) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let result = super::server::act(|service, actor| async move {
        let input = crate::model::input::ClaimRequest { status };
        service.claim_item(&actor, &item_id, input).await
    })
    .await;
    super::server::answer(result, &back).await.map(|_| ())
}

#[server(prefix = "/api/fn", endpoint = "release", client = crate::ui::fetch::PageClient)]
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

    /// The outcome of whichever of them was answered last (a success
    /// clears the message), or a refusal brought back in `?error=`. A
    /// refusal by the app says why in its own words; a request that got no
    /// answer of the app's own (no connection, a proxy's error page) is told
    /// as what failed, on which gift, and what to do.
    fn message(&self, rows: StoredValue<Option<RwSignal<Vec<Row>>>>) -> Signal<Option<String>> {
        let a = *self;
        let last = LastInputs::track(a);
        let title_of = move |item: Option<ItemId>| {
            let Some(item) = item else {
                return String::new();
            };
            rows.get_value()
                .and_then(|rows| {
                    rows.with_untracked(|rows| {
                        rows.iter()
                            .find(|row| row.id == item)
                            .map(|row| row.item.with_untracked(|i| i.title.clone()))
                    })
                })
                .unwrap_or_else(|| "this gift".to_string())
        };
        let latest = RwSignal::new(None::<Result<(), AppError>>);
        // Each action, once answered, becomes the latest outcome; a failure
        // that is not the app's own answer is told in words.
        fn watch(
            answered: impl Fn() -> Option<Result<(), AppError>> + 'static,
            latest: RwSignal<Option<Result<(), AppError>>>,
            what: impl Fn() -> (&'static str, String) + 'static,
        ) {
            Effect::new(move |_| {
                let Some(result) = answered() else {
                    return;
                };
                latest.set(Some(result.map_err(|err| match err.failure {
                    Some(_) => {
                        let (verb, title) = what();
                        AppError {
                            message: failure_sentence(verb, &title, &err.message),
                            ..err
                        }
                    }
                    None => err,
                })));
            });
        }
        watch(
            move || a.add.value().get(),
            latest,
            move || {
                let title = last.add.with_value(|i| i.as_ref().map(|i| i.title.clone()));
                ("add", title.unwrap_or_default())
            },
        );
        watch(
            move || a.edit.value().get(),
            latest,
            move || {
                let id = last
                    .edit
                    .with_value(|i| i.as_ref().map(|i| i.item_id.clone()));
                ("save", title_of(id))
            },
        );
        watch(
            move || a.remove.value().get(),
            latest,
            move || {
                let id = last
                    .remove
                    .with_value(|i| i.as_ref().map(|i| i.item_id.clone()));
                ("remove", title_of(id))
            },
        );
        watch(
            move || a.claim.value().get(),
            latest,
            move || {
                let input = last.claim.with_value(|i| i.clone());
                let verb = match input.as_ref().map(|i| i.status) {
                    Some(ClaimStatus::Purchased) => "mark as bought",
                    _ => "reserve",
                };
                (verb, title_of(input.map(|i| i.item_id)))
            },
        );
        watch(
            move || a.release.value().get(),
            latest,
            move || {
                let id = last
                    .release
                    .with_value(|i| i.as_ref().map(|i| i.item_id.clone()));
                ("release", title_of(id))
            },
        );
        error_text(move || latest.get())
    }
}

/// "Could not add “Teapot”: the server answered 502. Try again."
fn failure_sentence(verb: &str, title: &str, reason: &str) -> String {
    if title.is_empty() {
        format!("Could not {verb} the gift: {reason}")
    } else {
        format!("Could not {verb} “{title}”: {reason}")
    }
}

/// The input each action was last dispatched with: an action forgets its
/// input once it is answered, but a failure's message names the gift.
#[derive(Clone, Copy)]
struct LastInputs {
    add: StoredValue<Option<AddItem>>,
    edit: StoredValue<Option<EditItem>>,
    remove: StoredValue<Option<RemoveItem>>,
    claim: StoredValue<Option<Claim>>,
    release: StoredValue<Option<Release>>,
}

impl LastInputs {
    fn track(a: Actions) -> LastInputs {
        fn keep<T: Clone + Send + Sync + 'static>(
            input: impl Fn() -> Option<T> + 'static,
        ) -> StoredValue<Option<T>> {
            let last = StoredValue::new(None);
            Effect::new(move |_| {
                if let Some(input) = input() {
                    last.set_value(Some(input));
                }
            });
            last
        }
        LastInputs {
            add: keep(move || a.add.input().get()),
            edit: keep(move || a.edit.input().get()),
            remove: keep(move || a.remove.input().get()),
            claim: keep(move || a.claim.input().get()),
            release: keep(move || a.release.input().get()),
        }
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
    let data = Resource::new(id, get_list);
    // While the page is live, a change's own event confirms it (and moves
    // only its row); reloading the whole list as well would reset a form
    // open on another row. Without the socket, the list is reloaded.
    let status = use_context::<LiveStatus>();
    Effect::new(move |seen: Option<usize>| {
        let version = actions.version();
        let live = status.is_some_and(|status| status.0.get_untracked() == Status::Live);
        if seen.is_some_and(|seen| seen != version) && !live {
            data.refetch();
        }
        version
    });
    // The rows on show, for naming a gift in a failure message.
    let rows = StoredValue::new(None);
    let message = actions.message(rows);
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(err) => view! {
                        <Title text="List · Giftlist" />
                        <p role="alert">{err.message}</p>
                    }.into_any(),
                    Ok(page) => list_view(page, actions, data, rows).into_any(),
                }
            })}
        </Transition>
        <Message message />
    }
}

/// One item on the page, changed in place by live events.
#[derive(Clone)]
struct Row {
    id: ItemId,
    item: RwSignal<Item>,
}

/// The list as the page shows it, kept current by the list's live topic:
/// each event is applied in `seq` order; a gap or a `resync` reloads.
#[derive(Clone, Copy)]
struct LiveList {
    list: RwSignal<GiftList>,
    rows: RwSignal<Vec<Row>>,
    seq: StoredValue<i64>,
    removed: RwSignal<bool>,
}

impl LiveData for LiveList {
    fn seq(&self) -> StoredValue<i64> {
        self.seq
    }

    fn apply_next(&self, event: &EventFrame) -> bool {
        self.apply(event)
    }
}

impl LiveList {
    fn new(detail: &ListDetail) -> LiveList {
        LiveList {
            list: RwSignal::new(detail.list.clone()),
            rows: RwSignal::new(detail.items.iter().cloned().map(Row::new).collect()),
            seq: StoredValue::new(detail.seq),
            removed: RwSignal::new(false),
        }
    }

    /// Applies the next event; false when it cannot be read: reload.
    fn apply(&self, event: &EventFrame) -> bool {
        let payload = event.data.payload.clone();
        if event.data.entity_id.starts_with(ItemId::PREFIX) {
            if event.name() == Some(EventName::Deleted) {
                let id = event.data.entity_id.as_str();
                self.rows
                    .update(|rows| rows.retain(|row| row.id.as_str() != id));
                return true;
            }
            let Ok(item) = serde_json::from_value::<Item>(payload) else {
                return false;
            };
            let existing = self
                .rows
                .with_untracked(|rows| rows.iter().find(|row| row.id == item.id).cloned());
            match existing {
                Some(row) => row.item.set(item),
                None => self.rows.update(|rows| rows.push(Row::new(item))),
            }
            return true;
        }
        match event.name() {
            Some(EventName::Deleted) => self.removed.set(true),
            _ => match serde_json::from_value::<GiftList>(payload) {
                Ok(list) => self.list.set(list),
                Err(_) => return false,
            },
        }
        true
    }
}

impl Row {
    fn new(item: Item) -> Row {
        Row {
            id: item.id.clone(),
            item: RwSignal::new(item),
        }
    }
}

/// Who people are on this page: "you", a member's name, or "someone".
#[derive(Clone)]
struct Names {
    me: UserId,
    members: Arc<Vec<Member>>,
}

impl Names {
    fn of(&self, user: &UserId) -> String {
        if *user == self.me {
            return "you".to_string();
        }
        self.members
            .iter()
            .find(|m| &m.user_id == user)
            .map_or_else(|| "someone".into(), |m| m.name.clone())
    }
}

fn list_view(
    page: ListPageData,
    actions: Actions,
    data: Resource<Result<ListPageData, AppError>>,
    shown_rows: StoredValue<Option<RwSignal<Vec<Row>>>>,
) -> impl IntoView {
    let ListPageData {
        detail,
        members,
        me,
    } = page;
    let live = LiveList::new(&detail);
    shown_rows.set_value(Some(live.rows));
    let list = detail.list;
    follow_live(
        live,
        crate::live::protocol::list_topic(&list.id),
        Some(format!("/api/v1/lists/{}/changes", list.id)),
        move || data.refetch(),
    );
    let is_recipient = list.recipient_user_id.as_ref() == Some(&me);
    let names = Names {
        me: me.clone(),
        members: Arc::new(members),
    };
    let recipient = list.recipient_name.clone().unwrap_or_else(|| {
        list.recipient_user_id
            .as_ref()
            .map(|user| names.of(user))
            .unwrap_or_default()
    });
    let list_id = list.id.to_string();
    let row_list_id = list_id.clone();
    view! {
        <Title text=move || format!("{} · Giftlist", live.list.get().title) />
        <p><A href=format!("/families/{}", list.family_id)>"← Family"</A></p>
        <h1>{move || live.list.get().title}</h1>
        <p class="muted">"For "{recipient}</p>
        <Show when=move || live.removed.get()>
            <p role="alert" data-testid="list-removed">"This list has been removed."</p>
        </Show>
        <ul class="items" data-testid="items">
            <For
                each=move || live.rows.get()
                key=|row| row.id.clone()
                children=move |row| item_row(row.item, row_list_id.clone(), is_recipient, names.clone(), actions)
            />
            {pending_add(actions, live, me.clone())}
        </ul>
        <h2>"Add a gift"</h2>
        <ActionForm action=actions.add attr:class="stacked-form" attr:data-testid="add-item">
            <input type="hidden" name="list_id" value=list_id.clone() />
            <ItemFields item=None />
            <button type="submit">"Add"</button>
        </ActionForm>
    }
}

/// `item` as a pending edit would leave it (fields the page cannot read
/// stay as they are; the server decides).
fn apply_edit(item: &mut Item, edit: EditItem) {
    item.title = edit.title;
    item.url = (!edit.url.is_empty()).then_some(edit.url);
    if let Ok(price) = parse_price(&edit.price) {
        item.price_cents = price;
    }
    if !edit.currency.is_empty() {
        item.currency = edit.currency;
    }
    item.notes = (!edit.notes.is_empty()).then_some(edit.notes);
    if let Ok(priority) = edit.priority.trim().parse() {
        item.priority = priority;
    }
}

/// The row of a gift being added, until the server has answered (or its
/// own event has brought the real row).
fn pending_add(actions: Actions, live: LiveList, me: UserId) -> impl IntoView {
    let before = StoredValue::new(Vec::<ItemId>::new());
    let adding = move || {
        let input = actions.add.input().get()?;
        // Already here by its event: no second row.
        let arrived = live.rows.with(|rows| {
            rows.iter().any(|row| {
                !before.with_value(|ids| ids.contains(&row.id))
                    && row
                        .item
                        .with(|i| i.title == input.title && i.created_by == me)
            })
        });
        (!arrived).then_some(input)
    };
    Effect::new(move |_| {
        if actions.add.input().with(Option::is_some) {
            before.set_value(
                live.rows
                    .with_untracked(|rows| rows.iter().map(|r| r.id.clone()).collect()),
            );
        }
    });
    move || {
        adding().map(|input| {
            view! {
                <li class="item pending" data-testid="item" data-pending="true" aria-busy="true">
                    <div class="item-head">
                        <strong class="item-title"><span>{input.title}</span></strong>
                    </div>
                    <p class="muted">"Adding…"</p>
                </li>
            }
        })
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
    item: RwSignal<Item>,
    list_id: String,
    is_recipient: bool,
    names: Names,
    actions: Actions,
) -> impl IntoView {
    let item_id = item.with_untracked(|i| i.id.to_string());
    let id = StoredValue::new(item.with_untracked(|i| i.id.clone()));
    // Optimistic: while this row's own change is on its way, the row shows
    // it, marked pending. The server's answer (and its event) then confirm
    // it; a refusal clears the pending input, so the row shows the item as
    // it is again, and the page's message says why.
    let is_this = move |other: &ItemId| id.with_value(|id| id == other);
    let pending_edit = move || {
        actions
            .edit
            .input()
            .get()
            .filter(|edit| is_this(&edit.item_id))
    };
    let removing = move || {
        actions
            .remove
            .input()
            .with(|remove| remove.as_ref().is_some_and(|r| is_this(&r.item_id)))
    };
    let pending_claim = move || {
        actions
            .claim
            .input()
            .get()
            .filter(|claim| is_this(&claim.item_id))
            .map(|claim| claim.status)
    };
    let releasing = move || {
        actions
            .release
            .input()
            .with(|release| release.as_ref().is_some_and(|r| is_this(&r.item_id)))
    };
    let shown = move || {
        let mut shown = item.get();
        if let Some(edit) = pending_edit() {
            apply_edit(&mut shown, edit);
        }
        shown
    };
    let pending =
        move || pending_edit().is_some() || removing() || pending_claim().is_some() || releasing();
    let title = {
        move || {
            let Item { title, url, .. } = shown();
            match url {
            Some(url) => {
                view! { <a href=url rel="noopener noreferrer nofollow" target="_blank">{title}</a> }
                    .into_any()
            }
            None => view! { <span>{title}</span> }.into_any(),
        }
        }
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
        let hidden = hidden.clone();
        move || {
            if let Some(status) = pending_claim() {
                let text = match status {
                    ClaimStatus::Reserved => "Reserving for you…",
                    ClaimStatus::Purchased => "Marking bought…",
                };
                return view! { <p class="claim" data-testid="claim">{text}</p> }.into_any();
            }
            if releasing() {
                return view! { <p class="claim muted">"Releasing…"</p> }.into_any();
            }
            let claim = item.get().claim;
            let mine = claim.as_ref().is_some_and(|c| c.by == names.me);
            let claim_line = claim.as_ref().map(|c| {
                let status = match c.status {
                    ClaimStatus::Reserved => "Reserved",
                    ClaimStatus::Purchased => "Bought",
                };
                let text = format!("{status} by {}", names.of(&c.by));
                view! { <p class="claim" data-testid="claim">{text}</p> }
            });
            let buttons = if claim.is_none() {
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
            view! { {claim_line} <div class="row-actions">{buttons}</div> }.into_any()
        }
    });
    // The edit form shows the item as it was when the form was opened: a
    // change someone else makes meanwhile does not move it under the
    // user's hands, and saving it then is refused as stale (409).
    let editing = RwSignal::new(item.get_untracked());
    let remove_hidden = hidden.clone();
    let edit_list = list_id.clone();
    let edit_item_id = item_id.clone();
    view! {
        <li
            class="item"
            class:pending=pending
            data-testid="item"
            data-pending=move || pending().to_string()
            hidden=removing
            aria-busy=move || pending().to_string()
        >
            <div class="item-head">
                <span class="priority" title="How much wanted (1 most)">{move || shown().priority}</span>
                <strong class="item-title">{title}</strong>
                {move || { let i = shown(); i.price_cents.map(|c| view! { <span class="price">{format_price(c, &i.currency)}</span> }) }}
            </div>
            {move || shown().notes.map(|n| view! { <p class="notes">{n}</p> })}
            {claim_controls}
            <div class="row-actions">
                <details on:toggle=move |_| editing.set(item.get_untracked())>
                    <summary>"Edit"</summary>
                    {move || {
                        let snapshot = editing.get();
                        let version = snapshot.version.to_string();
                        let (list_id, item_id) = (edit_list.clone(), edit_item_id.clone());
                        view! {
                            <ActionForm action=actions.edit attr:class="stacked-form">
                                <input type="hidden" name="list_id" value=list_id />
                                <input type="hidden" name="item_id" value=item_id />
                                <input type="hidden" name="version" value=version />
                                <ItemFields item=Some(snapshot) />
                                <button type="submit">"Save"</button>
                            </ActionForm>
                        }
                    }}
                </details>
                <ActionForm action=actions.remove>{remove_hidden()}<button type="submit" aria-label=move || format!("Remove {}", item.get().title)>"Remove"</button></ActionForm>
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
