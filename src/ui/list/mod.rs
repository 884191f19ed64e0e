//! `/lists/:id`: a list's items, with add, edit, remove, claim and release.
//! Members see who claimed what; the recipient's page shows no trace of
//! claims (the server never sends them one: see `service::surprise`).
//!
//! The page's parts: [`server`] (its server functions), `actions` (the
//! actions and their message), `live` (the live list) and, here, the views.

mod actions;
mod arrange;
mod link;
mod live;
pub mod server;
mod shares;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map, params::ParamsMap};
use std::sync::Arc;

use self::{
    actions::{Actions, RowChange},
    arrange::Sort,
    live::{LiveList, Row},
    server::{get_list, parse_price, EditItem, ListPageData},
};
use super::{
    form::{own_refusal, Message},
    lang::{fill, lang_of, priority_words, translate_error},
    money::{cents_text, format_money},
};
use crate::{
    i18n::{tu_string, use_i18n, Locale},
    live::client::{follow_live, LiveStatus, Status},
    model::{
        error::AppError,
        validate::{DEFAULT_CURRENCY, QUANTITY_MAX},
        ClaimStatus, Item, ItemId, ListId, Member, UserId,
    },
};

#[component]
pub fn ListPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || ListId(params.read().get("id").unwrap_or_default());
    let actions = Actions::new();
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
        <Transition fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(err) => view! {
                        <Title text=format!("{} · Giftlist", tu_string!(i18n, list)) />
                        <p role="alert">{translate_error(&err.message)}</p>
                    }.into_any(),
                    Ok(page) => list_view(page, actions, data, rows).into_any(),
                }
            })}
        </Transition>
        <Message message />
    }
}

/// Who people are on this page: "you", a member's name, or "someone".
#[derive(Clone)]
struct Names {
    me: UserId,
    members: Arc<Vec<Member>>,
    i18n: leptos_i18n::I18nContext<Locale>,
}

impl Names {
    fn of(&self, user: &UserId) -> String {
        let i18n = self.i18n;
        if *user == self.me {
            return tu_string!(i18n, you).to_string();
        }
        self.members
            .iter()
            .find(|m| &m.user_id == user)
            .map_or_else(|| tu_string!(i18n, someone).into(), |m| m.name.clone())
    }

    /// Whoever holds a part or made a pledge: a guest by the name they gave
    /// ("Grandma (guest)"), anyone else as [`Names::of`].
    fn holder(&self, by: &UserId, guest: Option<&String>) -> String {
        match guest {
            Some(name) => fill(tu_string!(self.i18n, guest_name), &[("name", name)]),
            None => self.of(by),
        }
    }
}

fn list_view(
    page: ListPageData,
    actions: Actions,
    data: Resource<Result<ListPageData, AppError>>,
    shown_rows: StoredValue<Option<RwSignal<Vec<Row>>>>,
) -> impl IntoView {
    let ListPageData {
        list,
        items,
        seq,
        members,
        me,
        may_manage,
        today,
    } = page;
    let items = items
        .into_iter()
        .map(|item| item.into_item(&list.id))
        .collect();
    let live = LiveList::new(list.clone(), items, seq);
    shown_rows.set_value(Some(live.rows));
    follow_live(
        live,
        crate::live::protocol::list_topic(&list.id),
        Some(format!("/api/v1/lists/{}/changes", list.id)),
        move || data.refetch(),
    );
    let is_recipient = list.recipient_user_id.as_ref() == Some(&me);
    let i18n = use_i18n();
    let names = Names {
        me: me.clone(),
        members: Arc::new(members),
        i18n,
    };
    let everyone = names.members.clone();
    let recipient = list.recipient_name.clone().unwrap_or_else(|| {
        list.recipient_user_id
            .as_ref()
            .map(|user| names.of(user))
            .unwrap_or_default()
    });
    let list_id = list.id.to_string();
    let row_list_id = list_id.clone();
    let form_list_id = list_id.clone();
    let (add_form, new_title) = (NodeRef::new(), NodeRef::new());
    let new_picture = RwSignal::new(None);
    clear_after_add(actions, add_form, new_title, new_picture);
    let query = leptos_router::hooks::use_query_map();
    view! {
        <Title text=move || format!("{} · Giftlist", live.list.get().title) />
        <p><A href=format!("/families/{}", list.family_id)>{tu_string!(i18n, back_to_family)}</A></p>
        <h1>{move || live.list.get().title}</h1>
        <p class="muted">{fill(tu_string!(i18n, for_whom), &[("name", &recipient)])}</p>
        {event_line(live, today)}
        <Show when=move || live.list.with(|l| l.archived)>
            <p class="notice" role="status" data-testid="archived">{tu_string!(i18n, archived_notice)}</p>
        </Show>
        <Show when=move || is_recipient && live.list.with(|l| l.revealed)>
            <p class="notice" role="status" data-testid="thank-you">{tu_string!(i18n, thank_you_notice)}</p>
        </Show>
        <Show when=move || live.removed.get()>
            <p role="alert" data-testid="list-removed">{tu_string!(i18n, list_removed)}</p>
        </Show>
        {arrange_form(is_recipient, query)}
        <Show when=move || live.rows.with(Vec::is_empty) && actions.adding.with(Option::is_none)>
            <p class="empty" data-testid="no-gifts">{tu_string!(i18n, no_gifts)}</p>
        </Show>
        // The rows' buttons' form (see `ItemAction`).
        <ActionForm action=actions.item attr:id=ITEM_FORM>
            <input type="hidden" name="list_id" value=form_list_id />
        </ActionForm>
        <ul class="items" data-testid="items">
            <For
                each=move || arranged(live, is_recipient, query)
                key=|row| row.id.clone()
                children=move |row| item_row(row.item, row_list_id.clone(), is_recipient, names.clone(), actions, query)
            />
            {pending_add(actions, live, me.clone())}
        </ul>
        <div hidden=move || live.list.with(|l| l.archived) data-testid="add-section">
            <h2 id="add-a-gift">{tu_string!(i18n, add_a_gift)}</h2>
            <ActionForm action=actions.add node_ref=add_form attr:class="stacked-form" attr:data-testid="add-item">
                <input type="hidden" name="list_id" value=list_id.clone() />
                <ItemFields item=None title_ref=new_title picture=new_picture />
                <button type="submit">{tu_string!(i18n, add)}</button>
            </ActionForm>
        </div>
        <shares::ShareLinks list_id=list.id.clone() is_recipient />
        {(!is_recipient).then(|| reveal_choice(live))}
        {may_manage.then(|| manage_list(live, list.family_id.to_string(), everyone.clone()))}
    }
}

