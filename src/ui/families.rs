//! Families: the dashboard of my families, a family's page with its
//! members, invite link and lists, and the page an invite link opens.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

use super::{
    auth::use_current_user,
    form::{error_text, own_refusal, Message},
    lang::{fill, gift_count, translate_error},
};
use serde::{Deserialize, Serialize};

use crate::{
    i18n::{tu_string, use_i18n},
    live::{
        client::{follow_live, LiveData},
        protocol::{family_topic, EventFrame, EventName},
    },
    model::{
        error::AppError, Family, FamilyDetail, FamilyId, GiftList, ListCounts, ListId, Member,
        OpenInvite, Role, UserId,
    },
};

/// Everything the family page shows, and the `seq` of the family's topic
/// it was loaded at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyPageData {
    pub detail: FamilyDetail,
    pub seq: i64,
    /// Each list's gifts and, on lists not for the viewer, what is free.
    pub counts: Vec<ListCounts>,
    /// The viewer.
    pub me: UserId,
    /// The invite codes that still admit people.
    pub invites: Vec<OpenInvite>,
    /// Today (UTC), for "past".
    pub today: String,
}

/// One family on the dashboard: its lists as cards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyOverview {
    pub family: Family,
    pub members: Vec<Member>,
    pub lists: Vec<GiftList>,
    pub counts: Vec<ListCounts>,
    /// Today (UTC), for "past".
    pub today: String,
}

#[server(prefix = "/api/fn", endpoint = "my_overview", client = crate::ui::fetch::PageClient)]
pub async fn my_overview() -> Result<Vec<FamilyOverview>, AppError> {
    let service = super::server::state()?.service;
    let me = super::server::user_id().await?;
    let mut overview = Vec::new();
    for family in service.me(&me).await?.families {
        let detail = service.family_detail(&me, &family.id).await?;
        let counts = service.list_counts(&me, &family.id).await?;
        overview.push(FamilyOverview {
            family: detail.family,
            members: detail.members,
            // Archived lists are out of the way: on the family's page only.
            lists: detail.lists.into_iter().filter(|l| !l.archived).collect(),
            counts,
            today: crate::service::lists::today(),
        });
    }
    Ok(overview)
}

#[server(prefix = "/api/fn", endpoint = "create_family", client = crate::ui::fetch::PageClient)]
pub async fn create_family(name: String) -> Result<(), AppError> {
    let result = super::server::act(|service, actor| async move {
        service
            .create_family(&actor, crate::model::input::NewFamily { name })
            .await
    })
    .await;
    let to = result
        .as_ref()
        .map(|f| format!("/families/{}", f.id))
        .unwrap_or_default();
    super::server::answer(result, &to).await.map(|_| ())
}

#[server(prefix = "/api/fn", endpoint = "get_family", client = crate::ui::fetch::PageClient)]
pub async fn get_family(id: FamilyId) -> Result<FamilyPageData, AppError> {
    let service = super::server::state()?.service;
    let me = super::server::user_id().await?;
    let seq = service.family_seq(&me, &id).await?;
    let detail = service.family_detail(&me, &id).await?;
    let counts = service.list_counts(&me, &id).await?;
    let actor = super::server::actor().await?;
    let invites = service.open_invites(&actor, &id).await?;
    Ok(FamilyPageData {
        detail,
        seq,
        counts,
        me,
        invites,
        today: crate::service::lists::today(),
    })
}

/// Makes a member an admin, or an admin a member (admins only).
#[server(prefix = "/api/fn", endpoint = "set_member_role", client = crate::ui::fetch::PageClient)]
pub async fn set_member_role(
    family_id: FamilyId,
    user_id: UserId,
    role: Role,
) -> Result<(), AppError> {
    let back = format!("/families/{family_id}");
    let result = super::server::act(|service, actor| async move {
        let input = crate::model::input::MemberRole { role };
        service
            .set_member_role(&actor, &family_id, &user_id, input)
            .await
    })
    .await;
    super::server::answer(result, &back).await.map(|_| ())
}

