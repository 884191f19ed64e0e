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
pub mod picture;
pub mod price;

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use url::Url;

pub use self::picture::{PictureProblem, Prepared};
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
/// What the kept answers may weigh in all, pictures included.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// What an answer without its picture counts for in [`CACHE_BYTES`].
const ANSWER_WEIGHT: usize = 4 * 1024;
/// Pictures decoded at once: it is CPU work, and the machine has other
/// requests to serve.
const PICTURES_AT_ONCE: usize = 2;
/// Pictures one person may upload a minute (each is decoded and encoded
/// twice: a loop of uploads would keep the CPU busy).
pub const UPLOADS_PER_MINUTE: u32 = 30;

const USER_AGENT: &str = concat!(
    "Giftlist/",
    env!("CARGO_PKG_VERSION"),
    " (self-hosted gift lists; reads a product page a member pasted)"
);

/// What a link read gave: the page's suggestions, and its picture when it
/// named one that was a picture.
#[derive(Clone, Debug)]
pub struct LinkRead {
    pub preview: LinkPreview,
    pub picture: Option<Arc<Prepared>>,
}

/// Reads shop pages and makes pictures. One per process.
pub struct Importer {
    client: reqwest::Client,
    allow_private: bool,
    cache: mini_moka::sync::Cache<String, LinkRead>,
    per_user: DefaultKeyedRateLimiter<UserId>,
    uploads: DefaultKeyedRateLimiter<UserId>,
    pictures_at_once: tokio::sync::Semaphore,
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
                .weigher(|_, read: &LinkRead| {
                    let weight = ANSWER_WEIGHT + read.picture.as_ref().map_or(0, |p| p.weight());
                    u32::try_from(weight).unwrap_or(u32::MAX)
                })
                .max_capacity(CACHE_BYTES)
                .time_to_live(CACHE_FOR)
                .build(),
            per_user: RateLimiter::keyed(Quota::per_minute(per_minute)),
            uploads: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(UPLOADS_PER_MINUTE).expect("above 0"),
            )),
            pictures_at_once: tokio::sync::Semaphore::new(PICTURES_AT_ONCE),
        })
    }

    /// Counts an upload of `user`'s: 429 past [`UPLOADS_PER_MINUTE`].
    pub fn count_upload(&self, user: &UserId) -> Result<(), AppError> {
        self.uploads.check_key(user).map_err(|_| {
            AppError::rate_limited(
                "you have uploaded many pictures just now; wait a minute and try again",
                60,
            )
        })
    }

    /// `bytes` as a picture in the sizes the pages show (see
    /// [`picture::prepare`]), decoded off the async threads, a few at once.
    pub async fn prepare_picture(&self, bytes: Vec<u8>) -> Result<Prepared, PictureProblem> {
        let _turn = self
            .pictures_at_once
            .acquire()
            .await
            .expect("the semaphore is never closed");
        tokio::task::spawn_blocking(move || picture::prepare(&bytes))
            .await
            .unwrap_or(Err(PictureProblem::NotAPicture))
    }

    /// What the page at `link` says, for `user`, with its picture. 400 for
    /// a link that is not an `http(s)` URL; 429 past the person's limit;
    /// otherwise an answer, with a [`LinkProblem`] when the page could not
    /// be read. A picture that cannot be fetched or is not one leaves the
    /// answer without a picture.
    pub async fn read(&self, user: &UserId, link: &str) -> Result<LinkRead, AppError> {
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
        let unreadable = |problem| LinkRead {
            preview: LinkPreview::unreadable(&url, problem),
            picture: None,
        };
        let read = match guard::check_url(&url, self.allow_private) {
            Err(_) => unreadable(LinkProblem::Private),
            Ok(()) => match self.fetch(&url, Wanted::Page).await {
                Ok((at, body, content_type)) => {
                    let facts = page::read(&decode(&body, &content_type), &at);
                    if facts.walled {
                        unreadable(LinkProblem::Blocked)
                    } else {
                        let picture = match &facts.image {
                            Some(image) => self.picture_at(image).await,
                            None => None,
                        };
                        LinkRead {
                            preview: LinkPreview {
                                url: url.to_string(),
                                title: facts.title,
                                price_cents: facts.price_cents,
                                currency: facts.currency,
                                image_url: facts.image,
                                site_name: facts.site_name,
                                picture: None,
                                problem: None,
                                message: None,
                            },
                            picture: picture.map(Arc::new),
                        }
                    }
                }
                Err(problem) => unreadable(problem),
            },
        };
        // What the shop said is kept a while; a failure to reach it is not.
        if matches!(read.preview.problem, None | Some(LinkProblem::Blocked)) {
            self.cache.insert(key, read.clone());
        }
        Ok(read)
    }

    /// The picture a page named, fetched the same guarded way as the page,
    /// if it is one.
    async fn picture_at(&self, address: &str) -> Option<Prepared> {
        let url = Url::parse(address).ok()?;
        guard::check_url(&url, self.allow_private).ok()?;
        let (_, bytes, _) = self.fetch(&url, Wanted::Picture).await.ok()?;
        self.prepare_picture(bytes).await.ok()
    }

    /// Forgets expired answers and idle limits (the housekeeping timer).
    pub fn forget_idle(&self) {
        self.per_user.retain_recent();
        self.per_user.shrink_to_fit();
        self.uploads.retain_recent();
        self.uploads.shrink_to_fit();
    }

    /// The final URL, the body (at most as many bytes as `wanted` allows)
    /// and its content type.
    async fn fetch(
        &self,
        url: &Url,
        wanted: Wanted,
    ) -> Result<(Url, Vec<u8>, String), LinkProblem> {
        let work = async {
            let mut response = self
                .client
                .get(url.clone())
                .header(ACCEPT, wanted.accept())
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
                .unwrap_or(wanted.assumed_type())
                .to_ascii_lowercase();
            if !wanted.takes(&content_type) {
                return Err(LinkProblem::NotAPage);
            }
            let at = response.url().clone();
            let limit = wanted.max_bytes();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|err| problem_of(&err))? {
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= limit {
                    // A picture cut short is no picture; a page cut short
                    // still has its head, where its facts are.
                    if matches!(wanted, Wanted::Picture) {
                        return Err(LinkProblem::NotAPage);
                    }
                    break;
                }
            }
            Ok((at, body, content_type))
        };
        tokio::time::timeout(TIMEOUT, work)
            .await
            .unwrap_or(Err(LinkProblem::TooSlow))
    }
}

/// What a fetch is for.
#[derive(Clone, Copy, Debug)]
enum Wanted {
    Page,
    Picture,
}

impl Wanted {
    fn accept(self) -> &'static str {
        match self {
            Wanted::Page => "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            Wanted::Picture => "image/webp,image/png,image/jpeg;q=0.9",
        }
    }

    fn assumed_type(self) -> &'static str {
        match self {
            Wanted::Page => "text/html",
            Wanted::Picture => "application/octet-stream",
        }
    }

    /// Whether an answer of this content type is worth reading. A
    /// picture's bytes are checked anyway (see [`picture::prepare`]): the
    /// header only saves downloading what says it is something else.
    fn takes(self, content_type: &str) -> bool {
        match self {
            Wanted::Page => {
                content_type.starts_with("text/html")
                    || content_type.starts_with("application/xhtml")
            }
            Wanted::Picture => {
                content_type.starts_with("image/")
                    || content_type.starts_with("application/octet-stream")
            }
        }
    }

    fn max_bytes(self) -> usize {
        match self {
            Wanted::Page => MAX_BODY,
            // One byte more than an upload may have, so "too large" shows.
            Wanted::Picture => picture::MAX_UPLOAD_BYTES + 1,
        }
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