/// The event's day, and "past" once it is over.
fn event_line(live: LiveList, today: String) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        live.list.with(|list| {
            list.event_date.clone().map(|day| {
                let past = list.is_past(&today);
                view! {
                    <p class="event" data-testid="event-date">
                        {fill(tu_string!(i18n, event_on), &[("date", &day)])}
                        {past.then(|| view! { " · "<span class="badge" data-testid="past">{tu_string!(i18n, past)}</span> })}
                    </p>
                }
            })
        })
    }
}

/// "Show what was given after the event": any member but the recipient
/// chooses; the recipient never sees this form.
fn reveal_choice(live: LiveList) -> impl IntoView {
    let i18n = use_i18n();
    let choose = ServerAction::<server::SetReveal>::new();
    let refusal = own_refusal(vec![choose.value()]);
    let list_id = live.list.with_untracked(|list| list.id.to_string());
    view! {
        <ActionForm action=choose attr:class="inline-form reveal-choice" attr:data-testid="reveal-choice">
            <input type="hidden" name="list_id" value=list_id />
            <label class="check">
                <input type="checkbox" name="reveal" prop:checked=move || live.list.with(|l| l.reveal_after_event) />
                {tu_string!(i18n, reveal_after_event)}
            </label>
            <button type="submit" class="small">{tu_string!(i18n, save)}</button>
        </ActionForm>
        <Message message=refusal testid="reveal-error" />
    }
}

/// "List settings", for whoever made the list and the family's admins:
/// rename it, or delete it once a box says so. Everyone on the list sees
/// either at once (the list's own events).
fn manage_list(live: LiveList, family_id: String, members: Arc<Vec<Member>>) -> impl IntoView {
    let i18n = use_i18n();
    let recipient = ServerAction::<server::SetRecipient>::new();
    let rename = ServerAction::<server::RenameList>::new();
    let delete = ServerAction::<server::DeleteList>::new();
    let date = ServerAction::<server::SetEventDate>::new();
    let archive = ServerAction::<server::SetArchived>::new();
    let refusal = own_refusal(vec![
        rename.value(),
        delete.value(),
        date.value(),
        archive.value(),
        recipient.value(),
    ]);
    let recipient_list_id = live.list.with_untracked(|list| list.id.to_string());
    let for_member = move |member: &UserId| {
        live.list
            .with(|l| l.recipient_user_id.as_ref() == Some(member))
    };
    let list_id = live.list.with_untracked(|list| list.id.to_string());
    let delete_list_id = list_id.clone();
    let date_list_id = list_id.clone();
    let archive_list_id = list_id.clone();
    let archived = move || live.list.with(|l| l.archived);
    view! {
        <details class="manage-list" data-testid="manage-list">
            <summary>{tu_string!(i18n, list_settings)}</summary>
            <ActionForm action=rename attr:class="stacked-form" attr:data-testid="rename-list">
                <input type="hidden" name="list_id" value=list_id />
                <label for="list-title">{tu_string!(i18n, list_title_label)}</label>
                <input id="list-title" name="title" required maxlength="200" value=move || live.list.get().title />
                <button type="submit">{tu_string!(i18n, rename_list)}</button>
            </ActionForm>
            <ActionForm action=recipient attr:class="stacked-form" attr:data-testid="recipient-form">
                <input type="hidden" name="list_id" value=recipient_list_id />
                <label for="list-recipient">{tu_string!(i18n, for_a_member)}</label>
                <select id="list-recipient" name="recipient_user_id">
                    <option value="">{tu_string!(i18n, someone_without_account)}</option>
                    {members.iter().map(|m| {
                        let id = m.user_id.clone();
                        view! { <option value=m.user_id.to_string() selected=move || for_member(&id)>{m.name.clone()}</option> }
                    }).collect_view()}
                </select>
                <label for="list-recipient-name">{tu_string!(i18n, or_their_name)}</label>
                <input id="list-recipient-name" name="recipient_name" maxlength="100" value=move || live.list.with(|l| l.recipient_name.clone().unwrap_or_default()) />
                <button type="submit">{tu_string!(i18n, change_recipient)}</button>
            </ActionForm>
            <ActionForm action=date attr:class="stacked-form" attr:data-testid="event-date-form">
                <input type="hidden" name="list_id" value=date_list_id />
                <label for="event-date">{tu_string!(i18n, event_date_label)}</label>
                <input id="event-date" name="event_date" type="date" prop:value=move || live.list.with(|l| l.event_date.clone().unwrap_or_default()) />
                <button type="submit">{tu_string!(i18n, save)}</button>
            </ActionForm>
            <ActionForm action=archive attr:class="inline-form" attr:data-testid="archive-form">
                <input type="hidden" name="list_id" value=archive_list_id />
                <input type="hidden" name="archived" value=move || (!archived()).to_string() />
                <button type="submit" data-testid="archive-toggle">
                    {move || if archived() { tu_string!(i18n, restore_list) } else { tu_string!(i18n, archive_list) }}
                </button>
            </ActionForm>
            <ActionForm action=delete attr:class="stacked-form" attr:data-testid="delete-list">
                <input type="hidden" name="list_id" value=delete_list_id />
                <input type="hidden" name="family_id" value=family_id />
                <label class="check">
                    <input type="checkbox" name="confirm" required />
                    {tu_string!(i18n, delete_list_confirm)}
                </label>
                <button type="submit">{tu_string!(i18n, delete_list)}</button>
            </ActionForm>
            <Message message=refusal testid="manage-list-error" />
        </details>
    }
}

