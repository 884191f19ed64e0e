//! The API's error envelope, and extractors whose rejections use it: axum's
//! own answers to bad JSON (422, plain text) and oversized bodies (plain
//! 413) do not fit the contract.

use axum::{
    extract::{
        rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection},
        FromRequest, FromRequestParts,
    },
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

use crate::model::error::{AppError, ErrorCode};

/// `{"error":{"code","message"}}` with the code's status; a version
/// conflict adds `"current"` beside `error`.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = serde_json::json!({
            "error": { "code": self.code.as_str(), "message": self.message }
        });
        if let Some(current) = self.current {
            body["current"] = serde_json::to_value(current).unwrap_or_default();
        }
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// A body over the limit: 413 in the envelope, for the API and the pages'
/// server functions alike.
pub fn too_large() -> AppError {
    AppError::new(
        ErrorCode::TooLarge,
        "the request body is too large: at most 64 KiB",
    )
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(bytes) => bytes.into(),
            JsonRejection::MissingJsonContentType(_) => {
                AppError::bad_request("send the body as JSON, with Content-Type: application/json")
            }
            JsonRejection::JsonSyntaxError(_) => {
                AppError::bad_request("the body is not valid JSON")
            }
            // Missing, unknown or wrongly typed fields: serde's message names the field.
            other => AppError::bad_request(other.body_text()),
        }
    }
}

impl From<BytesRejection> for AppError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            AppError::bad_request("the request body could not be read")
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::bad_request(rejection.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::bad_request(rejection.body_text())
    }
}

/// A JSON body; its rejections are answered in the envelope.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// Query parameters; rejections in the envelope.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// Path parameters; rejections in the envelope.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);