/// Removes a member (admins), or leaves (anyone: `user_id` is the
/// viewer's own), after which the browser goes to the start page.
#[server(prefix = "/api/fn", endpoint = "remove_member", client = crate::ui::fetch::PageClient)]
pub async fn remove_member(family_id: FamilyId, user_id: UserId) -> Result<(), AppError> {
    let me = super::server::user_id().await?;
    let to = if me == user_id {
        "/".to_owned()
    } else {
        format!("/families/{family_id}")
    };
    let result = super::server::act(|service, actor| async move {
        service.remove_member(&actor, &family_id, &user_id).await
    })
    .await;
    super::server::answer(result, &to).await
}

/// Revokes an open invite code.
#[server(prefix = "/api/fn", endpoint = "revoke_invite", client = crate::ui::fetch::PageClient)]
pub async fn revoke_invite(family_id: FamilyId, code: String) -> Result<(), AppError> {
    let back = format!("/families/{family_id}");
    let result = super::server::act(|service, actor| async move {
        service.revoke_invite(&actor, &family_id, &code).await
    })
    .await;
    super::server::answer(result, &back).await
}

/// Renames the family (its admins only).
#[server(prefix = "/api/fn", endpoint = "rename_family", client = crate::ui::fetch::PageClient)]
pub async fn rename_family(family_id: FamilyId, name: String) -> Result<(), AppError> {
    let back = format!("/families/{family_id}");
    let result = super::server::act(|service, actor| async move {
        let input = crate::model::input::NewFamily { name };
        service.rename_family(&actor, &family_id, input).await
    })
    .await;
    super::server::answer(result, &back).await.map(|_| ())
}

/// The family's lists and members as the page shows them, kept current by
/// the family's live topic. Applying an event twice changes nothing.
#[derive(Clone, Copy)]
struct LiveFamily {
    family: RwSignal<Family>,
    lists: RwSignal<Vec<GiftList>>,
    members: RwSignal<Vec<Member>>,
    seq: StoredValue<i64>,
    me: StoredValue<UserId>,
    /// The viewer left or was removed: the page says so, and shows
    /// nothing more of the family.
    gone: RwSignal<bool>,
}

impl LiveData for LiveFamily {
    fn seq(&self) -> StoredValue<i64> {
        self.seq
    }

    fn lost_access(&self) -> bool {
        self.gone.set(true);
        true
    }

    /// Applies the next event; false when it cannot be read: reload.
    fn apply_next(&self, event: &EventFrame) -> bool {
        let payload = event.data.payload.clone();
        if event.name() == Some(EventName::MemberLeft) {
            let id = event.data.entity_id.as_str();
            if self.me.with_value(|me| me.as_str() == id) {
                self.gone.set(true);
            }
            self.members
                .update(|members| members.retain(|m| m.user_id.as_str() != id));
            return true;
        }
        if event.name() == Some(EventName::MemberJoined) {
            let Ok(member) = serde_json::from_value::<Member>(payload) else {
                return false;
            };
            self.members.update(|members| {
                if !members.iter().any(|m| m.user_id == member.user_id) {
                    members.push(member);
                }
            });
            return true;
        }
        let entity = event.data.entity_id.as_str();
        if event.name() == Some(EventName::Updated) && entity.starts_with(FamilyId::PREFIX) {
            let Ok(family) = serde_json::from_value::<Family>(payload) else {
                return false;
            };
            self.family.set(family);
            return true;
        }
        if event.name() == Some(EventName::Updated) && entity.starts_with(UserId::PREFIX) {
            let Ok(member) = serde_json::from_value::<Member>(payload) else {
                return false;
            };
            self.members.update(|members| {
                if let Some(known) = members.iter_mut().find(|m| m.user_id == member.user_id) {
                    *known = member;
                }
            });
            return true;
        }
        if !entity.starts_with(ListId::PREFIX) {
            return true;
        }
        if event.name() == Some(EventName::Deleted) {
            let id = event.data.entity_id.as_str();
            self.lists
                .update(|lists| lists.retain(|l| l.id.as_str() != id));
            return true;
        }
        let Ok(list) = serde_json::from_value::<GiftList>(payload) else {
            return false;
        };
        self.lists
            .update(|lists| match lists.iter_mut().find(|l| l.id == list.id) {
                Some(existing) => *existing = list,
                None => lists.push(list),
            });
        true
    }
}

