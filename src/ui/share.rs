//! `/s/:token`: a list opened through a share link, by someone who needs
//! no account. A view link shows the list; a givers' link also shows what
//! is still available (never who took it), and lets the guest claim or
//! chip in under a name they give, then change or release it later (from
//! any device, through their own "manage my claim" link). The page follows
//! the list live on the guest's own stream; a revoked or expired link
//! closes it.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::{components::A, hooks::use_params_map};

use super::{
    form::{error_text, Message},
    lang::{current_lang, fill, priority_words, translate_error},
    list::thumbnail,
    money::format_money,
    not_found::NotFound,
};
use crate::{
    i18n::{tu_string, use_i18n},
    live::{
        client::{follow_live, use_share_link, LiveData, LiveStatus, Status},
        protocol::{list_topic, EventFrame, EventName},
    },
    model::{
        error::{AppError, ErrorCode},
        share::{GuestSelf, ShareKind, SharePage, SharedItem, SharedList},
        ClaimStatus, ItemId,
    },
};

#[server(prefix = "/api/fn", endpoint = "get_share", client = crate::ui::fetch::PageClient)]
pub async fn get_share(token: String) -> Result<SharePage, AppError> {
    let access = crate::ui::server::share_access(&token).await?;
    crate::ui::server::state()?
        .service
        .share_page(&access)
        .await
}

/// Every change a guest makes, as one server function (one action in the
/// bundle): `op` is `reserve` or `purchase` (claim, with `units` for an
/// item wanted more than once), `release`, `pledge` (`amount`) or
/// `withdraw`. `name` and `email` make the guest on their first change.
// A server function takes its form's fields as arguments, one each.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api/fn", endpoint = "guest_act", client = crate::ui::fetch::PageClient)]
pub async fn guest_act(
    token: String,
    item_id: ItemId,
    op: String,
    name: Option<String>,
    email: Option<String>,
    units: Option<String>,
    amount: Option<String>,
) -> Result<(), AppError> {
    use crate::model::share::{GuestClaim, GuestPledgeRequest};
    let back = format!("/s/{token}");
    let result = async {
        let access = crate::ui::server::share_access(&token).await?;
        let service = crate::ui::server::state()?.service;
        let trace = crate::ui::server::request_trace_id();
        let claim = |status| -> Result<GuestClaim, AppError> {
            let units =
                match units.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(text) => Some(text.parse().map_err(|_| {
                        AppError::bad_request("units must be a number from 1 to 999")
                    })?),
                };
            Ok(GuestClaim {
                name: name.clone(),
                email: email.clone(),
                status: Some(status),
                units,
            })
        };
        let answer = match op.as_str() {
            "reserve" => {
                let input = claim(ClaimStatus::Reserved)?;
                service.guest_claim(&access, &item_id, input, trace).await?
            }
            "purchase" => {
                let input = claim(ClaimStatus::Purchased)?;
                service.guest_claim(&access, &item_id, input, trace).await?
            }
            "release" => service.guest_release(&access, &item_id, trace).await?,
            "pledge" => {
                let amount_cents =
                    crate::ui::list::server::parse_price(amount.as_deref().unwrap_or(""))
                        .ok()
                        .flatten()
                        .ok_or_else(|| AppError::bad_request("the amount must be like 12.50"))?;
                let input = GuestPledgeRequest {
                    name: name.clone(),
                    email: email.clone(),
                    amount_cents,
                    paid: false,
                };
                service
                    .guest_pledge(&access, &item_id, input, trace)
                    .await?
            }
            "withdraw" => service.guest_withdraw(&access, &item_id, trace).await?,
            _ => {
                return Err(AppError::bad_request(
                    "op must be reserve, purchase, release, pledge or withdraw",
                ))
            }
        };
        crate::ui::server::set_guest_cookie(&access.share.id, &answer.token);
        Ok(())
    }
    .await;
    crate::ui::server::answer(result, &back).await
}

/// The list as a guest's page shows it, kept current by the guest stream.
#[derive(Clone, Copy)]
struct LiveShare {
    list: RwSignal<SharedList>,
    items: RwSignal<Vec<RwSignal<SharedItem>>>,
    seq: StoredValue<i64>,
    removed: RwSignal<bool>,
    /// The items the guest holds a part of or pledged to: a change to one
    /// of them (perhaps their own, from another device) reloads the page,
    /// which brings their own part with it.
    held: StoredValue<Vec<ItemId>>,
}

impl LiveData for LiveShare {
    fn seq(&self) -> StoredValue<i64> {
        self.seq
    }

