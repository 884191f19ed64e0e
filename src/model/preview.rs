//! What a shop's page said about a gift (see `import` on the server): the
//! suggestions the add and edit forms fill in.

use serde::{Deserialize, Serialize};

/// A read page's suggestions, or why it could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPreview {
    /// The link, as read.
    pub url: String,
    pub title: Option<String>,
    pub price_cents: Option<i64>,
    /// ISO 4217, when the page says.
    pub currency: Option<String>,
    /// The product's picture on the shop's site.
    pub image_url: Option<String>,
    pub site_name: Option<String>,
    /// That picture, copied and stored by the app for the caller: pass it
    /// as the new item's `picture` (browsers never load `image_url`).
    #[serde(default)]
    pub picture: Option<super::PictureId>,
    /// Set when the page could not be read; the rest is then empty.
    pub problem: Option<LinkProblem>,
    /// The problem in words.
    pub message: Option<String>,
}

/// Why a page could not be read. None of these is an error of the
/// person's: the form says so and lets them fill it in by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkProblem {
    /// The shop refused (403, 429, 503, a captcha).
    Blocked,
    /// The link leads to a private network address.
    Private,
    /// The page could not be reached (no such site, an error status,
    /// too many redirects).
    Unreachable,
    /// The page took too long.
    TooSlow,
    /// The link is not a web page (a file, an image).
    NotAPage,
}

impl LinkProblem {
    /// The problem as it is written on the wire (`blocked`, ...), which the
    /// pages also carry in their query.
    pub fn code(self) -> &'static str {
        match self {
            LinkProblem::Blocked => "blocked",
            LinkProblem::Private => "private",
            LinkProblem::Unreachable => "unreachable",
            LinkProblem::TooSlow => "too_slow",
            LinkProblem::NotAPage => "not_a_page",
        }
    }

    /// The problem from its code.
    pub fn from_code(code: &str) -> Option<LinkProblem> {
        [
            LinkProblem::Blocked,
            LinkProblem::Private,
            LinkProblem::Unreachable,
            LinkProblem::TooSlow,
            LinkProblem::NotAPage,
        ]
        .into_iter()
        .find(|p| p.code() == code)
    }

    /// The problem in words, for API clients.
    pub fn message(self) -> &'static str {
        match self {
            LinkProblem::Blocked => "this shop does not let us read its page; fill it in by hand",
            LinkProblem::Private => {
                "this link leads to a private network address, which Giftlist does not read"
            }
            LinkProblem::Unreachable => "this page could not be reached; fill it in by hand",
            LinkProblem::TooSlow => "this page took too long to answer; fill it in by hand",
            LinkProblem::NotAPage => "this link is not a web page; fill it in by hand",
        }
    }
}

impl LinkPreview {
    /// The answer for a page that could not be read.
    pub fn unreadable(url: &impl std::fmt::Display, problem: LinkProblem) -> LinkPreview {
        LinkPreview {
            url: url.to_string(),
            title: None,
            price_cents: None,
            currency: None,
            image_url: None,
            site_name: None,
            picture: None,
            problem: Some(problem),
            message: Some(problem.message().to_owned()),
        }
    }
}
