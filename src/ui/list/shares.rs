//! The list page's "Share this list" section: the list's share links that
//! the viewer may see, each to copy or revoke, and a form for a new one.
//! The recipient is offered view links only, and is never shown that
//! givers' links exist (the server lists them none).

use leptos::prelude::*;

use crate::{
    i18n::{tu_string, use_i18n},
    model::{
        error::AppError,
        share::{ShareKind, ShareLink},
        ListId,
    },
    ui::{
        families::CopyButton,
        form::{own_refusal, Message},
        lang::fill,
    },
};

#[server(prefix = "/api/fn", endpoint = "list_shares", client = crate::ui::fetch::PageClient)]
pub async fn list_shares(list_id: ListId) -> Result<Vec<ShareLink>, AppError> {
    let service = crate::ui::server::state()?.service;
    let me = crate::ui::server::user_id().await?;
    service.shares_of_list(&me, &list_id).await
}

#[server(prefix = "/api/fn", endpoint = "make_share", client = crate::ui::fetch::PageClient)]
pub async fn make_share(
    list_id: ListId,
    kind: String,
    // A date field: empty for no expiry.
    expires: Option<String>,
) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let result = crate::ui::server::act(|service, actor| async move {
        let kind = ShareKind::parse(&kind)
            .ok_or_else(|| AppError::bad_request("kind must be givers or view"))?;
        let input = crate::model::share::NewShare {
            kind,
            expires_at: expires,
        };
        service.create_share(&actor, &list_id, input).await
    })
    .await;
    crate::ui::server::answer(result, &back).await.map(|_| ())
}

#[server(prefix = "/api/fn", endpoint = "revoke_share", client = crate::ui::fetch::PageClient)]
pub async fn revoke_share(list_id: ListId, share_id: String) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let result = crate::ui::server::act(|service, actor| async move {
        service.revoke_share(&actor, &list_id, &share_id).await
    })
    .await;
    crate::ui::server::answer(result, &back).await
}

#[component]
pub(super) fn ShareLinks(list_id: ListId, is_recipient: bool) -> impl IntoView {
    let i18n = use_i18n();
    let make = ServerAction::<MakeShare>::new();
    let revoke = ServerAction::<RevokeShare>::new();
    let links = {
        let list_id = list_id.clone();
        Resource::new(
            move || (make.version().get(), revoke.version().get()),
            move |_| list_shares(list_id.clone()),
        )
    };
    let refusal = own_refusal(vec![make.value(), revoke.value()]);
    let list_field = list_id.to_string();
    let revoke_list = StoredValue::new(list_id.to_string());
    view! {
        <section class="shares" aria-labelledby="shares-title" data-testid="shares">
            <h2 id="shares-title">{tu_string!(i18n, share_heading)}</h2>
            <p class="muted">{tu_string!(i18n, share_lead)}</p>
            <Transition fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    let shown = links.await.unwrap_or_default();
                    if shown.is_empty() {
                        return view! { <p class="muted" data-testid="no-shares">{tu_string!(i18n, share_none)}</p> }.into_any();
                    }
                    view! {
                        <ul class="share-links">
                            {shown.into_iter().map(|link| share_row(link, revoke, revoke_list.get_value())).collect_view()}
                        </ul>
                    }.into_any()
                })}
            </Transition>
            <Message message=refusal testid="share-links-error" />
            <details class="share-make">
                <summary>{tu_string!(i18n, share_make_title)}</summary>
                <ActionForm action=make attr:class="stacked-form" attr:data-testid="make-share">
                    <input type="hidden" name="list_id" value=list_field />
                    <fieldset>
                        <legend>{tu_string!(i18n, share_kind)}</legend>
                        <label class="check">
                            <input type="radio" name="kind" value="view" checked />
                            {tu_string!(i18n, share_kind_view)}
                        </label>
                        {(!is_recipient).then(|| view! {
                            <label class="check">
                                <input type="radio" name="kind" value="givers" />
                                {tu_string!(i18n, share_kind_givers)}
                            </label>
                            <p class="warning" data-testid="givers-warning">{tu_string!(i18n, share_givers_warning)}</p>
                        })}
                    </fieldset>
                    <label for="share-expires">{tu_string!(i18n, share_expires_label)}</label>
                    <input id="share-expires" name="expires" type="date" />
                    <button type="submit">{tu_string!(i18n, share_make)}</button>
                </ActionForm>
            </details>
        </section>
    }
}

fn share_row(link: ShareLink, revoke: ServerAction<RevokeShare>, list_id: String) -> impl IntoView {
    let i18n = use_i18n();
    let kind = match link.kind {
        ShareKind::Givers => tu_string!(i18n, share_kind_givers_short),
        ShareKind::View => tu_string!(i18n, share_kind_view_short),
    };
    let expiry = match (&link.expires_at, link.expired) {
        (_, true) => Some(tu_string!(i18n, share_expired).to_string()),
        (Some(at), false) => Some(fill(
            tu_string!(i18n, share_until),
            &[("date", &at.get(..10).unwrap_or(at))],
        )),
        (None, false) => None,
    };
    let field = format!("share-url-{}", link.id);
    view! {
        <li class="share-link" data-testid="share-link" data-kind=link.kind.as_str()>
            <label for=field.clone()>{kind}</label>
            {expiry.map(|text| view! { " " <span class="muted">{text}</span> })}
            <div class="row-actions">
                <input id=field class="invite-link" readonly value=link.url.clone() data-testid="share-url" />
                <CopyButton text=link.url.clone() testid="copy-share" />
                <ActionForm action=revoke>
                    <input type="hidden" name="list_id" value=list_id />
                    <input type="hidden" name="share_id" value=link.id.clone() />
                    <button type="submit" data-testid="revoke-share">{tu_string!(i18n, share_revoke)}</button>
                </ActionForm>
            </div>
        </li>
    }
}
