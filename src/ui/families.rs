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
    form::{error_text, Message},
};
use serde::{Deserialize, Serialize};

use crate::{
    live::{
        client::{follow_live, LiveData},
        protocol::{family_topic, EventFrame, EventName},
    },
    model::{error::AppError, Family, FamilyDetail, FamilyId, GiftList, ListId, Member},
};

/// Everything the family page shows, and the `seq` of the family's topic
/// it was loaded at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyPageData {
    pub detail: FamilyDetail,
    pub seq: i64,
}

#[server(prefix = "/api/fn", endpoint = "my_families", client = crate::ui::fetch::PageClient)]
pub async fn my_families() -> Result<Vec<Family>, AppError> {
    let state = super::server::state()?;
    Ok(state
        .service
        .me(&super::server::user_id().await?)
        .await?
        .families)
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
    Ok(FamilyPageData { detail, seq })
}

/// The family's lists and members as the page shows them, kept current by
/// the family's live topic. Applying an event twice changes nothing.
#[derive(Clone, Copy)]
struct LiveFamily {
    lists: RwSignal<Vec<GiftList>>,
    members: RwSignal<Vec<Member>>,
    seq: StoredValue<i64>,
}

impl LiveData for LiveFamily {
    fn seq(&self) -> StoredValue<i64> {
        self.seq
    }