/// A new invite link, mailed to `email` when one is given.
#[server(prefix = "/api/fn", endpoint = "create_invite", client = crate::ui::fetch::PageClient)]
pub async fn create_invite(family_id: FamilyId, email: Option<String>) -> Result<(), AppError> {
    let family_page = format!("/families/{family_id}");
    let result = super::server::act(|service, actor| async move {
        let input = crate::model::input::NewInvite { email };
        service.create_invite(&actor, &family_id, input).await
    })
    .await;
    let to = result
        .as_ref()
        .map(|invite| format!("{family_page}?invite={}", invite.code))
        .unwrap_or_default();
    super::server::answer(result, &to).await.map(|_| ())
}

#[server(prefix = "/api/fn", endpoint = "invite_family", client = crate::ui::fetch::PageClient)]
pub async fn invite_family(code: String) -> Result<Family, AppError> {
    super::server::state()?.service.invite_family(&code).await
}

#[server(prefix = "/api/fn", endpoint = "accept_invite", client = crate::ui::fetch::PageClient)]
pub async fn accept_invite(code: String) -> Result<(), AppError> {
    let result =
        super::server::act(
            |service, actor| async move { service.accept_invite(&actor, &code).await },
        )
        .await;
    let to = result
        .as_ref()
        .map(|f| format!("/families/{}", f.id))
        .unwrap_or_default();
    super::server::answer(result, &to).await.map(|_| ())
}

#[server(prefix = "/api/fn", endpoint = "create_list", client = crate::ui::fetch::PageClient)]
pub async fn create_list(
    family_id: FamilyId,
    title: String,
    recipient_user_id: String,
    recipient_name: String,
) -> Result<(), AppError> {
    let result = super::server::act(|service, actor| async move {
        let input = crate::model::input::NewList {
            title,
            recipient_user_id: (!recipient_user_id.is_empty())
                .then_some(crate::model::UserId(recipient_user_id)),
            recipient_name: (!recipient_name.trim().is_empty()).then_some(recipient_name),
        };
        service.create_list(&actor, &family_id, input).await
    })
    .await;
    let to = result
        .as_ref()
        .map(|l| format!("/lists/{}", l.id))
        .unwrap_or_default();
    super::server::answer(result, &to).await.map(|_| ())
}

