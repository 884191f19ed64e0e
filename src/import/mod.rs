//! Reading a shop's page for a gift: a person pastes a link, and the
//! server fetches the page (safely: see [`guard`]) and reads its title,
//! price, currency and picture (see [`page`]), as suggestions the person
//! can change before saving.
//!
//! The fetch is a plain GET of `http`/`https` only: at most
//! [`MAX_REDIRECTS`] redirects, [`TIMEOUT`] in all, at most [`MAX_BODY`]
//! bytes read, an honest `User-Agent`, no cookies, no proxy. A shop that
//! refuses (403, 429, 503, a captcha) is reported as such, never as an
//! error. Fetches are limited per person, and answers are kept a while
//! per URL.

pub mod guard;
pub mod page;
pub mod price;

use std::{num::NonZeroU32, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use url::Url;

use crate::{
    error::StartError,
    model::{
        error::AppError,
        preview::{LinkPreview, LinkProblem},
        validate::URL_MAX_BYTES,
        UserId,
    },
};

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 3;
/// The whole fetch, connecting to the last byte.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes of a page read at most; the rest is never downloaded.
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// How long an answer is kept per URL.
const CACHE_FOR: Duration = Duration::from_secs(10 * 60);
const CACHE_ENTRIES: u64 = 1_000;

const USER_AGENT: &str = concat!(
    "Giftlist/",
    env!("CARGO_PKG_VERSION"),
    " (self-hosted gift lists; reads a product page a member pasted)"
);

/// Reads shop pages. One per process.
pub struct Importer {
    client: reqwest::Client,
    allow_private: bool,
    cache: mini_moka::sync::Cache<String, LinkPreview>,
    per_user: DefaultKeyedRateLimiter<UserId>,
}

impl std::fmt::Debug for Importer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Importer")
            .field("allow_private", &self.allow_private)
            .field("cached", &self.cache.entry_count())
            .finish()
    }
}

impl Importer {
    /// An importer that reads at most `per_minute` pages a minute for each
    /// person; `allow_private` lets it reach private addresses (for tests
    /// that serve their own pages: never on a real site).
    pub fn new(allow_private: bool, per_minute: u32) -> Result<Importer, StartError> {
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            // `previous` holds the first URL too.
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error("too many redirects");
            }
            match guard::check_url(attempt.url(), allow_private) {
                Ok(()) => attempt.follow(),
                Err(guard::UrlProblem::Private) => attempt.error(guard::PrivateAddress),
                Err(_) => attempt.error("a redirect to something that is not a web page"),
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .dns_resolver(guard::GuardedResolver::shared(allow_private))
            .redirect(redirects)
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|err| StartError::Config(format!("the page fetcher: {err}")))?;
        let per_minute = NonZeroU32::new(per_minute.max(1)).expect("at least 1");
        Ok(Importer {
            client,
            allow_private,
            cache: mini_moka::sync::Cache::builder()
                .max_capacity(CACHE_ENTRIES)
                .time_to_live(CACHE_FOR)
                .build(),
            per_user: RateLimiter::keyed(Quota::per_minute(per_minute)),
        })
    }

    /// What the page at `link` says, for `user`. 400 for a link that is not
    /// an `http(s)` URL; 429 past the person's limit; otherwise an answer,
    /// with a [`LinkProblem`] when the page could not be read.
    pub async fn preview(&self, user: &UserId, link: &str) -> Result<LinkPreview, AppError> {
        let url = parse_link(link)?;
        let key = url.to_string();
        if let Some(kept) = self.cache.get(&key) {
            return Ok(kept);
        }
        if self.per_user.check_key(user).is_err() {
            return Err(AppError::rate_limited(
                "you have read many shop pages just now; wait a minute and try again",
                60,
            ));
        }
        let preview = match guard::check_url(&url, self.allow_private) {
            Err(_) => LinkPreview::unreadable(&url, LinkProblem::Private),
            Ok(()) => match self.fetch(&url).await {
                Ok((at, html)) => {
                    let facts = page::read(&html, &at);
                    if facts.walled {
                        LinkPreview::unreadable(&url, LinkProblem::Blocked)
                    } else {
                        LinkPreview {
                            url: url.to_string(),
                            title: facts.title,
                            price_cents: facts.price_cents,
                            currency: facts.currency,
                            image_url: facts.image,
                            site_name: facts.site_name,
                            problem: None,
                            message: None,
                        }
                    }
                }
                Err(problem) => LinkPreview::unreadable(&url, problem),
            },
        };
        // What the shop said is kept a while; a failure to reach it is not.
        if matches!(preview.problem, None | Some(LinkProblem::Blocked)) {
            self.cache.insert(key, preview.clone());
        }
        Ok(preview)
    }

    /// Forgets expired answers and idle limits (the housekeeping timer).
    pub fn forget_idle(&self) {
        self.per_user.retain_recent();
        self.per_user.shrink_to_fit();
    }

    /// The page's final URL and its text (at most [`MAX_BODY`] bytes of it).
    async fn fetch(&self, url: &Url) -> Result<(Url, String), LinkProblem> {
        let work = async {
            let mut response = self
                .client
                .get(url.clone())
                .header(ACCEPT, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
                .send()
                .await
                .map_err(|err| problem_of(&err))?;
            let status = response.status().as_u16();
            if matches!(status, 401 | 403 | 429 | 503) {
                return Err(LinkProblem::Blocked);
            }
            if !response.status().is_success() {
                return Err(LinkProblem::Unreachable);
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("text/html")
                .to_ascii_lowercase();
            if !(content_type.starts_with("text/html")
                || content_type.starts_with("application/xhtml"))
            {
                return Err(LinkProblem::NotAPage);
            }
            let at = response.url().clone();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|err| problem_of(&err))? {
                let room = MAX_BODY - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= MAX_BODY {
                    break;
                }
            }
            Ok((at, decode(&body, &content_type)))
        };
        tokio::time::timeout(TIMEOUT, work)
            .await
            .unwrap_or(Err(LinkProblem::TooSlow))
    }
}