    /// Applies the next event; false when it cannot be read: reload.
    fn apply_next(&self, event: &EventFrame) -> bool {
        let payload = event.data.payload.clone();
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
        if !event.data.entity_id.starts_with(ListId::PREFIX) {
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

#[server(prefix = "/api/fn", endpoint = "create_invite", client = crate::ui::fetch::PageClient)]
pub async fn create_invite(family_id: FamilyId) -> Result<(), AppError> {
    let family_page = format!("/families/{family_id}");
    let result = super::server::act(|service, actor| async move {
        service.create_invite(&actor, &family_id).await
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

/// The logged-in start page: my families and a way to start one.
#[component]
pub fn Dashboard() -> impl IntoView {
    let create = ServerAction::<CreateFamily>::new();
    let families = Resource::new(move || create.version().get(), |_| my_families());
    let message = error_text(move || create.value().get());
    view! {
        <section class="dashboard" aria-labelledby="families-title">
            <h1 id="families-title">"Your families"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match families.await {
                        Ok(families) if families.is_empty() => view! {
                            <p>"You are in no family yet. Start one, or open an invite link someone sent you."</p>
                        }.into_any(),
                        Ok(families) => view! {
                            <ul class="cards" data-testid="families">
                                {families.into_iter().map(|family| view! {
                                    <li><A href=format!("/families/{}", family.id)>{family.name}</A></li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <p role="alert">{err.message}</p> }.into_any(),
                    }
                })}
            </Transition>
            <h2>"Start a family"</h2>
            <ActionForm action=create attr:class="inline-form">
                <label for="family-name">"Family name"</label>
                <input id="family-name" name="name" required maxlength="200" />
                <button type="submit">"Create family"</button>
            </ActionForm>
            <Message message />
        </section>
    }
}

/// `/families/:id`: members, the invite link, the lists, a new list.
#[component]
pub fn FamilyPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || FamilyId(params.read().get("id").unwrap_or_default());
    let invite = ServerAction::<CreateInvite>::new();
    let new_list = ServerAction::<CreateList>::new();
    let detail = Resource::new(
        move || (id(), new_list.version().get()),
        |(id, _)| get_family(id),
    );
    let invite_message = error_text(move || invite.value().get());
    let list_message = error_text(move || new_list.value().get());
    let invite_link = move || {
        query.read().get("invite").map(|code| {
            let origin = window_origin();
            format!("{origin}/invite/{code}")
        })
    };
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(err) => view! {
                        <Title text="Family · Giftlist" />
                        <p role="alert">{err.message}</p>
                    }.into_any(),
                    Ok(FamilyPageData { detail: FamilyDetail { family, members, lists }, seq }) => {
                        let list_family = family.id.to_string();
                        let invite_family_id = family.id.to_string();
                        let live = LiveFamily {
                            lists: RwSignal::new(lists),
                            members: RwSignal::new(members),
                            seq: StoredValue::new(seq),
                        };
                        follow_live(live, family_topic(&family.id), None, move || detail.refetch());
                        let name_of = move |list: &GiftList| {
                            list.recipient_name.clone().or_else(|| {
                                live.members.with(|members| {
                                    members.iter().find(|m| Some(&m.user_id) == list.recipient_user_id.as_ref()).map(|m| m.name.clone())
                                })
                            }).unwrap_or_default()
                        };
                        view! {
                            <Title text=format!("{} · Giftlist", family.name) />
                            <h1>{family.name.clone()}</h1>
                            <section aria-labelledby="lists-title">
                                <h2 id="lists-title">"Lists"</h2>
                                <ul class="cards" data-testid="lists">
                                    <For
                                        each=move || live.lists.get()
                                        key=|list| (list.id.clone(), list.title.clone())
                                        children=move |list| {
                                            let who = name_of(&list);
                                            view! {
                                                <li><A href=format!("/lists/{}", list.id)>{list.title}</A>" "<span class="muted">"for "{who}</span></li>
                                            }
                                        }
                                    />
                                </ul>
                                <h3>"New list"</h3>
                                <ActionForm action=new_list attr:class="stacked-form">
                                    <input type="hidden" name="family_id" value=list_family />
                                    <label for="list-title">"Title"</label>
                                    <input id="list-title" name="title" required maxlength="200" />
                                    <label for="list-recipient">"For a member"</label>
                                    <select id="list-recipient" name="recipient_user_id">
                                        <option value="">"Someone without an account (name below)"</option>
                                        <For
                                            each=move || live.members.get()
                                            key=|m| m.user_id.clone()
                                            children=|m| view! { <option value=m.user_id.to_string()>{m.name.clone()}</option> }
                                        />
                                    </select>
                                    <label for="list-recipient-name">"Or their name"</label>
                                    <input id="list-recipient-name" name="recipient_name" maxlength="100" />
                                    <button type="submit">"Create list"</button>
                                </ActionForm>
                                <Message message=list_message />
                            </section>
                            <section aria-labelledby="members-title">
                                <h2 id="members-title">"Members"</h2>
                                <ul data-testid="members">
                                    <For
                                        each=move || live.members.get()
                                        key=|m| m.user_id.clone()
                                        children=|m| view! { <li>{m.name.clone()}" "<span class="muted">{m.role.as_str()}</span></li> }
                                    />
                                </ul>
                                <ActionForm action=invite>
                                    <input type="hidden" name="family_id" value=invite_family_id />
                                    <button type="submit">"Make an invite link"</button>
                                </ActionForm>
                                <Message message=invite_message />
                                {move || invite_link().map(|link| view! {
                                    <p>"Send this link (it works for 7 days): "
                                        <input class="invite-link" readonly value=link.clone() aria-label="Invite link" data-testid="invite-link" />
                                        <CopyButton text=link />
                                    </p>
                                })}
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// "Copy link": puts `text` on the clipboard and says so. Shown only once
/// the wasm runs (without it the button could do nothing; the link stays
/// selectable in its field).
#[component]
fn CopyButton(text: String) -> impl IntoView {
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
            <button type="button" class="copy" on:click=copy data-testid="copy-invite">"Copy link"</button>
        </Show>
        <span class="muted" role="status" aria-live="polite" data-testid="copy-status">
            {move || copied.get().then_some(" Copied.")}
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
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let family = Resource::new(code, invite_family);
    let user = use_current_user();
    let accept = ServerAction::<AcceptInvite>::new();
    let message = error_text(move || accept.value().get());
    view! {
        <Title text="Invitation · Giftlist" />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let logged_in = matches!(user.await, Ok(Some(_)));
                match family.await {
                    Err(_) => view! {
                        <h1>"This invite link does not work"</h1>
                        <p>"It may have expired. Ask for a new one."</p>
                    }.into_any(),
                    Ok(family) if logged_in => view! {
                        <h1>"Join "{family.name}</h1>
                        <ActionForm action=accept>
                            <input type="hidden" name="code" value=code() />
                            <button type="submit">"Join the family"</button>
                        </ActionForm>
                        <Message message />
                    }.into_any(),
                    Ok(family) => view! {
                        <h1>"Join "{family.name}</h1>
                        <p>"Log in or create an account first, then open this link again."</p>
                        <p><A href="/register">"Create an account"</A>" · "<A href="/login">"Log in"</A></p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
