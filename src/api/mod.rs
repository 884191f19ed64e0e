//! `/api/v1`: the JSON API of PROTOCOL.md section 9. Each handler parses,
//! calls one service operation and shapes the answer; the rules are in
//! `service`.

pub mod error;
pub mod pictures;
pub mod shares;

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, patch, post, put},
    Json, Router,
};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use self::error::{ApiJson, ApiPath, ApiQuery};
use crate::{
    auth::{
        extract::{AuthMethod, ClientIp, CurrentUser},
        session::{log_in, log_out, session_key},
    },
    model::{
        error::AppError,
        input::{
            ChangeEmail, ChangePassword, ClaimRequest, ConfirmEmail, Credentials, DeleteAccount,
            ForgotPassword, GroupRequest, ItemPatch, LinkToRead, ListPatch, MailChoicesPatch,
            MemberRole, NewFamily, NewItem, NewList, PledgeRequest, Register, Reminders, RenameMe,
            ResetPassword,
        },
        FamilyId, ItemId, ListId, UserId,
    },
    service::{Actor, Service},
    state::AppState,
};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The API's routes, to be nested under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/token", post(token))
        .route("/auth/forgot", post(forgot_password))
        .route("/auth/reset", post(reset_password))
        .route("/auth/logout-everywhere", post(logout_everywhere))
        .route("/me/password", post(change_password))
        .route("/me/email", post(change_email))
        .route("/me/reminders", put(set_reminders))
        .route("/me/mails", put(set_mails))
        .route("/link-preview", post(preview_link))
        .route("/me/email/confirmation", post(send_confirmation))
        .route("/auth/confirm-email", post(confirm_email))
        .route("/me", get(me).patch(rename_me).delete(delete_account))
        .route("/families", post(create_family))
        .route("/families/{id}", get(family).patch(rename_family))
        .route(
            "/families/{id}/invites",
            post(create_invite).get(open_invites),
        )
        .route("/families/{id}/invites/{code}", delete(revoke_invite))
        .route(
            "/families/{id}/members/{user_id}",
            patch(set_member_role).delete(remove_member),
        )
        .route("/families/{id}/lists", post(create_list))
        .route("/invites/{code}/accept", post(accept_invite))
        .route(
            "/lists/{id}",
            get(list).patch(rename_list).delete(delete_list),
        )
        .route("/lists/{id}/items", post(add_item))
        .route("/lists/{id}/changes", get(changes))
        .route("/items/{id}", patch(update_item).delete(delete_item))
        .route("/items/{id}/claim", post(claim_item).delete(release_item))
        .route(
            "/items/{id}/group",
            put(mark_group_gift).delete(unmark_group_gift),
        )
        .route("/items/{id}/group/organiser", post(organise_group_gift))
        .route("/items/{id}/pledges", post(pledge).delete(withdraw_pledge))
        .merge(shares::routes())
        .merge(pictures::api_routes())
        .fallback(|| async { AppError::not_found("API route") })
        .method_not_allowed_fallback(|| async {
            AppError::new(
                crate::model::error::ErrorCode::BadRequest,
                "this method is not allowed here",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

type ApiResult = Result<Response, AppError>;

fn created(body: serde_json::Value) -> ApiResult {
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

fn ok(body: impl serde::Serialize) -> ApiResult {
    Ok(Json(body).into_response())
}

fn no_content() -> ApiResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn session_error(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(cause = %err, "session update failed");
    AppError::internal()
}

async fn register(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    session: Session,
    ApiJson(input): ApiJson<Register>,
) -> ApiResult {
    let user = service.register(input, ip).await?;
    log_in(&session, &user.id).await.map_err(session_error)?;
    created(json!({ "user": user }))
}

async fn login(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    session: Session,
    ApiJson(input): ApiJson<Credentials>,
) -> ApiResult {
    let user = service.authenticate(input, ip).await?;
    log_in(&session, &user.id).await.map_err(session_error)?;
    ok(json!({ "user": user }))
}

async fn logout(State(state): State<AppState>, session: Session) -> ApiResult {
    log_out(&session, &state.service.bus)
        .await
        .map_err(session_error)?;
    no_content()
}

/// Always 202, whether or not the address has an account; says whether
/// mail really goes out (else the link is in the server's log).
async fn forgot_password(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<ForgotPassword>,
) -> ApiResult {
    service.request_reset(&input.email, ip).await?;
    mail_accepted(&service)
}

/// Sets the new password and logs the browser in.
async fn reset_password(
    State(service): State<Service>,
    ClientIp(ip): ClientIp,
    session: Session,
    ApiJson(input): ApiJson<ResetPassword>,
) -> ApiResult {
    let user = service
        .reset_password(&input.token, input.password, ip)
        .await?;
    log_in(&session, &user.id).await.map_err(session_error)?;
    ok(json!({ "user": user }))
}

async fn change_password(
    State(service): State<Service>,
    user: CurrentUser,
    session: Session,
    ApiJson(input): ApiJson<ChangePassword>,
) -> ApiResult {
    // A browser keeps the session it changed the password in.
    let keep = (user.method == AuthMethod::Session)
        .then(|| session_key(&session))
        .flatten();
    service
        .change_password(
            &user.id,
            input.current_password,
            input.new_password,
            keep.as_deref(),
        )
        .await?;
    no_content()
}

async fn logout_everywhere(
    State(service): State<Service>,
    user: CurrentUser,
    session: Session,
) -> ApiResult {
    service.log_out_everywhere(&user.id).await?;
    session.flush().await.map_err(session_error)?;
    no_content()
}

/// With credentials in the body, for scripts; with an empty body, for the
/// logged-in browser (its socket authenticates with the token).
async fn token(
    State(state): State<AppState>,
    mut parts: axum::http::request::Parts,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult {
    let body = body?;
    let user = if body.iter().all(u8::is_ascii_whitespace) {
        crate::auth::extract::caller(&mut parts, &state)
            .await?
            .ok_or_else(|| AppError::unauthorized("log in first, or send email and password"))?
            .id
    } else {
        let credentials: Credentials = serde_json::from_slice(&body)
            .map_err(|err| AppError::bad_request(format!("the body is not valid: {err}")))?;
        let ip = state.runtime.proxies.client_of(&parts);
        state.service.authenticate(credentials, ip).await?.id
    };
    ok(state.service.token_for(&user))
}

async fn me(State(service): State<Service>, user: CurrentUser) -> ApiResult {
    ok(service.me(&user.id).await?)
}

async fn rename_me(
    State(service): State<Service>,
    actor: Actor,
    ApiJson(input): ApiJson<RenameMe>,
) -> ApiResult {
    let user = service.rename_me(&actor, input.name).await?;
    ok(json!({ "user": user }))
}

async fn rename_family(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<FamilyId>,
    ApiJson(input): ApiJson<NewFamily>,
) -> ApiResult {
    let family = service.rename_family(&actor, &id, input).await?;
    ok(json!({ "family": family }))
}

async fn create_family(
    State(service): State<Service>,
    actor: Actor,
    ApiJson(input): ApiJson<NewFamily>,
) -> ApiResult {
    let family = service.create_family(&actor, input).await?;
    created(json!({ "family": family }))
}

async fn family(
    State(service): State<Service>,
    user: CurrentUser,
    ApiPath(id): ApiPath<FamilyId>,
) -> ApiResult {
    ok(service.family_detail(&user.id, &id).await?)
}

async fn set_reminders(
    State(service): State<Service>,
    actor: Actor,
    ApiJson(input): ApiJson<Reminders>,
) -> ApiResult {
    service.set_reminders(&actor, input.enabled).await?;
    ok(json!({ "reminders": input.enabled }))
}

async fn preview_link(
    State(service): State<Service>,
    actor: Actor,
    ApiJson(input): ApiJson<LinkToRead>,
) -> ApiResult {
    let preview = service.preview_link(&actor, &input.url).await?;
    ok(json!({ "preview": preview }))
}

async fn set_mails(
    State(service): State<Service>,
    actor: Actor,
    ApiJson(input): ApiJson<MailChoicesPatch>,
) -> ApiResult {
    ok(service.set_mail_choices(&actor, input).await?)
}

async fn change_email(
    State(service): State<Service>,
    actor: Actor,
    ApiJson(input): ApiJson<ChangeEmail>,
) -> ApiResult {
    service.request_email_change(&actor, input).await?;
    mail_accepted(&service)
}

async fn send_confirmation(State(service): State<Service>, actor: Actor) -> ApiResult {
    service.request_verification(&actor).await?;
    mail_accepted(&service)
}

async fn confirm_email(
    State(service): State<Service>,
    ApiJson(input): ApiJson<ConfirmEmail>,
) -> ApiResult {
    let user = service.confirm_email(&input.token).await?;
    ok(json!({ "user": user }))
}

/// 202: a mail is on its way (or, with no SMTP set, in the log).
fn mail_accepted(service: &Service) -> ApiResult {
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "mail_configured": service.mailer.configured() })),
    )
        .into_response())
}