/// The rows in the order the URL asks for, and only the available ones
/// when it says so (a filter for members: the recipient has no claims to
/// filter by, and is never shown which gifts are taken).
fn arranged(live: LiveList, is_recipient: bool, query: Memo<ParamsMap>) -> Vec<Row> {
    let (sort, only_available) = query.with(|q| {
        (
            Sort::from_query(q.get_str("sort")),
            !is_recipient && q.get_str("available") == Some("1"),
        )
    });
    let mut rows = live.rows.get();
    if only_available {
        rows.retain(|row| row.item.with(Item::is_available));
    }
    rows.sort_by(|a, b| {
        a.item
            .with(|x| b.item.with(|y| sort.compare((x, a.added), (y, b.added))))
    });
    rows
}

/// The sort picker and, for members, the "only available" filter: a GET
/// form, so the choice is in the URL (the router follows it without a
/// reload when the wasm runs).
fn arrange_form(is_recipient: bool, query: Memo<ParamsMap>) -> impl IntoView {
    let i18n = use_i18n();
    let label = move |sort: Sort| match sort {
        Sort::Priority => tu_string!(i18n, sort_priority),
        Sort::Price => tu_string!(i18n, sort_price),
        Sort::Newest => tu_string!(i18n, sort_newest),
        Sort::Title => tu_string!(i18n, sort_title),
    };
    let chosen = move || Sort::from_query(query.read().get_str("sort"));
    let available = move || query.read().get_str("available") == Some("1");
    view! {
        <leptos_router::components::Form method="GET" action="" attr:class="arrange" attr:data-testid="arrange">
            <label for="sort">{tu_string!(i18n, sort)}</label>
            <select id="sort" name="sort">
                {Sort::ALL.into_iter().map(|sort| view! {
                    <option value=sort.param() selected=move || chosen() == sort>{label(sort)}</option>
                }).collect_view()}
            </select>
            {(!is_recipient).then(|| view! {
                <label class="check">
                    <input type="checkbox" name="available" value="1" checked=available />
                    {tu_string!(i18n, only_available)}
                </label>
            })}
            <button type="submit">{tu_string!(i18n, show)}</button>
        </leptos_router::components::Form>
    }
}

/// After each gift added, the add form is empty again (currency and
/// priority back to their defaults) with the cursor in its title, ready
/// for the next; a refused one keeps what was typed.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
fn clear_after_add(
    actions: Actions,
    form: NodeRef<leptos::html::Form>,
    title: NodeRef<leptos::html::Input>,
    picture: RwSignal<Option<String>>,
) {
    Effect::new(move |seen: Option<usize>| {
        let version = actions.add.version().get();
        let added = actions
            .add
            .value()
            .with_untracked(|v| matches!(v, Some(Ok(()))));
        if seen.is_some_and(|seen| seen != version) && added {
            #[cfg(feature = "hydrate")]
            if let Some(form) = form.get_untracked() {
                empty_add_form(&form);
            }
            picture.set(None);
            if let Some(title) = title.get_untracked() {
                let _ = title.focus();
            }
        }
        version
    });
}

/// Sets each field of the add form to its default: not `reset()` alone,
/// which would bring back what a refused plain post had put in the page.
#[cfg(feature = "hydrate")]
fn empty_add_form(form: &web_sys::HtmlFormElement) {
    use wasm_bindgen::JsCast;
    let priority = DEFAULT_PRIORITY.to_string();
    let defaults = [
        ("title", ""),
        ("url", ""),
        ("price", ""),
        ("currency", DEFAULT_CURRENCY),
        ("notes", ""),
        ("priority", priority.as_str()),
        ("quantity", "1"),
    ];
    let fields = form.elements();
    for (name, value) in defaults {
        let Some(field) = fields.named_item(name) else {
            continue;
        };
        if let Some(input) = field.dyn_ref::<web_sys::HtmlInputElement>() {
            input.set_value(value);
        } else if let Some(text) = field.dyn_ref::<web_sys::HtmlTextAreaElement>() {
            text.set_value(value);
        } else if let Some(select) = field.dyn_ref::<web_sys::HtmlSelectElement>() {
            select.set_value(value);
        }
    }
}

/// The `id` of the list's form that the rows' buttons belong to.
const ITEM_FORM: &str = "item-actions";

/// What a new gift's priority is until someone says.
const DEFAULT_PRIORITY: i64 = 3;

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
    match edit.quantity.as_deref().map(str::trim) {
        None => {}
        Some("") => item.quantity = None,
        Some(text) => {
            if let Ok(quantity) = text.parse() {
                item.quantity = Some(quantity);
            }
        }
    }
}

/// The row of a gift being added, until the server has answered (or its
/// own event has brought the real row).
fn pending_add(actions: Actions, live: LiveList, me: UserId) -> impl IntoView {
    let i18n = use_i18n();
    let before = StoredValue::new(Vec::<ItemId>::new());
    let adding = move || {
        let input = actions.adding.get()?;
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
        if actions.adding.with(Option::is_some) {
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
                    <p class="muted">{tu_string!(i18n, adding)}</p>
                </li>
            }
        })
    }
}