    fn apply_next(&self, event: &EventFrame) -> bool {
        let payload = event.data.payload.clone();
        if event.data.entity_id.starts_with(ItemId::PREFIX) {
            if event.name() == Some(EventName::Deleted) {
                let id = event.data.entity_id.as_str();
                self.items.update(|items| {
                    items.retain(|item| item.with_untracked(|i| i.id.as_str() != id))
                });
                return true;
            }
            let Ok(item) = serde_json::from_value::<SharedItem>(payload) else {
                return false;
            };
            if self.held.with_value(|held| held.contains(&item.id)) {
                return false;
            }
            let existing = self.items.with_untracked(|items| {
                items
                    .iter()
                    .find(|row| row.with_untracked(|i| i.id == item.id))
                    .copied()
            });
            match existing {
                Some(row) => row.set(item),
                None => self.items.update(|items| items.push(RwSignal::new(item))),
            }
            return true;
        }
        match event.name() {
            Some(EventName::Deleted) => self.removed.set(true),
            _ => match serde_json::from_value::<SharedList>(payload) {
                Ok(list) => self.list.set(list),
                Err(_) => return false,
            },
        }
        true
    }
}

#[component]
pub fn SharePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    // This tab's socket is the guest's while the page is shown (before
    // anything follows the list), and a member's again once it is left:
    // a page reached from here must not follow its topics as a guest.
    use_share_link(params.read_untracked().get("token"));
    on_cleanup(|| use_share_link(None));
    let act = ServerAction::<GuestAct>::new();
    let data = Resource::new(token, get_share);
    // After each answer the page is read again: the guest's own parts (and,
    // without the socket, everyone's) come with it.
    Effect::new(move |seen: Option<usize>| {
        let version = act.version().get();
        if seen.is_some_and(|seen| seen != version) {
            data.refetch();
        }
        version
    });
    let message = error_text(move || act.value().get());
    view! {
        // The token is in this page's address: no shop a gift links to may
        // read it (the server sends the same policy as a header).
        <Meta name="referrer" content="no-referrer" />
        <Transition fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(err) if err.code == ErrorCode::NotFound => view! { <NotFound /> }.into_any(),
                    Err(err) => {
                        answer_status(&err);
                        view! {
                        <Title text=format!("{} · Giftlist", tu_string!(i18n, list)) />
                        <h1>{tu_string!(i18n, share_closed_title)}</h1>
                        <p role="alert" data-testid="share-error">{translate_error(&err.message)}</p>
                        }
                        .into_any()
                    }
                    Ok(page) => share_view(token(), page, act, data).into_any(),
                }
            })}
        </Transition>
        <Message message />
    }
}

