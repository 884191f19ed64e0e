//! Server side of the pages' server functions: reach the app's state and
//! session, call the service, and answer plain form posts (no wasm yet)
//! with a redirect that carries the outcome.

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

use crate::{
    auth::session::{log_in, log_out, session_user},
    model::{
        error::AppError,
        input::{Credentials, Register},
        User, UserId,
    },
    service::{Actor, Service},
    state::{AppState, TraceId},
};

pub(super) fn state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("server function without the app state in context");
        AppError::internal()
    })
}

async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|err| {
        tracing::error!(cause = %err, "server function without a session");
        AppError::internal()
    })
}

fn session_error(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(cause = %err, "session update failed");
    AppError::internal()
}

/// The query parameters that say how a page is arranged (the list page's
/// sort and filter): kept when a form post sends the browser back.
const VIEW_PARAMS: [&str; 2] = ["sort", "available"];

/// Sends the browser to `success` on success. A refused plain form post
/// (no wasm: it accepts HTML) goes back to the form's page with the
/// message in `?error=`, where the page shows it; with the wasm the action
/// shows the error itself.
pub(super) async fn answer<T>(result: Result<T, AppError>, success: &str) -> Result<T, AppError> {
    answer_keeping(result, success, &[]).await
}

/// [`answer`], and a refused plain form post also carries `kept` (the
/// fields as typed) back in the query, so that the form shows them again.
pub(super) async fn answer_keeping<T>(
    result: Result<T, AppError>,
    success: &str,
    kept: &[(&str, &str)],
) -> Result<T, AppError> {
    let headers: HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| url::Url::parse(v).ok());
    // How the page was arranged (its sort and filter) survives the post.
    let view: Vec<(String, String)> = back
        .iter()
        .flat_map(|url| url.query_pairs().into_owned())
        .filter(|(key, _)| VIEW_PARAMS.contains(&key.as_str()))
        .collect();
    let with_view = |path: &str, extra: &[(&str, &str)]| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(extra.iter().filter(|(_, value)| !value.is_empty()))
            .extend_pairs(view.iter())
            .finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    };
    match &result {
        Ok(_) => match &back {
            Some(url) if url.path() == success => leptos_axum::redirect(&with_view(success, &[])),
            _ => leptos_axum::redirect(success),
        },
        Err(err) => {
            // The error's own status, not the server-function default 500.
            if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                if let Ok(status) = StatusCode::from_u16(err.code.status()) {
                    response.set_status(status);
                }
                if let Some(seconds) = err.retry_after {
                    response.insert_header(header::RETRY_AFTER, HeaderValue::from(seconds));
                }
            }
            let plain_form = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"));
            if let (true, Some(url)) = (plain_form, &back) {
                let mut extra = vec![("error", err.message.as_str())];
                extra.extend_from_slice(kept);
                leptos_axum::redirect(&with_view(url.path(), &extra));
            }
        }
    }
    result
}

/// The logged-in user's id, or 401.
pub(super) async fn user_id() -> Result<UserId, AppError> {
    session_user(&session().await?)
        .await?
        .ok_or_else(|| AppError::unauthorized("log in to see this"))
}

/// The logged-in user as the actor of a change, with the request's trace id.
pub(super) async fn actor() -> Result<Actor, AppError> {
    Ok(Actor::user(user_id().await?, request_trace_id()))
}

/// Runs one change as the logged-in user: the service and the actor, the
/// shape every page action shares.
pub(super) async fn act<T, Fut>(op: impl FnOnce(Service, Actor) -> Fut) -> Result<T, AppError>
where
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    let service = state()?.service;
    op(service, actor().await?).await
}

pub async fn current_user() -> Result<Option<User>, AppError> {
    let Some(id) = session_user(&session().await?).await? else {
        return Ok(None);
    };
    Ok(Some(state()?.service.account(&id).await?))
}

pub async fn register(email: String, name: String, password: String) -> Result<(), AppError> {
    let result = async {
        let state = state()?;
        let ip = request_ip(&state);
        let user = state
            .service
            .register(
                Register {
                    email,
                    name,
                    password,
                },
                ip,
            )
            .await?;
        log_in(&session().await?, &user.id)
            .await
            .map_err(session_error)
    }
    .await;
    answer(result, "/").await
}

pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let result = async {
        let state = state()?;
        let ip = request_ip(&state);
        let user = state
            .service
            .authenticate(Credentials { email, password }, ip)
            .await?;
        log_in(&session().await?, &user.id)
            .await
            .map_err(session_error)
    }
    .await;
    answer(result, &local_page(next.as_deref())).await
}