/// The editable fields of an item, filled from `item` when editing. The
/// add form (`item` is `None`) starts empty, or, when a plain form post
/// was refused, with what was typed (brought back in the query).
#[component]
fn ItemFields(
    item: Option<Item>,
    #[prop(optional)] title_ref: Option<NodeRef<leptos::html::Input>>,
    /// The picture read from a link, to clear once the gift is added.
    #[prop(optional)]
    picture: Option<RwSignal<Option<String>>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let adding = item.is_none();
    let prefix = item
        .as_ref()
        .map_or_else(|| "new".to_string(), |i| i.id.to_string());
    let field = |name: &str| format!("{prefix}-{name}");
    let query = leptos_router::hooks::use_query_map();
    // A refused plain post, or "Fill from link" without the wasm, brings
    // the add form's fields back in the query; so does a link shared to
    // the app from another (`/share`).
    let typed = |name: &str| {
        query.with_untracked(|q| {
            ["error", "link", "shared"]
                .iter()
                .any(|marker| q.get(marker).is_some())
                .then(|| q.get(name))
                .flatten()
        })
    };
    let value = |from_item: Option<String>, name: &str| match &item {
        Some(_) => from_item,
        None => typed(name),
    };
    let title = value(item.as_ref().map(|i| i.title.clone()), "title");
    let url = value(item.as_ref().and_then(|i| i.url.clone()), "url");
    let price = value(
        item.as_ref().and_then(|i| i.price_cents).map(cents_text),
        "price",
    );
    let currency = value(item.as_ref().map(|i| i.currency.clone()), "currency")
        .unwrap_or_else(|| DEFAULT_CURRENCY.to_string());
    let notes = value(item.as_ref().and_then(|i| i.notes.clone()), "notes");
    let priority = match &item {
        Some(i) => i.priority,
        None => typed("priority")
            .and_then(|p| p.parse().ok())
            .unwrap_or(DEFAULT_PRIORITY),
    };
    // Empty is no limit.
    let quantity = match &item {
        Some(i) => i.quantity.map(|q| q.to_string()).unwrap_or_default(),
        None => typed("quantity").unwrap_or_else(|| "1".to_string()),
    };
    let picture = picture.unwrap_or_else(|| RwSignal::new(None));
    if adding {
        picture.set(typed("picture").filter(|id| !id.is_empty()));
    }
    let link_fields = link::LinkFields {
        url: NodeRef::new(),
        title: title_ref.unwrap_or_default(),
        price: NodeRef::new(),
        currency: NodeRef::new(),
        picture,
    };
    view! {
        <label for=field("title")>{tu_string!(i18n, gift)}</label>
        <input id=field("title") name="title" required maxlength="200" value=title node_ref=link_fields.title />
        <label for=field("url")>{tu_string!(i18n, link_optional)}</label>
        <link::UrlField id=field("url") value=url fields=link_fields with_button=adding />
        <label for=field("price")>{tu_string!(i18n, price_optional)}</label>
        <input id=field("price") name="price" inputmode="decimal" value=price node_ref=link_fields.price />
        <label for=field("currency")>{tu_string!(i18n, currency)}</label>
        <input id=field("currency") name="currency" maxlength="3" value=currency node_ref=link_fields.currency />
        <label for=field("notes")>{tu_string!(i18n, notes_optional)}</label>
        <textarea id=field("notes") name="notes" maxlength="2000">{notes}</textarea>
        <label for=field("priority")>{tu_string!(i18n, how_much_wanted)}</label>
        <select id=field("priority") name="priority">
            {(1..=5).map(|p| view! { <option value=p.to_string() selected=p == priority>{format!("{p} · {}", priority_words(p))}</option> }).collect_view()}
        </select>
        <label for=field("quantity")>{tu_string!(i18n, qty_label)}</label>
        <input id=field("quantity") name="quantity" type="number" min="1" max="999" inputmode="numeric" value=quantity />
    }
}