async fn delete_account(
    State(service): State<Service>,
    actor: Actor,
    session: Session,
    ApiJson(input): ApiJson<DeleteAccount>,
) -> Result<StatusCode, AppError> {
    service.delete_account(&actor, input).await?;
    // The browser's own session went with the others; forget its cookie.
    session.flush().await.map_err(session_error)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_invite(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<FamilyId>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult {
    let input = optional_json(body?)?;
    let invite = service.create_invite(&actor, &id, input).await?;
    created(serde_json::to_value(invite).unwrap_or_default())
}

async fn open_invites(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<FamilyId>,
) -> ApiResult {
    let invites = service.open_invites(&actor, &id).await?;
    ok(json!({ "invites": invites }))
}

async fn revoke_invite(
    State(service): State<Service>,
    actor: Actor,
    ApiPath((id, code)): ApiPath<(FamilyId, String)>,
) -> Result<StatusCode, AppError> {
    service.revoke_invite(&actor, &id, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_member_role(
    State(service): State<Service>,
    actor: Actor,
    ApiPath((id, user)): ApiPath<(FamilyId, UserId)>,
    ApiJson(input): ApiJson<MemberRole>,
) -> ApiResult {
    let member = service.set_member_role(&actor, &id, &user, input).await?;
    ok(json!({ "member": member }))
}

async fn remove_member(
    State(service): State<Service>,
    actor: Actor,
    ApiPath((id, user)): ApiPath<(FamilyId, UserId)>,
) -> Result<StatusCode, AppError> {
    service.remove_member(&actor, &id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn accept_invite(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(code): ApiPath<String>,
) -> ApiResult {
    let family = service.accept_invite(&actor, &code).await?;
    ok(json!({ "family": family }))
}

async fn create_list(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<FamilyId>,
    ApiJson(input): ApiJson<NewList>,
) -> ApiResult {
    let list = service.create_list(&actor, &id, input).await?;
    created(json!({ "list": list }))
}

async fn list(
    State(service): State<Service>,
    user: CurrentUser,
    ApiPath(id): ApiPath<ListId>,
) -> ApiResult {
    ok(service.list_detail(&user.id, &id).await?)
}

async fn rename_list(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ListId>,
    ApiJson(input): ApiJson<ListPatch>,
) -> ApiResult {
    let list = service.update_list(&actor, &id, input).await?;
    ok(json!({ "list": list }))
}

async fn delete_list(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ListId>,
) -> ApiResult {
    service.delete_list(&actor, &id).await?;
    no_content()
}

async fn add_item(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ListId>,
    ApiJson(input): ApiJson<NewItem>,
) -> ApiResult {
    let item = service.add_item(&actor, &id, input).await?;
    created(json!({ "item": item }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Since {
    since: i64,
}

async fn changes(
    State(service): State<Service>,
    user: CurrentUser,
    ApiPath(id): ApiPath<ListId>,
    ApiQuery(query): ApiQuery<Since>,
) -> ApiResult {
    ok(service.list_changes(&user.id, &id, query.since).await?)
}

async fn update_item(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
    ApiJson(input): ApiJson<ItemPatch>,
) -> ApiResult {
    let item = service.update_item(&actor, &id, input).await?;
    ok(json!({ "item": item }))
}

async fn delete_item(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
) -> ApiResult {
    service.delete_item(&actor, &id).await?;
    no_content()
}

async fn claim_item(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
    ApiJson(input): ApiJson<ClaimRequest>,
) -> ApiResult {
    let item = service.claim_item(&actor, &id, input).await?;
    ok(json!({ "item": item }))
}

async fn release_item(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
) -> ApiResult {
    let item = service.release_item(&actor, &id).await?;
    ok(json!({ "item": item }))
}

/// The body is optional: none (or `{}`) takes the default target.
async fn mark_group_gift(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult {
    let input: GroupRequest = optional_json(body?)?;
    let item = service.mark_group_gift(&actor, &id, input).await?;
    ok(json!({ "item": item }))
}

async fn unmark_group_gift(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
) -> ApiResult {
    let item = service.unmark_group_gift(&actor, &id).await?;
    ok(json!({ "item": item }))
}

async fn organise_group_gift(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
) -> ApiResult {
    let item = service.organise_group_gift(&actor, &id).await?;
    ok(json!({ "item": item }))
}

async fn pledge(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
    ApiJson(input): ApiJson<PledgeRequest>,
) -> ApiResult {
    let item = service.pledge(&actor, &id, input).await?;
    ok(json!({ "item": item }))
}

async fn withdraw_pledge(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
) -> ApiResult {
    let item = service.withdraw_pledge(&actor, &id).await?;
    ok(json!({ "item": item }))
}

/// A JSON body that may be left out (empty, or `null`): then the default.
fn optional_json<T: Default + serde::de::DeserializeOwned>(body: Bytes) -> Result<T, AppError> {
    let invalid =
        |err: serde_json::Error| AppError::bad_request(format!("the body is not valid: {err}"));
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    match serde_json::from_slice::<serde_json::Value>(&body).map_err(invalid)? {
        serde_json::Value::Null => Ok(T::default()),
        value => serde_json::from_value(value).map_err(invalid),
    }
}
