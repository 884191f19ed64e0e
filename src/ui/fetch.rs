//! How the pages call their server functions: Leptos's browser client,
//! plus a reading of failed answers that never shows a person a parser's
//! message. Every server function names [`PageClient`] as its client.
//!
//! Leptos decodes any error answer as the function's error type. A body
//! that is not the app's error (a reverse proxy's 502 page, a 500 from
//! something else) then fails to decode, and the decoder's message
//! ("missing field `code` at line 1 column 69") would reach the page.
//! Here the status is still known, so such an answer becomes
//! [`Failure::Status`] and the page says what failed and to try again.

use std::future::Future;

use futures_util::{Sink, Stream};
use leptos::server_fn::{
    client::{browser::BrowserClient, Client},
    request::browser::BrowserRequest,
    response::{browser::BrowserResponse, ClientRes},
    Bytes,
};
use serde::Deserialize;

use crate::model::error::{AppError, Failure};

/// The client of every server function of the pages.
pub struct PageClient;

impl Client<AppError> for PageClient {
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    async fn send(request: BrowserRequest) -> Result<BrowserResponse, AppError> {
        let response = <BrowserClient as Client<AppError>>::send(request).await?;
        let status = ClientRes::<AppError>::status(&response);
        if status < 400 {
            return Ok(response);
        }
        let body = ClientRes::<AppError>::try_into_bytes(response).await?;
        Err(read_error(status, &body))
    }

    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl Sink<Bytes> + Send + 'static,
            ),
            AppError,
        >,
    > + Send {
        <BrowserClient as Client<AppError>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<AppError>>::spawn(future)
    }
}

/// The error an error answer carries: the app's own (as server functions
/// send it, or in the JSON API's envelope, as the body limit sends it), or
/// else a [`Failure::Status`] naming the status.
pub fn read_error(status: u16, body: &[u8]) -> AppError {
    #[derive(Deserialize)]
    struct Envelope {
        error: AppError,
    }
    serde_json::from_slice::<AppError>(body)
        .or_else(|_| serde_json::from_slice::<Envelope>(body).map(|envelope| envelope.error))
        .unwrap_or_else(|_| AppError::failed(Failure::Status(status)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::error::ErrorCode;

    #[test]
    fn foreign_bodies_become_a_status_failure() {
        let html = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
        let err = read_error(502, html);
        assert_eq!(err.failure, Some(Failure::Status(502)));
        assert_eq!(err.message, "the server answered 502. Try again.");

        let other_json = br#"{"message":"boom","status":500}"#;
        assert_eq!(
            read_error(500, other_json).failure,
            Some(Failure::Status(500))
        );

        let own = br#"{"code":"conflict","message":"taken"}"#;
        let err = read_error(409, own);
        assert_eq!(
            (err.code, err.message.as_str()),
            (ErrorCode::Conflict, "taken")
        );
        assert_eq!(err.failure, None);

        let envelope = br#"{"error":{"code":"too_large","message":"too big"}}"#;
        assert_eq!(read_error(413, envelope).code, ErrorCode::TooLarge);
    }
}