/// A link that does not open is answered with its error's status (403
/// revoked or expired, 429 guessed at), not 200.
#[cfg_attr(not(feature = "ssr"), allow(unused_variables))]
fn answer_status(err: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = axum::http::StatusCode::from_u16(err.code.status()) {
            response.set_status(status);
        }
        if let Some(seconds) = err.retry_after {
            response.insert_header(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
    }
}

fn share_view(
    token: String,
    page: SharePage,
    act: ServerAction<GuestAct>,
    data: Resource<Result<SharePage, AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let SharePage {
        kind,
        list,
        items,
        seq,
        expires_at: _,
        guest,
        member,
    } = page;
    let live = LiveShare {
        list: RwSignal::new(list.clone()),
        items: RwSignal::new(items.into_iter().map(RwSignal::new).collect()),
        seq: StoredValue::new(seq),
        removed: RwSignal::new(false),
        held: StoredValue::new(
            guest
                .iter()
                .flat_map(|me| {
                    let parts = me.claims.iter().map(|part| part.item_id.clone());
                    parts.chain(me.pledges.iter().map(|pledge| pledge.item_id.clone()))
                })
                .collect(),
        ),
    };
    use_share_link(Some(token.clone()));
    follow_live(
        live,
        list_topic(&list.id),
        Some(format!("/api/v1/shares/{token}/changes")),
        move || data.refetch(),
    );
    let ended = move || {
        use_context::<LiveStatus>().is_some_and(|status| status.0.get() == Status::LinkEnded)
    };
    let givers = kind == ShareKind::Givers;
    let guest = StoredValue::new(guest);
    let token = StoredValue::new(token);
    let sorted = move || {
        let mut rows = live.items.get();
        rows.sort_by_key(|row| row.with(|i| i.priority));
        rows
    };
    view! {
        <Title text=move || format!("{} · Giftlist", live.list.get().title) />
        <h1>{move || live.list.get().title}</h1>
        <p class="muted">{move || fill(tu_string!(i18n, for_whom), &[("name", &live.list.get().recipient)])}</p>
        {givers.then(|| view! { <p class="share-note" data-testid="share-note">{tu_string!(i18n, share_givers_note)}</p> })}
        {member.then(|| view! { <p><A href=format!("/lists/{}", list.id)>{tu_string!(i18n, share_open_as_member)}</A></p> })}
        {move || guest.get_value().filter(|_| givers).map(|me| guest_box(&me))}
        <Show when=move || live.removed.get()>
            <p role="alert" data-testid="list-removed">{tu_string!(i18n, list_removed)}</p>
        </Show>
        <Show when=ended>
            <p role="alert" data-testid="link-ended">{tu_string!(i18n, share_link_ended)}</p>
        </Show>
        <ul class="items" data-testid="items">
            <For
                each=sorted
                key=|row| row.with_untracked(|i| i.id.clone())
                children=move |row| shared_row(row, givers, guest.get_value(), token.get_value(), act)
            />
        </ul>
        <Show when=move || live.items.with(Vec::is_empty)>
            <p class="empty" data-testid="no-gifts">{tu_string!(i18n, share_no_gifts)}</p>
        </Show>
    }
}

/// Who the guest is, and their own link to come back with.
fn guest_box(me: &GuestSelf) -> impl IntoView {
    let i18n = use_i18n();
    let url = me.manage_url.clone();
    view! {
        <div class="guest-box" data-testid="guest-box">
            <p>{fill(tu_string!(i18n, share_you_are), &[("name", &me.name)])}</p>
            <p>{tu_string!(i18n, share_manage_hint)}" "
                <a href=url.clone() data-testid="manage-link" rel="noreferrer">{url.clone()}</a>
            </p>
        </div>
    }
}

/// One gift as a guest sees it, with what they can do about it.
fn shared_row(
    item: RwSignal<SharedItem>,
    givers: bool,
    guest: Option<GuestSelf>,
    token: String,
    act: ServerAction<GuestAct>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = current_lang();
    let id = item.with_untracked(|i| i.id.clone());
    let pending = {
        let id = id.clone();
        move || {
            act.input()
                .with(|input| input.as_ref().is_some_and(|i| i.item_id == id))
        }
    };
    let title = move || {
        let SharedItem { title, url, .. } = item.get();
        match url {
            Some(url) => {
                view! { <a href=url rel="noopener noreferrer nofollow" target="_blank">{title}</a> }
                    .into_any()
            }
            None => view! { <span>{title}</span> }.into_any(),
        }
    };
    // Through the link: a guest has no session to read pictures with.
    let picture = {
        let token = token.clone();
        move || {
            item.get()
                .picture
                .map(|picture| thumbnail(format!("/s/{token}/pictures/{picture}/thumb")))
        }
    };
    let controls = givers.then(|| {
        let pending = pending.clone();
        move || {
            if pending() {
                return view! { <p class="claim" data-testid="claim">{tu_string!(i18n, saving)}</p> }
                    .into_any();
            }
            guest_controls(&item.get(), guest.as_ref(), &token, act, lang).into_any()
        }
    });
    view! {
        <li class="item" class:pending=pending.clone() data-testid="item" data-pending=move || pending().then_some("true")>
            <div class="item-head">
                {picture}
                <span class="priority" data-priority=move || item.get().priority>{move || priority_words(item.get().priority)}</span>
                <strong class="item-title">{title}</strong>
                {move || { let i = item.get(); i.price_cents.map(|c| view! { <span class="price">{format_money(c, &i.currency, lang)}</span> }) }}
                {move || match item.get().quantity {
                    Some(1) => None,
                    Some(n) => Some(fill(tu_string!(i18n, wanted_n), &[("n", &n)])),
                    None => Some(tu_string!(i18n, wanted_unlimited).to_string()),
                }.map(|text| view! { <span class="wanted">{text}</span> })}
            </div>
            {move || item.get().notes.map(|n| view! { <p class="notes">{n}</p> })}
            {controls}
        </li>
    }
}

/// What is left of a gift, and the forms to claim it, change one's own
/// part, or chip in.
fn guest_controls(
    item: &SharedItem,
    guest: Option<&GuestSelf>,
    token: &str,
    act: ServerAction<GuestAct>,
    lang: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    let mine = guest.and_then(|me| me.part_of(&item.id)).cloned();
    let taken = item.taken.unwrap_or(0);
    let (line, status) = match (&mine, item.quantity) {
        (Some(part), _) if part.status == ClaimStatus::Purchased => (
            fill(
                tu_string!(i18n, share_yours_bought),
                &[("units", &part.units)],
            ),
            "mine",
        ),
        (Some(part), _) => (
            fill(tu_string!(i18n, share_yours), &[("units", &part.units)]),
            "mine",
        ),
        (None, Some(1)) if taken > 0 => (tu_string!(i18n, share_taken).to_string(), "taken"),
        (None, Some(1)) => (tu_string!(i18n, share_available).to_string(), "open"),
        (None, Some(wanted)) => {
            let left = item.units_left().unwrap_or(wanted);
            let status = if left > 0 { "open" } else { "taken" };
            (
                fill(
                    tu_string!(i18n, share_left),
                    &[("left", &left), ("wanted", &wanted)],
                ),
                status,
            )
        }
        (None, None) => (
            fill(tu_string!(i18n, share_taken_so_far), &[("taken", &taken)]),
            "open",
        ),
    };
    let hidden = {
        let (token, item_id) = (token.to_owned(), item.id.to_string());
        move || {
            view! {
                <input type="hidden" name="token" value=token.clone() />
                <input type="hidden" name="item_id" value=item_id.clone() />
            }
        }
    };
    let who = guest.is_none().then(|| {
        let field = format!("guest-name-{}", item.id);
        let email = format!("guest-email-{}", item.id);
        view! {
            <label for=field.clone()>{tu_string!(i18n, share_name_label)}</label>
            <input id=field name="name" required maxlength="60" autocomplete="name" />
            <label for=email.clone()>{tu_string!(i18n, share_email_label)}</label>
            <input id=email name="email" type="email" maxlength="254" autocomplete="email" />
        }
    });
    let forms = match &mine {
        Some(part) => {
            let (h1, h2) = (hidden.clone(), hidden.clone());
            let bought = (part.status == ClaimStatus::Reserved).then(move || view! {
                <ActionForm action=act>{h1()}<input type="hidden" name="op" value="purchase" /><button type="submit">{tu_string!(i18n, mark_bought)}</button></ActionForm>
            });
            view! {
                {bought}
                <ActionForm action=act>{h2()}<input type="hidden" name="op" value="release" /><button type="submit">{tu_string!(i18n, release)}</button></ActionForm>
            }
            .into_any()
        }
        None if item.is_available() => {
            let units = (item.quantity != Some(1)).then(|| {
                let field = format!("guest-units-{}", item.id);
                let most = item.units_left().unwrap_or(crate::model::validate::QUANTITY_MAX);
                view! {
                    <label for=field.clone()>{tu_string!(i18n, units_label)}</label>
                    <input id=field name="units" type="number" min="1" max=most.to_string() value="1" inputmode="numeric" required />
                }
            });
            let h = hidden.clone();
            view! {
                <ActionForm action=act attr:class="units-form" attr:data-testid="guest-claim">
                    {h()}
                    <input type="hidden" name="op" value="reserve" />
                    {who}
                    {units}
                    <button type="submit">{tu_string!(i18n, share_claim)}</button>
                </ActionForm>
            }
            .into_any()
        }
        None => ().into_any(),
    };
    let group = item.group.clone().map(|group| {
        let money = |cents: i64| format_money(cents, &item.currency, lang);
        let progress = fill(
            tu_string!(i18n, group_progress),
            &[("pledged", &money(group.pledged_cents)), ("target", &money(group.target_cents))],
        );
        let pledged = guest.and_then(|me| me.pledge_to(&item.id)).cloned();
        let field = format!("guest-pledge-{}", item.id);
        let name_field = format!("guest-pledge-name-{}", item.id);
        let (h1, h2) = (hidden.clone(), hidden.clone());
        let amount = pledged
            .as_ref()
            .map(|p| crate::ui::money::cents_text(p.amount_cents))
            .unwrap_or_default();
        let name = guest.is_none().then(|| view! {
            <label for=name_field.clone()>{tu_string!(i18n, share_name_label)}</label>
            <input id=name_field name="name" required maxlength="60" />
        });
        let withdraw = pledged.is_some().then(move || view! {
            <ActionForm action=act>{h2()}<input type="hidden" name="op" value="withdraw" /><button type="submit">{tu_string!(i18n, pledge_withdraw)}</button></ActionForm>
        });
        view! {
            <div class="group" data-testid="group">
                <p class="group-line" data-testid="group-progress">{progress}{group.funded.then(|| view! { " · " <strong class="funded">{tu_string!(i18n, group_funded)}</strong> })}</p>
                <div class="row-actions">
                    <ActionForm action=act attr:class="units-form">
                        {h1()}
                        <input type="hidden" name="op" value="pledge" />
                        {name}
                        <label for=field.clone()>{tu_string!(i18n, pledge_amount)}</label>
                        <input id=field name="amount" inputmode="decimal" value=amount required />
                        <button type="submit">{tu_string!(i18n, pledge_do)}</button>
                    </ActionForm>
                    {withdraw}
                </div>
            </div>
        }
    });
    view! {
        <p class="claim availability" data-testid="availability" data-status=status>{line}</p>
        <div class="row-actions">{forms}</div>
        {group}
    }
}
