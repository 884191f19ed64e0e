//! Tokens of share links (`/s/{token}`) and of guests' "manage my claim"
//! links (`/g/{token}`).
//!
//! A token is an HMAC of the link's (or guest's) random id under a key
//! derived from the server's secret: 160 bits nobody can guess without the
//! secret. Only the token's SHA-256 is stored, so a copy of the database
//! opens nothing, and yet a member can copy a link again later: the server
//! derives its token anew from the id. Changing the secret ends every link
//! (the README says so).
//!
//! Looking a token up is by its hash (an index lookup: the time it takes
//! tells nothing about the token), and the row found is compared again in
//! constant time.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::secret::JwtSecret;

/// Bytes of HMAC output in a token: 160 bits, 40 hex digits.
const TOKEN_BYTES: usize = 20;

/// What a token opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// A share link: `/s/{token}`.
    Share,
    /// A guest's own link: `/g/{token}`.
    Guest,
}

impl LinkKind {
    fn label(self) -> &'static [u8] {
        match self {
            LinkKind::Share => b"giftlist share link\0",
            LinkKind::Guest => b"giftlist guest\0",
        }
    }
}

/// Derives link tokens and says where links point. Prints no key.
pub struct LinkKeys {
    key: Vec<u8>,
    /// The site's public origin (`https://gifts.example.org`), for whole
    /// links in answers and mails.
    origin: String,
}

impl std::fmt::Debug for LinkKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkKeys")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl LinkKeys {
    /// Keys from the server's secret, for links on `origin`. The key is
    /// the secret's HMAC with a label of its own, so the token secret
    /// itself never signs anything but tokens.
    pub fn new(secret: &JwtSecret, origin: &str) -> LinkKeys {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.expose()).expect("HMAC takes keys of any length");
        mac.update(b"giftlist link keys v1");
        LinkKeys {
            key: mac.finalize().into_bytes().to_vec(),
            origin: origin.trim_end_matches('/').to_owned(),
        }
    }

    /// The token of the link or guest with `id`.
    pub fn token(&self, kind: LinkKind, id: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(kind.label());
        mac.update(id.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..TOKEN_BYTES])
    }

    /// The path a token opens: `/s/{token}` or `/g/{token}`.
    pub fn path(&self, kind: LinkKind, id: &str) -> String {
        let prefix = match kind {
            LinkKind::Share => "/s/",
            LinkKind::Guest => "/g/",
        };
        format!("{prefix}{}", self.token(kind, id))
    }

    /// `path` on the site's public origin.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }
}

/// What is stored of a token: its SHA-256, in hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a stored hash is the hash of `token`, in constant time.
pub fn hash_matches(stored: &str, token: &str) -> bool {
    stored.as_bytes().ct_eq(token_hash(token).as_bytes()).into()
}

/// Whether `token` has the form of a link token (40 lower-case hex
/// digits): anything else is not looked up at all.
pub fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_BYTES * 2
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The start of every guest cookie's name (the session cookie's prefix
/// rule applies: `__Host-` over https).
pub const GUEST_COOKIE_PREFIX: &str = "giftlist_guest_";

/// The cookie that keeps a browser the guest of share link `share`: one
/// per link, so a browser can be a guest of several lists.
pub fn guest_cookie_name(share: &str, secure: bool) -> String {
    let host = if secure { "__Host-" } else { "" };
    format!("{host}{GUEST_COOKIE_PREFIX}{share}")
}

/// The `Set-Cookie` value that makes a browser the guest holding `token`
/// on link `share`: HttpOnly, for the whole site (the API and the pages'
/// server functions read it), for a year.
pub fn guest_cookie(share: &str, token: &str, secure: bool) -> String {
    use tower_sessions::cookie::{time::Duration, Cookie, SameSite};
    Cookie::build((guest_cookie_name(share, secure), token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(Duration::days(365))
        .build()
        .to_string()
}

/// The header an API client that is no browser names its guest token in.
pub const GUEST_HEADER: &str = "x-giftlist-guest";

/// The guest token a request carries for link `share`: the header, else
/// the link's cookie.
pub fn guest_token_of(
    headers: &axum::http::HeaderMap,
    share: &str,
    secure: bool,
) -> Option<String> {
    if let Some(token) = headers.get(GUEST_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(token.trim().to_owned());
    }
    let name = guest_cookie_name(share, secure);
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> LinkKeys {
        let dir = tempfile::tempdir().unwrap();
        let secret = JwtSecret::load(Some(secret), dir.path()).unwrap();
        LinkKeys::new(&secret, "https://gifts.example.org/")
    }

    #[test]
    fn tokens_are_stable_per_id_and_differ_by_kind_id_and_secret() {
        let a = keys(&"a".repeat(40));
        let token = a.token(LinkKind::Share, "sh_1");
        assert!(well_formed(&token), "{token}");
        assert_eq!(token, a.token(LinkKind::Share, "sh_1"));
        assert_ne!(token, a.token(LinkKind::Guest, "sh_1"));
        assert_ne!(token, a.token(LinkKind::Share, "sh_2"));
        assert_ne!(token, keys(&"b".repeat(40)).token(LinkKind::Share, "sh_1"));
        assert_eq!(
            a.url(&a.path(LinkKind::Share, "sh_1")),
            format!("https://gifts.example.org/s/{token}")
        );
    }

    #[test]
    fn hashes_match_only_their_token() {
        let hash = token_hash("abc");
        assert_eq!(hash.len(), 64);
        assert!(hash_matches(&hash, "abc"));
        assert!(!hash_matches(&hash, "abd"));
        assert!(!well_formed("ABC"));
        assert!(!well_formed(&"g".repeat(40)));
        assert!(!well_formed(&"a".repeat(39)));
    }

    #[test]
    fn guest_tokens_come_from_the_header_or_the_links_own_cookie() {
        use axum::http::{HeaderMap, HeaderValue};
        let mut headers = HeaderMap::new();
        headers.insert(
            "cookie",
            HeaderValue::from_static("giftlist_guest_sh_2=other; giftlist_guest_sh_1=mine"),
        );
        assert_eq!(
            guest_token_of(&headers, "sh_1", false).as_deref(),
            Some("mine")
        );
        assert_eq!(guest_token_of(&headers, "sh_3", false), None);
        assert_eq!(guest_token_of(&headers, "sh_1", true), None);
        headers.insert(GUEST_HEADER, HeaderValue::from_static(" given "));
        assert_eq!(
            guest_token_of(&headers, "sh_1", false).as_deref(),
            Some("given")
        );
        let cookie = guest_cookie("sh_1", "t0k", true);
        for part in [
            "__Host-giftlist_guest_sh_1=t0k",
            "HttpOnly",
            "Secure",
            "Path=/",
            "SameSite=Lax",
        ] {
            assert!(cookie.contains(part), "{cookie}");
        }
    }
}
