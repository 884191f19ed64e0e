//! Cross-site request protection for cookie-authenticated writes.
//!
//! Browsers attach the session cookie to requests that other sites make
//! them send. Every POST, PUT, PATCH and DELETE that could ride on the
//! cookie (it carries one, or comes from a browser, which says so with
//! `Origin`) must come from an allowed origin: an exact match of scheme,
//! host and port, or `Sec-Fetch-Site: same-origin`. Only a JSON API request
//! with a `Bearer` token carries no ambient credential and passes: any
//! other `Authorization` header proves nothing. This covers the pages'
//! server functions too (they take the cookie only, so they are always
//! checked): Leptos gives them no such check of its own.

use axum::{
    extract::{Request, State},
    http::{
        header::{AUTHORIZATION, COOKIE, ORIGIN},
        Method,
    },
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{model::error::AppError, state::AppState};

/// Whether the request's `Origin` or `Sec-Fetch-Site` shows it came from
/// one of `allowed` origins.
pub fn is_same_origin(headers: &axum::http::HeaderMap, allowed: &[String]) -> bool {
    let origin_ok = headers
        .get(ORIGIN)
        .is_some_and(|origin| origin_allowed(origin, allowed));
    let fetch_site_ok = headers
        .get("sec-fetch-site")
        .is_some_and(|value| value.as_bytes() == b"same-origin");
    origin_ok || fetch_site_ok
}

/// Whether an `Origin` header names one of `allowed` exactly.
pub fn origin_allowed(origin: &axum::http::HeaderValue, allowed: &[String]) -> bool {
    origin
        .to_str()
        .is_ok_and(|origin| allowed.iter().any(|a| a == origin))
}

/// Whether the request carries a cookie named `name`.
pub fn has_session_cookie(headers: &axum::http::HeaderMap, name: &str) -> bool {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .any(|pair| pair.trim_start().split('=').next() == Some(name))
}

/// Whether the request carries a guest's cookie (`auth::links`): a guest's
/// claims ride on it as members' ride on the session.
fn has_guest_cookie(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .any(|pair| {
            let name = pair.trim_start();
            name.starts_with(super::links::GUEST_COOKIE_PREFIX)
                || name.starts_with(&format!("__Host-{}", super::links::GUEST_COOKIE_PREFIX))
        })
}

/// Whether the request is a JSON API call authenticated by a bearer token,
/// the one kind that cannot ride on a browser's ambient credentials.
fn is_token_api_call(request: &Request) -> bool {
    request.uri().path().starts_with("/api/v1/")
        && request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("Bearer "))
}

/// Middleware: refuses cross-site writes with 403.
pub async fn refuse_cross_site_writes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let headers = request.headers();
    let ambient = !is_token_api_call(&request)
        && (has_session_cookie(headers, state.runtime.cookie_name)
            || has_guest_cookie(headers)
            || headers.contains_key(ORIGIN));
    if unsafe_method && ambient && !is_same_origin(headers, &state.runtime.allowed_origins) {
        tracing::info!(method = %request.method(), "refused a cross-site write");
        return AppError::forbidden("cross-site request refused: it must come from this site")
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn origin_must_match_exactly() {
        let allowed = vec!["http://127.0.0.1:3000".to_string()];
        assert!(is_same_origin(
            &headers(&[("origin", "http://127.0.0.1:3000")]),
            &allowed
        ));
        for other in [
            "http://127.0.0.1:3001",
            "https://127.0.0.1:3000",
            "http://localhost:3000",
            "null",
        ] {
            let map = {
                let mut map = HeaderMap::new();
                map.insert(ORIGIN, HeaderValue::from_str(other).unwrap());
                map
            };
            assert!(!is_same_origin(&map, &allowed), "{other}");
        }
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            &allowed
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            &allowed
        ));
        assert!(!is_same_origin(&headers(&[]), &allowed));
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let name = "giftlist_session";
        assert!(has_session_cookie(
            &headers(&[("cookie", "a=1; giftlist_session=x")]),
            name
        ));
        assert!(!has_session_cookie(
            &headers(&[("cookie", "giftlist_session_old=x")]),
            name
        ));
        assert!(!has_session_cookie(&headers(&[]), name));
    }
}
