//! The error every edge answers with: the JSON API inside its envelope
//! (`{"error":{"code","message"}}`), server functions as themselves.

use serde::{Deserialize, Serialize};

use super::Item;

/// The error codes of PROTOCOL.md, each with its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    RateLimited,
    Internal,
    /// The server cannot serve this now (overloaded, or its database is
    /// away); try again after a while.
    Unavailable,
}

impl ErrorCode {
    /// Every code, for tests and docs.
    pub const ALL: [ErrorCode; 9] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
    ];

    /// The HTTP status that carries this code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    /// The code on the wire; `serde` writes the same (checked in a test).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
        }
    }
}

/// A refusal or failure, with a message meant for the person who caused it.
/// Internal causes never appear in `message`; the server logs them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// On a version conflict: the item as it is now, as the caller may see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Box<Item>>,
    /// Seconds to wait before trying again (429 and 503); sent as the
    /// `Retry-After` header, not in the body.
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// Set in the browser when the request failed before the app could
    /// answer: no connection, or an answer that is not the app's own (a
    /// proxy's error page). The page then says what failed and to retry.
    #[serde(skip)]
    pub failure: Option<Failure>,
}

/// How a request failed when no answer of the app's own came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The server could not be reached, or the connection dropped.
    Unreachable,
    /// Something answered with this HTTP status and a body that is not the
    /// app's error (a reverse proxy's 502 page, say).
    Status(u16),
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            current: None,
            retry_after: None,
            failure: None,
        }
    }

    /// Refused for going too fast; try again in `seconds`.
    pub fn rate_limited(message: impl Into<String>, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(ErrorCode::RateLimited, message)
        }
    }

    /// The server is too busy or its database is away; try again in `seconds`.
    pub fn unavailable(message: impl Into<String>, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(ErrorCode::Unavailable, message)
        }
    }

    /// A request that got no answer of the app's own (see [`Failure`]).
    pub fn failed(failure: Failure) -> Self {
        let message = match failure {
            Failure::Unreachable => {
                "the server could not be reached. Check your connection and try again.".to_string()
            }
            Failure::Status(status) => format!("the server answered {status}. Try again."),
        };
        Self {
            failure: Some(failure),
            ..Self::new(ErrorCode::Internal, message)
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// What unknown ids and other families' ids both get: no existence oracle.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// A stale write: the caller's version is not the current one.
    pub fn stale(current: Item) -> Self {
        Self {
            current: Some(Box::new(current)),
            ..Self::conflict("someone else changed this item first; here is the current version")
        }
    }

    /// A refusal that depends on the item's state (what is left of it, who
    /// holds it): 409 with the item as it is now, as the caller may see it.
    pub fn conflict_with(message: impl Into<String>, current: Item) -> Self {
        Self {
            current: Some(Box::new(current)),
            ..Self::conflict(message)
        }
    }

    /// Something broke on our side; the details are in the server log.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "something went wrong on the server; please try again",
        )
    }
}

mod server_fn_error {
    use leptos::server_fn::{
        codec::JsonEncoding,
        error::{FromServerFnError, ServerFnErrorErr},
    };

    use super::AppError;

    /// Lets server functions return `AppError` itself, so the pages get the
    /// same codes and messages as API clients.
    impl FromServerFnError for AppError {
        type Encoder = JsonEncoding;

        fn from_server_fn_error(err: ServerFnErrorErr) -> Self {
            match err {
                ServerFnErrorErr::Args(message) | ServerFnErrorErr::Deserialization(message) => {
                    AppError::bad_request(message)
                }
                ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                    AppError::failed(super::Failure::Unreachable)
                }
                _ => AppError::internal(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One spelling of each code: what `as_str` says is what `serde` writes
    /// and reads.
    #[test]
    fn codes_are_spelled_once() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str(), "{code:?}");
            assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), code);
        }
    }
}
