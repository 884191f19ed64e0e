//! The caller of a request: by `Authorization: Bearer <token>` or by the
//! session cookie.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header::AUTHORIZATION, request::Parts},
};
use tower_sessions::Session;

use super::session::session_user;
use crate::{
    model::{error::AppError, UserId},
    service::Actor,
    state::{AppState, TraceId},
};

/// How the caller proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    Session,
    Token,
}

/// The authenticated caller; rejects with 401 when there is none.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub method: AuthMethod,
    /// When the caller's token runs out (unix seconds); `None` for a session.
    pub expires_at: Option<i64>,
}

/// The caller, if any: a present but bad `Authorization` header is an error
/// (a script should hear that its token failed, not be treated as anonymous).
pub async fn caller(parts: &mut Parts, state: &AppState) -> Result<Option<CurrentUser>, AppError> {
    if let Some(header) = parts.headers.get(AUTHORIZATION) {
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                AppError::unauthorized("the Authorization header must be Bearer <token>")
            })?;
        let verified = state
            .service
            .tokens
            .verify(token.trim())
            .ok_or_else(|| AppError::unauthorized("the token is invalid or has expired"))?;
        return Ok(Some(CurrentUser {
            id: verified.user_id,
            method: AuthMethod::Token,
            expires_at: Some(verified.expires_at),
        }));
    }
    let Some(session) = parts.extensions.get::<Session>() else {
        return Ok(None);
    };
    Ok(session_user(session).await?.map(|id| CurrentUser {
        id,
        method: AuthMethod::Session,
        expires_at: None,
    }))
}

impl<S> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        caller(parts, &AppState::from_ref(state))
            .await?
            .ok_or_else(|| AppError::unauthorized("log in first"))
    }
}

/// The caller as the actor of a change, with the request's trace id.
impl<S> FromRequestParts<S> for Actor
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let trace_id = parts
            .extensions
            .get::<TraceId>()
            .cloned()
            .unwrap_or_else(TraceId::random);
        Ok(Actor::user(user.id, trace_id.0))
    }
}

/// The client's address as an extractor, for the JSON API's handlers.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub std::net::IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Ok(ClientIp(state.runtime.proxies.client_of(parts)))
    }
}

/// Opens share link `token` for this request: the viewer (logged in or
/// not, which decides whether they are the list's recipient), the client's
/// address (for the limit on unknown links), and the guest the browser is
/// of this link (its cookie, or the guest header). The one way the edges
/// reach a share link, so every route that takes one applies the same
/// rules.
pub async fn share_access(
    parts: &mut Parts,
    state: &AppState,
    token: &str,
) -> Result<crate::service::shares::ShareAccess, AppError> {
    // A bad bearer token on a guest's request says nothing about the link.
    let viewer = caller(parts, state)
        .await
        .ok()
        .flatten()
        .map(|user| user.id);
    let ip = state.runtime.proxies.client_of(parts);
    let service = &state.service;
    let mut access = service.open_share(token, viewer.as_ref(), ip).await?;
    let guest = super::links::guest_token_of(
        &parts.headers,
        &access.share.id,
        state.runtime.secure_cookies,
    );
    service.attach_guest(&mut access, guest.as_deref()).await?;
    Ok(access)
}

/// The request's trace id (see `state::TraceId`).
pub fn trace_id(parts: &Parts) -> String {
    parts
        .extensions
        .get::<TraceId>()
        .cloned()
        .unwrap_or_else(TraceId::random)
        .0
}