fn item_row(
    item: RwSignal<Item>,
    list_id: String,
    is_recipient: bool,
    names: Names,
    actions: Actions,
    // The page's query, taken once: each `use_query_map()` makes a memo,
    // and three per row took about 6% of a 200-gift page's time.
    query: Memo<ParamsMap>,
) -> impl IntoView {
    let i18n = names.i18n;
    let lang = lang_of(i18n);
    let item_id = item.with_untracked(|i| i.id.to_string());
    let id = StoredValue::new(item.with_untracked(|i| i.id.clone()));
    // Optimistic: while this row's own change is on its way, the row shows
    // it, marked pending. The server's answer (and its event) then confirm
    // it; a refusal clears the pending input, so the row shows the item as
    // it is again, and the page's message says why.
    let is_this = move |other: &ItemId| id.with_value(|id| id == other);
    let pending_edit = move || {
        actions
            .editing
            .with(|edit| edit.as_ref().filter(|edit| is_this(&edit.item_id)).cloned())
    };
    let change = move || id.with_value(|id| actions.pending_on(id));
    let removing = move || change() == Some(RowChange::Remove);
    let pending_claim = move || match change() {
        Some(RowChange::Claim(status)) => Some(status),
        _ => None,
    };
    let releasing = move || change() == Some(RowChange::Release);
    // What the row shows: one copy per change, which each of its parts
    // reads (a copy per part made a 200-gift page's render allocate 1,400).
    let shown = Memo::new(move |_| {
        let mut shown = item.get();
        if let Some(edit) = pending_edit() {
            apply_edit(&mut shown, edit);
        }
        shown
    });
    let chipping = move || {
        actions
            .chipping
            .with(|chip| chip.as_ref().is_some_and(|c| is_this(&c.item_id)))
    };
    let pending = Memo::new(move |_| pending_edit().is_some() || change().is_some() || chipping());
    let title = {
        move || {
            shown.with(|Item { title, url, .. }| match url {
                Some(url) => view! { <a href=url.clone() rel="noreferrer nofollow" target="_blank">{title.clone()}</a> }
                    .into_any(),
                None => view! { <span>{title.clone()}</span> }.into_any(),
            })
        }
    };
    // Group gifts: members only. While a change is on its way the section
    // says so; a refusal brings back the gift as it is, and the message.
    let group_controls = (!is_recipient).then(|| {
        let (list_id, item_id) = (list_id.clone(), item_id.clone());
        let hidden = move || {
            view! {
                <input type="hidden" name="list_id" value=list_id.clone() />
                <input type="hidden" name="item_id" value=item_id.clone() />
            }
        };
        let names = names.clone();
        move || {
            if chipping() {
                return view! { <p class="group-line muted" data-testid="group-pending">{tu_string!(i18n, pledging)}</p> }.into_any();
            }
            item.with(|current| group_section(current, &names, actions, hidden.clone(), query))
                .into_any()
        }
    });
    // The recipient's thank-you view (once it is open, the items come with
    // who gave them; before, they never do).
    let given_by = is_recipient.then(|| {
        let names = names.clone();
        move || {
            item.with(|current| {
                let mut who: Vec<String> = current
                    .claims
                    .iter()
                    .map(|c| names.holder(&c.by, c.guest.as_ref()))
                    .chain(current.group.iter().flat_map(|g| {
                        g.pledges
                            .iter()
                            .map(|p| names.holder(&p.by, p.guest.as_ref()))
                    }))
                    .collect();
                who.dedup();
                (!who.is_empty()).then(|| {
                    let text = fill(tu_string!(i18n, given_by), &[("names", &who.join(", "))]);
                    view! { <p class="claim given" data-testid="given-by">{text}</p> }
                })
            })
        }
    });
    // The claim as members see it: a line saying who holds it (or that a
    // change is on its way), and for an item wanted more than once, its
    // own form for how many.
    let claim_controls = (!is_recipient).then(|| {
        let list_id = list_id.clone();
        let names = names.clone();
        move || {
            if let Some(status) = pending_claim() {
                let text = match status {
                    ClaimStatus::Reserved => tu_string!(i18n, reserving),
                    ClaimStatus::Purchased => tu_string!(i18n, marking_bought),
                };
                return view! { <p class="claim" data-testid="claim">{text}</p> }.into_any();
            }
            if releasing() {
                return view! { <p class="claim muted">{tu_string!(i18n, releasing)}</p> }
                    .into_any();
            }
            item.with(|current| {
                if current.quantity != Some(1) {
                    return unit_claims(current, &names, actions, list_id.clone()).into_any();
                }
                current
                    .claims
                    .first()
                    .map(|c| {
                        let name = names.holder(&c.by, c.guest.as_ref());
                        let (text, status) = match c.status {
                            ClaimStatus::Reserved => (
                                fill(tu_string!(i18n, reserved_by), &[("name", &name)]),
                                "reserved",
                            ),
                            ClaimStatus::Purchased => (
                                fill(tu_string!(i18n, bought_by), &[("name", &name)]),
                                "purchased",
                            ),
                        };
                        view! { <p class="claim" data-testid="claim" data-status=status>{text}</p> }
                    })
                    .into_any()
            })
        }
    });
    // The claim buttons of an item wanted once, in the list's form: each
    // button names its op and this gift. None while a claim is on its way,
    // none for the recipient, none on someone else's claim.
    let claim_buttons = (!is_recipient).then(|| {
        let me = names.me.clone();
        let item_id = item_id.clone();
        move || {
            if pending_claim().is_some() || releasing() {
                return ().into_any();
            }
            // Wanted once: whether someone holds it, and whether that is me.
            let held = item.with(|current| {
                (current.quantity == Some(1))
                    .then(|| current.claims.first().map(|claim| claim.by == me))
            });
            match held {
                None => ().into_any(),
                Some(None) => view! {
                    <button form=ITEM_FORM name="reserve" value=item_id.clone()>{tu_string!(i18n, claim_reserve)}</button>
                    <button form=ITEM_FORM name="buy" value=item_id.clone()>{tu_string!(i18n, claim_bought)}</button>
                }
                .into_any(),
                Some(Some(true)) => view! {
                    <button form=ITEM_FORM name="buy" value=item_id.clone()>{tu_string!(i18n, mark_bought)}</button>
                    <button form=ITEM_FORM name="release" value=item_id.clone()>{tu_string!(i18n, release)}</button>
                }
                .into_any(),
                Some(Some(false)) => ().into_any(),
            }
        }
    });
    // The edit form is rendered only when opened: by the Edit link's
    // `?edit={id}` (no script: the server renders the page with that one
    // form open; a refused picture comes back the same way), or, hydrated,
    // by the link's click, which opens it in place. A list of 200 gifts
    // would otherwise carry 200 forms nobody opened.
    let (open, edit_href) = opened_by_query(query, "edit", &item_id);
    if query.with_untracked(|q| q.get_str("picture_item") == Some(item_id.as_str())) {
        open.set(true);
    }
    // The edit form shows the item as it was when the form was opened: a
    // change someone else makes meanwhile does not move it under the
    // user's hands, and saving it then is refused as stale (409).
    // Taken when it opens (not for every row that never does).
    let editing = RwSignal::new(None::<Item>);
    let edit_list = list_id.clone();
    let edit_item_id = item_id.clone();
    let edit_form = move || {
        let snapshot = editing.get().unwrap_or_else(|| item.get_untracked());
        let version = snapshot.version.to_string();
        let (list_id, item_id) = (edit_list.clone(), edit_item_id.clone());
        let pictures = picture_section(item, list_id.clone(), query);
        view! {
            <div class="edit-panel" data-testid="edit-panel">
                <ActionForm action=actions.edit attr:class="stacked-form">
                    <input type="hidden" name="list_id" value=list_id.clone() />
                    <input type="hidden" name="item_id" value=item_id />
                    <input type="hidden" name="version" value=version />
                    <ItemFields item=Some(snapshot) />
                    {(!is_recipient).then(|| view! {
                        <label class="check"><input type="checkbox" name="release_excess" />{tu_string!(i18n, release_excess)}</label>
                    })}
                    <button type="submit">{tu_string!(i18n, save)}</button>
                </ActionForm>
                {pictures}
            </div>
        }
    };
    view! {
        <li
            class="item"
            id=item_id.clone()
            class:pending=move || pending.get()
            data-testid="item"
            data-pending=move || pending.get().then_some("true")
            hidden=removing
            aria-busy=move || pending.get().then_some("true")
        >
            <div class="item-head">
                {move || shown.with(|i| i.picture.clone()).map(|picture| thumbnail(format!("/pictures/{picture}/thumb")))}
                <span class="priority" data-priority=move || shown.with(|i| i.priority)>{move || priority_words(shown.with(|i| i.priority))}</span>
                <strong class="item-title">{title}</strong>
                {move || shown.with(|i| i.price_cents.map(|c| format_money(c, &i.currency, lang))).map(|price| view! { <span class="price">{price}</span> })}
                {move || wanted(shown.with(|i| i.quantity)).map(|text| view! { <span class="wanted" data-testid="wanted">{text}</span> })}
            </div>
            {move || shown.with(|i| i.notes.clone()).map(|n| view! { <p class="notes">{n}</p> })}
            {claim_controls}
            {given_by}
            {group_controls}
            <div class="row-actions">
                {claim_buttons}
                <a
                    href=edit_href
                    aria-expanded=move || open.get().to_string()
                    on:click=move |ev| {
                        ev.prevent_default();
                        if !open.get_untracked() {
                            editing.set(Some(item.get_untracked()));
                        }
                        open.update(|open| *open = !*open);
                    }
                >
                    {tu_string!(i18n, edit)}
                </a>
                <button form=ITEM_FORM name="delete" value=item_id.clone() aria-label=move || item.with(|i| fill(tu_string!(i18n, remove_named), &[("title", &i.title)]))>{tu_string!(i18n, remove)}</button>
            </div>
            {move || open.get().then(edit_form.clone())}
        </li>
    }
}

