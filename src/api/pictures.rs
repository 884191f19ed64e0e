//! Gifts' pictures over HTTP (docs/API.md, "Pictures"): uploading one
//! (`/api/v1`), putting it on an item or taking it off, the pages' plain
//! upload forms, and serving a picture to whoever may read its list. Thin
//! over `service::pictures`.

use axum::{
    body::Body,
    extract::{DefaultBodyLimit, Multipart, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Router,
};
use serde::Deserialize;
use serde_json::json;

use super::{created, error::ApiPath, ok, ApiResult};
use crate::{
    auth::extract::{share_access, CurrentUser},
    import::picture::MAX_UPLOAD_BYTES,
    model::{
        error::{AppError, ErrorCode},
        ItemId, ListId, PictureId,
    },
    service::{Actor, Service},
    state::AppState,
    store::pictures::Size,
};

/// What an upload's request may carry besides the picture (a form's
/// other fields, multipart boundaries).
const UPLOAD_BODY_BYTES: usize = MAX_UPLOAD_BYTES + 64 * 1024;

/// Pictures never change under their address (a new picture gets a new
/// id), so browsers keep them for good; `private`: only for this viewer.
const CACHE_FOR_GOOD: &str = "private, max-age=31536000, immutable";

/// The `/api/v1` routes, merged into the API's router.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/pictures",
            post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_BYTES)),
        )
        .route(
            "/items/{id}/picture",
            axum::routing::put(put_on_item)
                .delete(take_off_item)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_BYTES)),
        )
}

/// The routes outside `/api/v1`: serving pictures, and the pages' forms.
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/pictures/{id}/{size}", get(picture))
        .route("/s/{token}/pictures/{id}/{size}", get(shared_picture))
        .route(
            "/items/{id}/picture",
            post(form_upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_BYTES)),
        )
        .route("/items/{id}/picture/remove", post(form_remove))
}

/// A request body read whole, up to the upload limit (413 past it).
async fn picture_body(body: Body) -> Result<Vec<u8>, AppError> {
    axum::body::to_bytes(body, MAX_UPLOAD_BYTES)
        .await
        .map(|bytes| bytes.to_vec())
        .map_err(|_| too_large())
}

fn too_large() -> AppError {
    AppError::new(
        ErrorCode::TooLarge,
        "the picture is too large: at most 5 MB",
    )
}

async fn upload(State(service): State<Service>, actor: Actor, body: Body) -> ApiResult {
    let bytes = picture_body(body).await?;
    let id = service.upload_picture(&actor, bytes).await?;
    created(json!({ "picture": id }))
}

async fn put_on_item(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
    body: Body,
) -> ApiResult {
    let bytes = picture_body(body).await?;
    let item = service.set_item_picture(&actor, &id, Some(bytes)).await?;
    ok(json!({ "item": item }))
}

async fn take_off_item(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
) -> ApiResult {
    let item = service.set_item_picture(&actor, &id, None).await?;
    ok(json!({ "item": item }))
}

fn size_of(name: &str) -> Result<Size, AppError> {
    Size::parse(name).ok_or_else(|| AppError::not_found("picture"))
}

async fn picture(
    State(service): State<Service>,
    user: CurrentUser,
    headers: HeaderMap,
    ApiPath((id, size)): ApiPath<(PictureId, String)>,
) -> Result<Response, AppError> {
    let size = size_of(&size)?;
    let bytes = service.picture(&user.id, &id, size).await?;
    Ok(jpeg(&headers, &id, size, bytes))
}

async fn shared_picture(
    State(state): State<AppState>,
    mut parts: Parts,
    ApiPath((token, id, size)): ApiPath<(String, PictureId, String)>,
) -> Result<Response, AppError> {
    let size = size_of(&size)?;
    let access = share_access(&mut parts, &state, &token).await?;
    let bytes = state
        .service
        .picture_on_list(&access.list.id, &id, size)
        .await?;
    Ok(jpeg(&parts.headers, &id, size, bytes))
}

/// The picture as an answer a browser may keep, or 304 when it has it.
fn jpeg(request: &HeaderMap, id: &PictureId, size: Size, bytes: Vec<u8>) -> Response {
    let tag = format!("\"{id}-{}\"", size.name());
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|t| t.trim() == tag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            bytes,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_FOR_GOOD),
    );
    if let Ok(tag) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, tag);
    }
    response
}

/// Where a page's picture form sends the browser back to: the list, at
/// the gift, saying what went wrong if something did.
fn back_to(list: &ListId, item: &ItemId, problem: Option<&AppError>) -> Redirect {
    let list = url::form_urlencoded::byte_serialize(list.as_str().as_bytes()).collect::<String>();
    let item_part =
        url::form_urlencoded::byte_serialize(item.as_str().as_bytes()).collect::<String>();
    let query = match problem {
        None => String::new(),
        Some(err) => {
            let code = match err.code {
                ErrorCode::BadRequest => "not_a_picture",
                ErrorCode::TooLarge => "too_large",
                _ => "failed",
            };
            format!("?picture_item={item_part}&picture_error={code}")
        }
    };
    // The list page's row has the item's id.
    Redirect::to(&format!("/lists/{list}{query}#{item_part}"))
}

/// The page's upload form: `list_id`, then the file `picture`.
async fn form_upload(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
    mut form: Multipart,
) -> Result<Response, AppError> {
    let mut list = None;
    let mut bytes = None;
    let mut failed = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => {
                failed = Some(if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    AppError::bad_request("the form could not be read")
                });
                break;
            }
        };
        match field.name() {
            Some("list_id") => list = field.text().await.ok().map(ListId),
            Some("picture") => match field.bytes().await {
                Ok(read) if read.len() > MAX_UPLOAD_BYTES => failed = Some(too_large()),
                Ok(read) => bytes = Some(read.to_vec()),
                Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    failed = Some(too_large())
                }
                Err(_) => failed = Some(AppError::bad_request("the form could not be read")),
            },
            _ => {}
        }
    }
    let outcome = match (failed, bytes) {
        (Some(err), _) => Err(err),
        (None, Some(bytes)) => service
            .set_item_picture(&actor, &id, Some(bytes))
            .await
            .map(|item| item.list_id),
        (None, None) => Err(AppError::bad_request("choose a picture to upload")),
    };
    form_answer(outcome, list, &id)
}

#[derive(Deserialize)]
struct ListField {
    list_id: ListId,
}

/// The page's "Remove picture" form.
async fn form_remove(
    State(service): State<Service>,
    actor: Actor,
    ApiPath(id): ApiPath<ItemId>,
    Form(form): Form<ListField>,
) -> Result<Response, AppError> {
    let outcome = service
        .set_item_picture(&actor, &id, None)
        .await
        .map(|item| item.list_id);
    form_answer(outcome, Some(form.list_id), &id)
}

/// Back to the list (the one the item is on, else the one the form
/// named); a refusal with no list to go back to is answered as itself.
fn form_answer(
    outcome: Result<ListId, AppError>,
    named: Option<ListId>,
    item: &ItemId,
) -> Result<Response, AppError> {
    match outcome {
        Ok(list) => Ok(back_to(&list, item, None).into_response()),
        // The page says what went wrong, at the gift.
        Err(err) => match named {
            Some(list) => Ok(back_to(&list, item, Some(&err)).into_response()),
            None => Err(err),
        },
    }
}