/// `next` if it is a page of this site (a path: never another site, as
/// `//evil.example` or `https://...` would be), else the start page.
fn local_page(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub async fn logout() -> Result<(), AppError> {
    let result = async {
        let bus = state()?.service.bus;
        log_out(&session().await?, &bus)
            .await
            .map_err(session_error)
    }
    .await;
    answer(result, "/").await
}

/// Middleware for the pages' server functions (`/api/fn/*`), so they hold
/// to the JSON API's rules: a body over 64 KiB is refused with 413 in the
/// API's envelope before Leptos reads it, and an error answers with its
/// code's status. Leptos answers every server-function error 500, even a
/// missing or malformed argument, which is the caller's mistake (400);
/// errors from inside a function already set their status (see [`answer`]),
/// but argument errors happen before the function runs.
pub async fn server_fn_envelope(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/fn/") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, crate::api::MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => return crate::api::error::too_large().into_response(),
    };
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let is_error = response
        .headers()
        .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER);
    if !is_error || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // An error body is one small JSON object.
    let bytes = axum::body::to_bytes(body, crate::api::MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(err.code.status()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Where `GET /lang/{code}` may send the browser back to.
#[derive(serde::Deserialize)]
pub struct LanguageBack {
    back: Option<String>,
}

/// `GET /lang/{code}`: the header's language links. Remembers the choice
/// in the cookie the pages read (see `ui::lang`) for a year and sends the
/// browser back to the page it came from, which then renders in that
/// language. Only local paths are followed back; an unknown language is
/// a 404.
pub async fn set_language(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::extract::Path(code): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<LanguageBack>,
) -> Response {
    use crate::i18n::I18nLocaleTrait as _;
    use tower_sessions::cookie::{time::Duration, Cookie, SameSite};
    let Some((locale, _)) = super::lang::languages()
        .into_iter()
        .find(|(locale, _)| locale.as_str() == code)
    else {
        return AppError::not_found("language").into_response();
    };
    let back = query
        .back
        .filter(|back| is_local_path(back))
        .unwrap_or_else(|| "/".to_string());
    let cookie = Cookie::build((super::lang::LANG_COOKIE, locale.as_str()))
        .path("/")
        .max_age(Duration::days(365))
        .same_site(SameSite::Lax)
        .secure(state.runtime.secure_cookies)
        .build();
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let (Ok(location), Ok(cookie)) = (
        HeaderValue::from_str(&back),
        HeaderValue::from_str(&cookie.to_string()),
    ) {
        headers.insert(header::LOCATION, location);
        headers.insert(header::SET_COOKIE, cookie);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A path on this site: `/families/f_1?x=y`, never `//elsewhere` or a
/// full address.
fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

/// Opens share link `token` for a page's server function, as the API
/// does (`auth::extract::share_access`).
pub(super) async fn share_access(
    token: &str,
) -> Result<crate::service::shares::ShareAccess, AppError> {
    let state = state()?;
    let mut parts: axum::http::request::Parts =
        leptos::prelude::use_context().ok_or_else(|| {
            tracing::error!("server function without its request");
            AppError::internal()
        })?;
    crate::auth::extract::share_access(&mut parts, &state, token).await
}

/// The request's trace id, for a change made without an account.
pub(super) fn request_trace_id() -> String {
    let parts: Option<axum::http::request::Parts> = leptos::prelude::use_context();
    parts.map_or_else(
        || TraceId::random().0,
        |parts| crate::auth::extract::trace_id(&parts),
    )
}

/// Sets the cookie that keeps this browser a guest of link `share`.
pub(super) fn set_guest_cookie(share: &str, token: &str) {
    let Ok(state) = state() else { return };
    let cookie = crate::auth::links::guest_cookie(share, token, state.runtime.secure_cookies);
    if let (Some(response), Ok(value)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&cookie),
    ) {
        response.append_header(header::SET_COOKIE, value);
    }
}

/// The client's address, for a page's server function (see
/// `auth::client_ip`).
pub(super) fn request_ip(state: &AppState) -> std::net::IpAddr {
    let parts: Option<axum::http::request::Parts> = leptos::prelude::use_context();
    parts.map_or(std::net::IpAddr::from([127, 0, 0, 1]), |parts| {
        state.runtime.proxies.client_of(&parts)
    })
}

pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    let result = async {
        let state = state()?;
        let ip = request_ip(&state);
        let user = state.service.reset_password(&token, password, ip).await?;
        log_in(&session().await?, &user.id)
            .await
            .map_err(session_error)
    }
    .await;
    answer(result, "/").await
}

pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    let result = async {
        let user = user_id().await?;
        // The session it was changed in goes on; the others end.
        let keep = crate::auth::session::session_key(&session().await?);
        state()?
            .service
            .change_password(&user, current, new, keep.as_deref())
            .await
    }
    .await;
    answer(result, "/settings?changed=1").await
}

/// Deletes the account (its password given) and ends this session too.
pub async fn delete_account(input: crate::model::input::DeleteAccount) -> Result<(), AppError> {
    let result = async {
        let actor = actor().await?;
        state()?.service.delete_account(&actor, input).await?;
        session().await?.flush().await.map_err(session_error)
    }
    .await;
    answer(result, "/").await
}

pub async fn logout_everywhere() -> Result<(), AppError> {
    let result = async {
        let user = user_id().await?;
        state()?.service.log_out_everywhere(&user).await?;
        session().await?.flush().await.map_err(session_error)
    }
    .await;
    answer(result, "/").await
}

#[cfg(test)]
mod tests {
    use super::local_page;

    #[test]
    fn login_goes_on_only_to_pages_of_this_site() {
        assert_eq!(local_page(Some("/share?url=x")), "/share?url=x");
        assert_eq!(local_page(None), "/");
        for elsewhere in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "share",
            "/a\nb",
        ] {
            assert_eq!(local_page(Some(elsewhere)), "/", "{elsewhere:?}");
        }
    }
}