/// Whether a row's part that is rendered only when opened (`key` is `edit`
/// or `group`) starts open: the page's address says `?{key}={item}`, as the
/// part's link does for a browser without script. Also that link.
fn opened_by_query(
    query: Memo<ParamsMap>,
    key: &'static str,
    item: &str,
) -> (RwSignal<bool>, String) {
    query.with_untracked(|q| {
        (
            RwSignal::new(q.get_str(key) == Some(item)),
            opening_link(q, key, item),
        )
    })
}

/// The link that opens a row's part: `?{key}={item}`, keeping the list's
/// sort and filter, and `#{item}` (the row's own `id`) so a browser
/// without script lands back on the row.
fn opening_link(query: &ParamsMap, key: &str, item: &str) -> String {
    // From the `?` on: `Serializer::new` would take the `?` for a pair
    // already written and put a `&` after it.
    let mut link = form_urlencoded::Serializer::for_suffix(String::from("?"), 1);
    for kept in ["sort", "available"] {
        if let Some(value) = query.get_str(kept) {
            link.append_pair(kept, value);
        }
    }
    link.append_pair(key, item);
    format!("{}#{item}", link.finish())
}

/// A gift's thumbnail in its row (the list's, or a share link's page).
/// Decorative (`alt=""`): the title next to it says what it is.
pub(crate) fn thumbnail(src: String) -> impl IntoView {
    view! {
        <img
            class="item-picture"
            data-testid="item-picture"
            src=src
            alt=""
            width="64"
            height="64"
            loading="lazy"
        />
    }
}

/// The gift's picture on its edit form, and plain forms to upload another
/// or remove it: file uploads go as `multipart/form-data` to
/// `/items/{id}/picture`, which sends the page back (with or without the
/// wasm); everyone else sees the change live.
fn picture_section(item: RwSignal<Item>, list_id: String, query: Memo<ParamsMap>) -> AnyView {
    let i18n = use_i18n();
    let item_id = item.with_untracked(|i| i.id.to_string());
    let problem = {
        let item_id = item_id.clone();
        move || {
            query.with(|q| {
                (q.get("picture_item").as_deref() == Some(item_id.as_str()))
                    .then(|| q.get("picture_error"))
                    .flatten()
            })
        }
    };
    let problem_text = move |code: String| match code.as_str() {
        "not_a_picture" => tu_string!(i18n, picture_not_a_picture).to_string(),
        "too_large" => tu_string!(i18n, picture_too_large).to_string(),
        _ => tu_string!(i18n, picture_failed).to_string(),
    };
    let field = format!("{item_id}-picture-file");
    let action = format!("/items/{item_id}/picture");
    let remove_action = format!("/items/{item_id}/picture/remove");
    let list_for_remove = list_id.clone();
    view! {
        <div class="picture-section" data-testid="picture-section">
            {move || item.get().picture.map(|picture| {
                let alt = fill(tu_string!(i18n, picture_of), &[("title", &item.get().title)]);
                view! { <img class="item-picture-medium" src=format!("/pictures/{picture}/medium") alt=alt /> }
            })}
            {move || problem().map(|code| view! { <p class="error" role="alert" data-testid="picture-error">{problem_text(code)}</p> })}
            <form method="post" action=action.clone() enctype="multipart/form-data" class="picture-form">
                <input type="hidden" name="list_id" value=list_id.clone() />
                <label for=field.clone()>{tu_string!(i18n, picture_label)}</label>
                <input id=field.clone() type="file" name="picture" accept="image/jpeg,image/png,image/webp" required />
                <button type="submit" class="small">{tu_string!(i18n, picture_upload)}</button>
            </form>
            {move || item.get().picture.is_some().then(|| view! {
                <form method="post" action=remove_action.clone() class="picture-form">
                    <input type="hidden" name="list_id" value=list_for_remove.clone() />
                    <button type="submit" class="small" data-testid="remove-picture">{tu_string!(i18n, picture_remove)}</button>
                </form>
            })}
        </div>
    }
    // Erased: the row's view type is deep enough already.
    .into_any()
}