/// The logged-in start page: each of my families with its lists as
/// cards, and a way to start a family (open at once for someone in none).
#[component]
pub fn Dashboard() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateFamily>::new();
    let overview = Resource::new(move || create.version().get(), |_| my_overview());
    let message = error_text(move || create.value().get());
    view! {
        <section class="dashboard" aria-labelledby="families-title">
            <h1 id="families-title">{tu_string!(i18n, your_families)}</h1>
            <Transition fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(families) => {
                            let none = families.is_empty();
                            view! {
                                {none.then(|| view! {
                                    <p class="empty" data-testid="no-families">{tu_string!(i18n, no_families)}</p>
                                })}
                                <div data-testid="families">
                                    {families.into_iter().map(family_overview).collect_view()}
                                </div>
                                <details class="reveal" open=none>
                                    <summary>{tu_string!(i18n, new_family)}</summary>
                                    <ActionForm action=create attr:class="inline-form">
                                        <label for="family-name">{tu_string!(i18n, family_name)}</label>
                                        <input id="family-name" name="name" required maxlength="200" />
                                        <button type="submit">{tu_string!(i18n, create_family)}</button>
                                    </ActionForm>
                                </details>
                            }.into_any()
                        }
                        Err(err) => view! { <p role="alert">{translate_error(&err.message)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Message message />
        </section>
    }
}

/// A family on the dashboard: its name, linking to its page, and its lists.
fn family_overview(overview: FamilyOverview) -> impl IntoView {
    let i18n = use_i18n();
    let FamilyOverview {
        family,
        members,
        lists,
        counts,
        today,
    } = overview;
    let empty = lists.is_empty();
    view! {
        <section class="family-overview" data-testid="family">
            <h2><A href=format!("/families/{}", family.id)>{family.name}</A></h2>
            {empty.then(|| view! { <p class="muted">{tu_string!(i18n, no_lists_yet_open)}</p> })}
            <ul class="cards" data-testid="lists">
                {lists.into_iter().map(|list| {
                    let who = recipient_name(&list, &members);
                    let counts = counts.iter().find(|c| c.list_id == list.id).cloned();
                    let today = today.clone();
                    view! { <ListCard list who counts today /> }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// A member's role, in the page's language.
fn role_name(role: Role) -> &'static str {
    let i18n = use_i18n();
    match role {
        Role::Admin => tu_string!(i18n, role_admin),
        Role::Member => tu_string!(i18n, role_member),
    }
}

/// Whom a list is for: the name given, or the member's.
fn recipient_name(list: &GiftList, members: &[Member]) -> String {
    list.recipient_name
        .clone()
        .or_else(|| {
            members
                .iter()
                .find(|m| Some(&m.user_id) == list.recipient_user_id.as_ref())
                .map(|m| m.name.clone())
        })
        .unwrap_or_default()
}

/// A list as a card: its title (the link), for whom, how many gifts and,
/// when the viewer may know, how many are still free to claim.
#[component]
fn ListCard(
    list: GiftList,
    who: String,
    counts: Option<ListCounts>,
    today: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let gifts = gift_count(counts.as_ref().map_or(0, |c| c.gifts));
    let available = counts.and_then(|c| c.available);
    let past = list.is_past(&today);
    let day = list.event_date.clone();
    view! {
        <li class="card list-card" class:past=past data-testid="list-card">
            <A href=format!("/lists/{}", list.id) attr:class="card-title">{list.title}</A>
            <span class="muted">{fill(tu_string!(i18n, for_whom), &[("name", &who)])}</span>
            {day.map(|day| view! {
                <span class="muted" data-testid="card-event">
                    {fill(tu_string!(i18n, event_on), &[("date", &day)])}
                    {past.then(|| view! { " · "<span class="badge" data-testid="past">{tu_string!(i18n, past)}</span> })}
                </span>
            })}
            <span class="counts">
                <span data-testid="gift-count">{gifts}</span>
                {available.map(|n| view! { " · "<span data-testid="available-count">{fill(tu_string!(i18n, available_count), &[("count", &n)])}</span> })}
            </span>
        </li>
    }
}

/// `/families/:id`: members, the invite link, the lists, a new list.
#[component]
pub fn FamilyPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || FamilyId(params.read().get("id").unwrap_or_default());
    let invite = ServerAction::<CreateInvite>::new();
    let new_list = ServerAction::<CreateList>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    let set_role = ServerAction::<SetMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let detail = Resource::new(
        move || {
            (
                id(),
                new_list.version().get(),
                invite.version().get(),
                revoke.version().get(),
            )
        },
        |(id, ..)| get_family(id),
    );
    let member_refusal = own_refusal(vec![set_role.value(), remove.value(), revoke.value()]);
    let invite_message = error_text(move || invite.value().get());
    let list_message = error_text(move || new_list.value().get());
    let rename = ServerAction::<RenameFamily>::new();
    let rename_refusal = own_refusal(vec![rename.value()]);
    let invite_link = move || {
        query.read().get("invite").map(|code| {
            let origin = window_origin();
            format!("{origin}/invite/{code}")
        })
    };
    view! {
        <Transition fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(err) => view! {
                        <Title text=format!("{} · Giftlist", tu_string!(i18n, family)) />
                        <p role="alert">{translate_error(&err.message)}</p>
                    }.into_any(),
                    Ok(FamilyPageData { detail: FamilyDetail { family, members, lists }, seq, counts, me, invites, today }) => {
                        let no_lists = lists.is_empty();
                        let list_family = family.id.to_string();
                        let invite_family_id = family.id.to_string();
                        let leave_family_id = family.id.to_string();
                        let my_id = me.to_string();
                        let live = LiveFamily {
                            family: RwSignal::new(family.clone()),
                            lists: RwSignal::new(lists),
                            members: RwSignal::new(members),
                            seq: StoredValue::new(seq),
                            me: StoredValue::new(me.clone()),
                            gone: RwSignal::new(false),
                        };
                        // Whether the viewer is an admin, as the family's
                        // topic keeps it (an admin may make them one).
                        let is_admin = Memo::new(move |_| live.members.with(|members| {
                            live.me.with_value(|me| members.iter().any(|m| &m.user_id == me && m.role == Role::Admin))
                        }));
                        let family_id = StoredValue::new(family.id.clone());
                        follow_live(live, family_topic(&family.id), None, move || detail.refetch());
                        let name_of = move |list: &GiftList| live.members.with(|members| recipient_name(list, members));
                        let counts = StoredValue::new(counts);
                        let today = StoredValue::new(today);
                        // Read with `try_`: the document title is set by
                        // leptos_meta, which can ask once more while this
                        // view is being replaced (a refetch racing a
                        // navigation), after its signals are gone.
                        let family_name = move || live.family.try_with(|f| f.name.clone()).unwrap_or_default();
                        view! {
                            <Title text=move || format!("{} · Giftlist", family_name()) />
                            <h1>{family_name}</h1>
                            <Show when=move || live.gone.get()>
                                <p role="alert" class="form-error" data-testid="access-lost">{tu_string!(i18n, access_lost)}</p>
                                <p><A href="/">{tu_string!(i18n, your_families)}</A></p>
                            </Show>
                            <div hidden=move || live.gone.get()>
                            <Show when=move || is_admin.get()>
                                <details class="reveal" data-testid="rename-family">
                                    <summary>{tu_string!(i18n, rename_family)}</summary>
                                    <ActionForm action=rename attr:class="stacked-form">
                                        <input type="hidden" name="family_id" value=family_id.get_value().to_string() />
                                        <label for="family-name">{tu_string!(i18n, family_name)}</label>
                                        <input id="family-name" name="name" required maxlength="200" value=family_name />
                                        <button type="submit">{tu_string!(i18n, rename_list)}</button>
                                    </ActionForm>
                                    <Message message=rename_refusal testid="rename-family-error" />
                                </details>
                            </Show>
                            <section aria-labelledby="lists-title">
                                <h2 id="lists-title">{tu_string!(i18n, lists)}</h2>
                                <Show when=move || live.lists.with(|lists| lists.iter().all(|l| l.archived))>
                                    <p class="empty" data-testid="no-lists">{tu_string!(i18n, no_lists)}</p>
                                </Show>
                                <ul class="cards" data-testid="lists">
                                    <For
                                        each=move || live.lists.get().into_iter().filter(|l| !l.archived)
                                        key=|list| (list.id.clone(), list.version)
                                        children=move |list| {
                                            let who = name_of(&list);
                                            let counts = counts.with_value(|counts| counts.iter().find(|c| c.list_id == list.id).cloned());
                                            view! { <ListCard list who counts today=today.get_value() /> }
                                        }
                                    />
                                </ul>
                                <Show when=move || live.lists.with(|lists| lists.iter().any(|l| l.archived))>
                                    <details class="reveal" data-testid="archived-lists">
                                        <summary>{tu_string!(i18n, archived_lists)}</summary>
                                        <ul class="cards">
                                            <For
                                                each=move || live.lists.get().into_iter().filter(|l| l.archived)
                                                key=|list| (list.id.clone(), list.version)
                                                children=move |list| {
                                                    let who = name_of(&list);
                                                    view! { <ListCard list who counts=None today=today.get_value() /> }
                                                }
                                            />
                                        </ul>
                                    </details>
                                </Show>
                                <details class="reveal" open=no_lists>
                                    <summary>{tu_string!(i18n, new_list)}</summary>
                                    <ActionForm action=new_list attr:class="stacked-form">
                                        <input type="hidden" name="family_id" value=list_family />
                                        <label for="list-title">{tu_string!(i18n, list_title)}</label>
                                        <input id="list-title" name="title" required maxlength="200" />
                                        <label for="list-recipient">{tu_string!(i18n, for_a_member)}</label>
                                        <select id="list-recipient" name="recipient_user_id">
                                            <option value="">{tu_string!(i18n, someone_without_account)}</option>
                                            <For
                                                each=move || live.members.get()
                                                key=|m| m.user_id.clone()
                                                children=|m| view! { <option value=m.user_id.to_string()>{m.name.clone()}</option> }
                                            />
                                        </select>
                                        <label for="list-recipient-name">{tu_string!(i18n, or_their_name)}</label>
                                        <input id="list-recipient-name" name="recipient_name" maxlength="100" />
                                        <button type="submit">{tu_string!(i18n, create_list)}</button>
                                    </ActionForm>
                                </details>
                                <Message message=list_message />
                            </section>
                            <section aria-labelledby="members-title">
                                <h2 id="members-title">{tu_string!(i18n, members)}</h2>
                                <ul data-testid="members" class="members">
                                    <For
                                        each=move || live.members.get()
                                        key=|m| (m.user_id.clone(), m.name.clone(), m.role)
                                        children=move |m| view! {
                                            <MemberRow member=m family_id=family_id.get_value() me=live.me.get_value() is_admin set_role remove />
                                        }
                                    />
                                </ul>
                                <Message message=member_refusal testid="member-error" />
                                <details class="reveal" data-testid="leave-family">
                                    <summary>{tu_string!(i18n, leave_family)}</summary>
                                    <p class="muted">{tu_string!(i18n, leave_family_lead)}</p>
                                    <ActionForm action=remove>
                                        <input type="hidden" name="family_id" value=leave_family_id />
                                        <input type="hidden" name="user_id" value=my_id />
                                        <button type="submit" class="danger" data-testid="confirm-leave">{tu_string!(i18n, leave_family_confirm)}</button>
                                    </ActionForm>
                                </details>
                                <ActionForm action=invite attr:class="stacked-form">
                                    <input type="hidden" name="family_id" value=invite_family_id />
                                    <label for="invite-email">{tu_string!(i18n, invite_email)}</label>
                                    <input id="invite-email" name="email" type="email" maxlength="254" autocomplete="off" />
                                    <button type="submit">{tu_string!(i18n, make_invite)}</button>
                                </ActionForm>
                                <Message message=invite_message />
                                {move || invite_link().map(|link| view! {
                                    <p>{tu_string!(i18n, send_invite)}" "
                                        <input class="invite-link" readonly value=link.clone() aria-label=tu_string!(i18n, invite_link) data-testid="invite-link" />
                                        <CopyButton text=link />
                                    </p>
                                })}
                                {(!invites.is_empty()).then(|| view! {
                                    <h3>{tu_string!(i18n, open_invites)}</h3>
                                    <ul class="invites" data-testid="open-invites">
                                        {invites.into_iter().map(|invite| view! { <OpenInviteRow invite family_id=family_id.get_value() revoke /> }).collect_view()}
                                    </ul>
                                })}
                            </section>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// One member on the family page: their name and role and, for an admin
/// looking, the buttons to change the role or remove them (behind a
/// second click).
#[component]
fn MemberRow(
    member: Member,
    family_id: FamilyId,
    me: UserId,
    is_admin: Memo<bool>,
    set_role: ServerAction<SetMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let i18n = use_i18n();
    let mine = member.user_id == me;
    let (next_role, toggle_label) = match member.role {
        Role::Admin => ("member", tu_string!(i18n, make_member)),
        Role::Member => ("admin", tu_string!(i18n, make_admin)),
    };
    let confirm = fill(
        tu_string!(i18n, remove_member_confirm),
        &[("name", &member.name)],
    );
    let family = StoredValue::new(family_id.to_string());
    let user = StoredValue::new(member.user_id.to_string());
    let confirm = StoredValue::new(confirm);
    view! {
        <li data-testid="member" data-user=user.get_value()>
            <span class="member-name">{member.name.clone()}</span>" "
            <span class="muted" data-testid="member-role">{role_name(member.role)}</span>
            {mine.then(|| view! { " "<span class="muted">{tu_string!(i18n, member_you)}</span> })}
            <Show when=move || is_admin.get() && !mine>
                <span class="member-actions">
                    <ActionForm action=set_role attr:class="inline-form">
                        <input type="hidden" name="family_id" value=family.get_value() />
                        <input type="hidden" name="user_id" value=user.get_value() />
                        <input type="hidden" name="role" value=next_role />
                        <button type="submit" class="small" data-testid="toggle-admin">{toggle_label}</button>
                    </ActionForm>
                    <details class="reveal inline">
                        <summary data-testid="remove-member">{tu_string!(i18n, remove_member)}</summary>
                        <p class="muted">{tu_string!(i18n, remove_member_lead)}</p>
                        <ActionForm action=remove>
                            <input type="hidden" name="family_id" value=family.get_value() />
                            <input type="hidden" name="user_id" value=user.get_value() />
                            <button type="submit" class="danger" data-testid="confirm-remove">{confirm.get_value()}</button>
                        </ActionForm>
                    </details>
                </span>
            </Show>
        </li>
    }
}

/// An open invite: its link to pass on again, who made it and until when
/// it works, where it was mailed, and "Revoke" for those who may.
#[component]
fn OpenInviteRow(
    invite: OpenInvite,
    family_id: FamilyId,
    revoke: ServerAction<RevokeInvite>,
) -> impl IntoView {
    let i18n = use_i18n();
    let until = invite.expires_at.get(..10).unwrap_or_default().to_owned();
    let made = fill(
        tu_string!(i18n, invite_made_by),
        &[("name", &invite.created_by_name), ("date", &until)],
    );
    let mailed = invite
        .email
        .as_ref()
        .map(|email| fill(tu_string!(i18n, invite_mailed_to), &[("email", email)]));
    view! {
        <li data-testid="open-invite">
            <input class="invite-link" readonly value=invite.url.clone() aria-label=tu_string!(i18n, invite_link) />
            " "<span class="muted">{made}{mailed.map(|m| format!(" · {m}"))}</span>
            {invite.may_revoke.then(|| view! {
                <ActionForm action=revoke attr:class="inline-form">
                    <input type="hidden" name="family_id" value=family_id.to_string() />
                    <input type="hidden" name="code" value=invite.code.clone() />
                    <button type="submit" class="small" data-testid="revoke-invite">{tu_string!(i18n, revoke_invite)}</button>
                </ActionForm>
            })}
        </li>
    }
}

/// "Copy link": puts `text` on the clipboard and says so. Shown only once
/// the wasm runs (without it the button could do nothing; the link stays
/// selectable in its field).
#[component]
pub(crate) fn CopyButton(
    text: String,
    #[prop(default = "copy-invite")] testid: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    let ready = RwSignal::new(false);
    let copied = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let text = StoredValue::new(text);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let promise = window()
                .navigator()
                .clipboard()
                .write_text(&text.get_value());
            leptos::task::spawn_local(async move {
                let done = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
                copied.set(done);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    };
    view! {
        <Show when=move || ready.get()>
            <button type="button" class="copy" on:click=copy data-testid=testid>{tu_string!(i18n, copy_link)}</button>
        </Show>
        <span class="muted" role="status" aria-live="polite" data-testid="copy-status">
            {move || copied.get().then(|| format!(" {}", tu_string!(i18n, copied)))}
        </span>
    }
}

/// The site's origin as the browser sees it; empty on the server, where
/// the link is shown relative.
fn window_origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        window().location().origin().unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

/// `/invite/:code`: which family it is, and a button to join.
#[component]
pub fn InvitePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let family = Resource::new(code, invite_family);
    let user = use_current_user();
    let accept = ServerAction::<AcceptInvite>::new();
    let message = error_text(move || accept.value().get());
    view! {
        <Title text=format!("{} · Giftlist", tu_string!(i18n, invitation)) />
        <Transition fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                let logged_in = matches!(user.await, Ok(Some(_)));
                match family.await {
                    Err(_) => view! {
                        <h1>{tu_string!(i18n, invite_broken)}</h1>
                        <p>{tu_string!(i18n, invite_expired)}</p>
                    }.into_any(),
                    Ok(family) if logged_in => view! {
                        <h1>{fill(tu_string!(i18n, join_name), &[("name", &family.name)])}</h1>
                        <ActionForm action=accept>
                            <input type="hidden" name="code" value=code() />
                            <button type="submit">{tu_string!(i18n, join_family)}</button>
                        </ActionForm>
                        <Message message />
                    }.into_any(),
                    Ok(family) => view! {
                        <h1>{fill(tu_string!(i18n, join_name), &[("name", &family.name)])}</h1>
                        <p>{tu_string!(i18n, login_first)}</p>
                        <p><A href="/register">{tu_string!(i18n, create_an_account)}</A>" · "<A href="/login">{tu_string!(i18n, log_in)}</A></p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
