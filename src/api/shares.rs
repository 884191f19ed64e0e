//! `/api/v1` routes of share links (docs/API.md): members make, list and
//! revoke a list's links; whoever holds a link reads the list through it,
//! polls its changes, and claims, pledges, releases and withdraws as a
//! guest. Thin over `service::shares`; the link is opened the same way on
//! every route (`auth::extract::share_access`).

use axum::{
    extract::State,
    http::{header, request::Parts, HeaderValue},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
    Json, Router,
};
use serde_json::json;

use super::{
    created,
    error::{ApiJson, ApiPath, ApiQuery},
    no_content, ok, ApiResult, Since,
};
use crate::{
    auth::{
        extract::{share_access, trace_id, CurrentUser},
        links::guest_cookie,
    },
    model::{
        error::AppError,
        share::{GuestClaim, GuestPledgeRequest, NewShare},
        ItemId, ListId,
    },
    service::{
        shares::{GuestAnswer, ShareAccess},
        Actor, Service,
    },
    state::AppState,
};

/// The routes, merged into the API's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lists/{id}/shares", get(list_shares).post(create_share))
        .route("/lists/{id}/shares/{share}", delete(revoke_share))
        .route("/shares/{token}", get(share))
        .route("/shares/{token}/changes", get(share_changes))
        .route(
            "/shares/{token}/items/{item}/claim",
            post(guest_claim).delete(guest_release),
        )
        .route(
            "/shares/{token}/items/{item}/pledges",
            post(guest_pledge).delete(guest_withdraw),
        )
}

async fn create_share(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ListId>,
    ApiJson(input): ApiJson<NewShare>,
) -> ApiResult {
    let share = service.create_share(&actor, &id, input).await?;
    created(json!({ "share": share }))
}

async fn list_shares(
    State(service): State<Service>,
    user: CurrentUser,
    ApiPath(id): ApiPath<ListId>,
) -> ApiResult {
    let shares = service.shares_of_list(&user.id, &id).await?;
    ok(json!({ "shares": shares }))
}

async fn revoke_share(
    State(service): State<Service>,
    actor: Actor,
    ApiPath((id, share)): ApiPath<(ListId, String)>,
) -> ApiResult {
    service.revoke_share(&actor, &id, &share).await?;
    no_content()
}

async fn share(
    State(state): State<AppState>,
    mut parts: Parts,
    ApiPath(token): ApiPath<String>,
) -> ApiResult {
    let access = share_access(&mut parts, &state, &token).await?;
    ok(state.service.share_page(&access).await?)
}

async fn share_changes(
    State(state): State<AppState>,
    mut parts: Parts,
    ApiPath(token): ApiPath<String>,
    ApiQuery(query): ApiQuery<Since>,
) -> ApiResult {
    let access = share_access(&mut parts, &state, &token).await?;
    ok(state.service.share_changes(&access, query.since).await?)
}

/// `{item, guest}`, and the cookie that keeps the browser this guest
/// (set again on each answer, so it lives a year from the last use).
fn guest_answer(state: &AppState, share: &str, answer: GuestAnswer) -> ApiResult {
    let cookie = guest_cookie(share, &answer.token, state.runtime.secure_cookies);
    let mut response = Json(json!({ "item": answer.item, "guest": answer.guest })).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Opens the link, makes one change as the browser's guest (made by it
/// when new), and answers it with the guest's cookie.
async fn guest_change<Fut>(
    state: AppState,
    mut parts: Parts,
    token: &str,
    change: impl FnOnce(Service, ShareAccess, String) -> Fut,
) -> ApiResult
where
    Fut: std::future::Future<Output = Result<GuestAnswer, AppError>>,
{
    let access = share_access(&mut parts, &state, token).await?;
    let share = access.share.id.clone();
    let answer = change(state.service.clone(), access, trace_id(&parts)).await?;
    guest_answer(&state, &share, answer)
}

async fn guest_claim(
    State(state): State<AppState>,
    parts: Parts,
    ApiPath((token, item)): ApiPath<(String, ItemId)>,
    ApiJson(input): ApiJson<GuestClaim>,
) -> ApiResult {
    guest_change(state, parts, &token, |service, access, trace| async move {
        service.guest_claim(&access, &item, input, trace).await
    })
    .await
}

async fn guest_release(
    State(state): State<AppState>,
    parts: Parts,
    ApiPath((token, item)): ApiPath<(String, ItemId)>,
) -> ApiResult {
    guest_change(state, parts, &token, |service, access, trace| async move {
        service.guest_release(&access, &item, trace).await
    })
    .await
}

async fn guest_pledge(
    State(state): State<AppState>,
    parts: Parts,
    ApiPath((token, item)): ApiPath<(String, ItemId)>,
    ApiJson(input): ApiJson<GuestPledgeRequest>,
) -> ApiResult {
    guest_change(state, parts, &token, |service, access, trace| async move {
        service.guest_pledge(&access, &item, input, trace).await
    })
    .await
}

async fn guest_withdraw(
    State(state): State<AppState>,
    parts: Parts,
    ApiPath((token, item)): ApiPath<(String, ItemId)>,
) -> ApiResult {
    guest_change(state, parts, &token, |service, access, trace| async move {
        service.guest_withdraw(&access, &item, trace).await
    })
    .await
}

/// `GET /g/{token}`: a guest's "manage my claim" link. Makes this browser
/// that guest (the cookie) and sends it to the link's page; an unknown
/// token is the plain 404 page's answer, 429 when guessed at.
pub async fn manage_link(
    State(state): State<AppState>,
    parts: Parts,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    let ip = state.runtime.proxies.client_of(&parts);
    match state.service.open_guest(&token, ip).await {
        Ok((guest, path)) => {
            let cookie = guest_cookie(&guest.share_id, &token, state.runtime.secure_cookies);
            let mut response = axum::http::StatusCode::SEE_OTHER.into_response();
            let headers = response.headers_mut();
            if let (Ok(location), Ok(cookie)) =
                (HeaderValue::from_str(&path), HeaderValue::from_str(&cookie))
            {
                headers.insert(header::LOCATION, location);
                headers.insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(err) => {
            let status = axum::http::StatusCode::from_u16(err.code.status())
                .unwrap_or(axum::http::StatusCode::NOT_FOUND);
            let mut response = (
                status,
                axum::response::Html(
                    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found · Giftlist</title></head>\
                     <body><h1>This link does not work</h1><p>Ask the family for a new one.</p><p><a href=\"/\">Giftlist</a></p></body></html>",
                ),
            )
                .into_response();
            if let Some(seconds) = err.retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
    }
}