/// "3 wanted", "as many as you like", or nothing for one: what everyone,
/// the recipient too, reads of an item's quantity.
fn wanted(quantity: Option<i64>) -> Option<String> {
    let i18n = use_i18n();
    match quantity {
        Some(1) => None,
        Some(n) => Some(fill(tu_string!(i18n, wanted_n), &[("n", &n)])),
        None => Some(tu_string!(i18n, wanted_unlimited).to_string()),
    }
}

/// The claims on an item wanted more than once, as members see them ("4 of
/// 6 taken: Anna 2 (bought), Ben 2"), and a form to claim some or change
/// one's own part: how many, reserved or bought.
fn unit_claims(item: &Item, names: &Names, actions: Actions, list_id: String) -> impl IntoView {
    let i18n = use_i18n();
    let taken = item.units_taken();
    let holders = item
        .claims
        .iter()
        .map(|claim| {
            let name = names.holder(&claim.by, claim.guest.as_ref());
            let template = match claim.status {
                ClaimStatus::Reserved => tu_string!(i18n, holder),
                ClaimStatus::Purchased => tu_string!(i18n, holder_bought),
            };
            fill(template, &[("name", &name), ("units", &claim.units)])
        })
        .collect::<Vec<_>>()
        .join(", ");
    let summary = match item.quantity {
        Some(wanted) => fill(
            tu_string!(i18n, taken_of),
            &[("taken", &taken), ("wanted", &wanted)],
        ),
        None => fill(tu_string!(i18n, taken_unlimited), &[("taken", &taken)]),
    };
    let line = if holders.is_empty() {
        summary
    } else {
        format!("{summary}: {holders}")
    };
    let mine = item.claim_of(&names.me).cloned();
    // At most what others leave, counting what one holds already.
    let most = item.units_left().map_or(QUANTITY_MAX, |left| {
        left + mine.as_ref().map_or(0, |c| c.units)
    });
    let status = if item.is_available() || mine.is_some() {
        "open"
    } else {
        "taken"
    };
    let form = (most > 0).then(|| {
        let units = mine.as_ref().map_or(1, |c| c.units).to_string();
        let bought = mine
            .as_ref()
            .is_some_and(|c| c.status == ClaimStatus::Purchased);
        let field = format!("units-{}", item.id);
        let status_field = format!("status-{}", item.id);
        let item_id = item.id.to_string();
        let release = mine.is_some().then(|| {
            view! { <button type="submit" name="release" value=item_id.clone() formnovalidate>{tu_string!(i18n, release)}</button> }
        });
        view! {
            <ActionForm action=actions.item attr:class="units-form">
                <input type="hidden" name="list_id" value=list_id />
                <label for=field.clone()>{tu_string!(i18n, units_label)}</label>
                <input id=field name="units" type="number" min="1" max=most.to_string() inputmode="numeric" value=units required />
                <label for=status_field.clone()>{tu_string!(i18n, as_label)}</label>
                <select id=status_field name="status">
                    <option value="reserved" selected=!bought>{tu_string!(i18n, status_reserved)}</option>
                    <option value="purchased" selected=bought>{tu_string!(i18n, status_bought)}</option>
                </select>
                <button type="submit" name="claim" value=item_id.clone()>{if mine.is_some() { tu_string!(i18n, change_units) } else { tu_string!(i18n, claim_units) }}</button>
                {release}
            </ActionForm>
        }
    });
    view! {
        <p class="claim" data-testid="claim" data-status=status>{line}</p>
        <div class="row-actions">{form}</div>
    }
}