/// The link as a URL worth fetching, or 400.
pub fn parse_link(link: &str) -> Result<Url, AppError> {
    let link = link.trim();
    if link.len() > URL_MAX_BYTES {
        return Err(AppError::bad_request(format!(
            "url must be at most {URL_MAX_BYTES} bytes"
        )));
    }
    let url = Url::parse(link).map_err(|_| {
        AppError::bad_request("url must be a web address like https://shop.example/gift")
    })?;
    match guard::check_url(&url, true) {
        Ok(()) => Ok(url),
        Err(_) => Err(AppError::bad_request(
            "url must be an http:// or https:// web address",
        )),
    }
}

fn problem_of(err: &reqwest::Error) -> LinkProblem {
    if guard::is_private_refusal(err) {
        LinkProblem::Private
    } else if err.is_timeout() {
        LinkProblem::TooSlow
    } else {
        LinkProblem::Unreachable
    }
}

/// The page's text in the character set its header or its first bytes
/// name (UTF-8 when neither does).
fn decode(body: &[u8], content_type: &str) -> String {
    let declared = charset_in(content_type).or_else(|| {
        let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase();
        charset_in(&head)
    });
    let encoding = declared
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(body).0.into_owned()
}

/// The `charset=` value in `text`, if any.
fn charset_in(text: &str) -> Option<String> {
    let at = text.find("charset=")? + "charset=".len();
    let label: String = text[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!label.is_empty()).then_some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_that_are_not_web_addresses_are_refused() {
        assert!(parse_link("https://shop.example/a").is_ok());
        for bad in [
            "shop.example/a",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "ftp://shop.example/",
            "",
        ] {
            assert!(parse_link(bad).is_err(), "{bad}");
        }
        assert!(parse_link(&format!("https://a.example/{}", "x".repeat(2_000))).is_err());
    }

    #[test]
    fn pages_are_decoded_in_their_charset() {
        assert_eq!(decode("Küche".as_bytes(), "text/html"), "Küche");
        assert_eq!(
            decode(b"K\xfcche", "text/html; charset=ISO-8859-1"),
            "Küche"
        );
        assert_eq!(
            decode(b"<meta charset=\"windows-1252\">K\xfcche", "text/html"),
            "<meta charset=\"windows-1252\">Küche"
        );
    }
}