/// A group gift as members see it: a progress bar (pledged of the target,
/// the paid part shaded), who pledged what, who organises, and forms to
/// pledge, change or withdraw one's pledge and to take the organiser's
/// role. An ordinary item offers to become one.
fn group_section<V: IntoView + 'static>(
    item: &Item,
    names: &Names,
    actions: Actions,
    hidden: impl Fn() -> V + Clone + Send + Sync + 'static,
    query: Memo<ParamsMap>,
) -> impl IntoView {
    let i18n = names.i18n;
    let lang = lang_of(i18n);
    let money = {
        let currency = item.currency.clone();
        move |cents: i64| format_money(cents, &currency, lang)
    };
    let Some(group) = item.group.clone() else {
        // Rendered when opened, like the edit form (`?group={id}` without
        // script).
        let field = format!("target-{}", item.id);
        let hidden = hidden.clone();
        let (open, href) = opened_by_query(query, "group", item.id.as_str());
        let form = move || {
            view! {
                <ActionForm action=actions.chip attr:class="units-form">
                    {hidden()}
                    <input type="hidden" name="op" value="group" />
                    <label for=field.clone()>{tu_string!(i18n, group_target_label)}</label>
                    <input id=field.clone() name="amount" inputmode="decimal" />
                    <button type="submit">{tu_string!(i18n, group_start)}</button>
                </ActionForm>
            }
        };
        return view! {
            <div class="chip-in">
                <a href=href aria-expanded=move || open.get().to_string() on:click=move |ev| {
                    ev.prevent_default();
                    open.update(|open| *open = !*open);
                }>{tu_string!(i18n, group_make)}</a>
                {move || open.get().then(form.clone())}
            </div>
        }
        .into_any();
    };
    let percent = |cents: i64| {
        if group.target_cents <= 0 {
            0
        } else {
            (cents.saturating_mul(100) / group.target_cents).clamp(0, 100)
        }
    };
    let progress = fill(
        tu_string!(i18n, group_progress),
        &[
            ("pledged", &money(group.pledged_cents)),
            ("target", &money(group.target_cents)),
        ],
    );
    let paid = fill(
        tu_string!(i18n, group_paid),
        &[("paid", &money(group.paid_cents))],
    );
    let over = group.pledged_cents - group.target_cents;
    let funded = group.funded.then(|| {
        let extra = (over > 0).then(|| {
            format!(
                " · {}",
                fill(tu_string!(i18n, group_over), &[("amount", &money(over))])
            )
        });
        view! { <strong class="funded">{tu_string!(i18n, group_funded)}{extra}</strong> }
    });
    let pledges = group
        .pledges
        .iter()
        .map(|p| {
            let template = if p.paid {
                tu_string!(i18n, pledge_line_paid)
            } else {
                tu_string!(i18n, pledge_line)
            };
            let amount = format_money(p.amount_cents, &p.currency, lang);
            fill(
                template,
                &[
                    ("name", &names.holder(&p.by, p.guest.as_ref())),
                    ("amount", &amount),
                ],
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let organiser = group.organiser.as_ref().map(|by| {
        let guest = group.pledge_of(by).and_then(|p| p.guest.as_ref());
        fill(
            tu_string!(i18n, group_organiser),
            &[("name", &names.holder(by, guest))],
        )
    });
    let mine = group.pledge_of(&names.me).cloned();
    let amount = mine
        .as_ref()
        .map(|p| cents_text(p.amount_cents))
        .unwrap_or_default();
    let field = format!("pledge-{}", item.id);
    let paid_field = format!("paid-{}", item.id);
    let paid_for = paid_field.clone();
    let (h1, h2, h3, h4) = (hidden.clone(), hidden.clone(), hidden.clone(), hidden);
    let withdraw = mine.is_some().then(move || {
        view! {
            <ActionForm action=actions.chip>{h2()}<input type="hidden" name="op" value="withdraw" /><button type="submit">{tu_string!(i18n, pledge_withdraw)}</button></ActionForm>
        }
    });
    let organise = (group.organiser.as_ref() != Some(&names.me)).then(move || {
        view! {
            <ActionForm action=actions.chip>{h3()}<input type="hidden" name="op" value="organise" /><button type="submit">{tu_string!(i18n, organise_do)}</button></ActionForm>
        }
    });
    let ungroup = group.pledges.is_empty().then(move || {
        view! {
            <ActionForm action=actions.chip>{h4()}<input type="hidden" name="op" value="ungroup" /><button type="submit">{tu_string!(i18n, group_end)}</button></ActionForm>
        }
    });
    let pledged_width = format!("width: {}%", percent(group.pledged_cents));
    let paid_width = format!("width: {}%", percent(group.paid_cents));
    view! {
        <div class="group" data-testid="group">
            <div
                class="progress"
                role="progressbar"
                aria-label=progress.clone()
                aria-valuemin="0"
                aria-valuemax=group.target_cents.to_string()
                aria-valuenow=group.pledged_cents.to_string()
            >
                <span class="pledged" style=pledged_width></span>
                <span class="paid" style=paid_width></span>
            </div>
            <p class="group-line" data-testid="group-progress">{progress}" · "{paid}{funded}</p>
            {(!pledges.is_empty()).then(|| view! { <p class="group-line" data-testid="pledges">{pledges}</p> })}
            {organiser.map(|o| view! { <p class="group-line muted" data-testid="organiser">{o}</p> })}
            <div class="row-actions">
                <ActionForm action=actions.chip attr:class="units-form">
                    {h1()}
                    <input type="hidden" name="op" value="pledge" />
                    <label for=field.clone()>{tu_string!(i18n, pledge_amount)}</label>
                    <input id=field name="amount" inputmode="decimal" value=amount required />
                    <label class="check" for=paid_for><input id=paid_field type="checkbox" name="paid" checked=mine.as_ref().is_some_and(|p| p.paid) />{tu_string!(i18n, pledge_paid)}</label>
                    <button type="submit">{if mine.is_some() { tu_string!(i18n, pledge_change) } else { tu_string!(i18n, pledge_do) }}</button>
                </ActionForm>
                {withdraw}
                {organise}
                {ungroup}
            </div>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use leptos_router::params::ParamsMap;

    use super::opening_link;

    #[test]
    fn an_opening_link_keeps_the_order_and_filter_and_comes_back_to_its_row() {
        assert_eq!(
            opening_link(&ParamsMap::new(), "edit", "i_1"),
            "?edit=i_1#i_1"
        );
        let query: ParamsMap = [
            ("available", "1"),
            ("edit", "i_0"),
            ("sort", "price & more"),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            opening_link(&query, "group", "i_2"),
            "?sort=price+%26+more&available=1&group=i_2#i_2"
        );
    }
}
