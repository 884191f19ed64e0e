//! Share links and guests: what members see of a list's links, and what a
//! guest (someone without an account who holds a link) sees of the list.
//!
//! A guest never sees who claimed or pledged: a shared item says how much
//! of it is taken, never by whom. A view link shows not even that.

use serde::{Deserialize, Serialize};

use super::{ClaimStatus, GiftList, Item, ItemId, ListId, UserId};

/// What a share link lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareKind {
    /// Shows what is still available, and lets guests claim and pledge.
    /// Never made, listed or revoked by the list's recipient.
    Givers,
    /// Shows the list without any availability: what the recipient sends
    /// to say "here is what I wish for".
    View,
}

impl ShareKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareKind::Givers => "givers",
            ShareKind::View => "view",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "givers" => Some(ShareKind::Givers),
            "view" => Some(ShareKind::View),
            _ => None,
        }
    }
}

/// A share link as members see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLink {
    /// The link's id (not its token): what revoking names.
    pub id: String,
    pub list_id: ListId,
    pub kind: ShareKind,
    /// The whole link, on the site's public URL.
    pub url: String,
    /// The link's path, `/s/{token}`.
    pub path: String,
    pub created_by: UserId,
    /// ISO 8601 in UTC.
    pub created_at: String,
    /// ISO 8601 in UTC; `None`: it does not expire.
    pub expires_at: Option<String>,
    /// Whether `expires_at` has passed: the link no longer opens.
    pub expired: bool,
}

/// A list as a guest sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedList {
    pub id: ListId,
    pub title: String,
    /// Who the list is for: the name of the member, or the name given.
    pub recipient: String,
}

/// A group gift as a guest of a givers' link sees it: how far it is
/// funded, never who pledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedGroup {
    pub target_cents: i64,
    pub pledged_cents: i64,
    pub funded: bool,
}

/// An item as a guest sees it: the fields the recipient chose, and on a
/// givers' link how many units are taken (never by whom).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedItem {
    pub id: ItemId,
    pub list_id: ListId,
    pub title: String,
    pub url: Option<String>,
    pub price_cents: Option<i64>,
    pub currency: String,
    pub notes: Option<String>,
    pub priority: i64,
    pub version: i64,
    /// 1 to 999, or `None` for no limit.
    pub quantity: Option<i64>,
    /// Units givers hold; `None` on a view link.
    pub taken: Option<i64>,
    /// Set for a group gift, on a givers' link only.
    pub group: Option<SharedGroup>,
    /// Its picture, served at `/s/{token}/pictures/{id}/thumb`.
    #[serde(default)]
    pub picture: Option<super::PictureId>,
}

impl SharedItem {
    /// `item` as a guest sees it, with what is taken when
    /// `with_availability` (a givers' link).
    pub fn of(item: &Item, with_availability: bool) -> SharedItem {
        SharedItem {
            id: item.id.clone(),
            list_id: item.list_id.clone(),
            title: item.title.clone(),
            url: item.url.clone(),
            price_cents: item.price_cents,
            currency: item.currency.clone(),
            notes: item.notes.clone(),
            priority: item.priority,
            version: item.version,
            quantity: item.quantity,
            taken: with_availability.then(|| item.units_taken()),
            group: item
                .group
                .as_ref()
                .filter(|_| with_availability)
                .map(|group| SharedGroup {
                    target_cents: group.target_cents,
                    pledged_cents: group.pledged_cents,
                    funded: group.funded,
                }),
            picture: item.picture.clone(),
        }
    }

    /// Units still free: `None` for no limit (or when unknown: a view link).
    pub fn units_left(&self) -> Option<i64> {
        let taken = self.taken?;
        self.quantity.map(|wanted| (wanted - taken).max(0))
    }

    /// Whether a giver can still claim some of it.
    pub fn is_available(&self) -> bool {
        self.units_left() != Some(0)
    }
}

/// A guest's part of an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestPart {
    pub item_id: ItemId,
    pub status: ClaimStatus,
    pub units: i64,
}

/// A guest's pledge to a group gift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestPledge {
    pub item_id: ItemId,
    pub amount_cents: i64,
    pub currency: String,
    pub paid: bool,
}

/// The guest themselves, as they see it: their name, their private
/// "manage my claim" link, and what they hold on the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestSelf {
    pub id: UserId,
    pub name: String,
    pub email: Option<String>,
    /// The whole "manage my claim" link: opening it, on any device, makes
    /// that browser this guest.
    pub manage_url: String,
    /// Its path, `/g/{token}`.
    pub manage_path: String,
    pub claims: Vec<GuestPart>,
    pub pledges: Vec<GuestPledge>,
}

impl GuestSelf {
    /// This guest's part of `item`, if any.
    pub fn part_of(&self, item: &ItemId) -> Option<&GuestPart> {
        self.claims.iter().find(|part| &part.item_id == item)
    }

    /// This guest's pledge to `item`, if any.
    pub fn pledge_to(&self, item: &ItemId) -> Option<&GuestPledge> {
        self.pledges.iter().find(|pledge| &pledge.item_id == item)
    }
}

/// Everything a share page shows, and the `seq` of the guest stream it was
/// read at (to follow the list live from).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharePage {
    /// What this viewer may do: a givers' link opened by the list's
    /// recipient is a view link for them.
    pub kind: ShareKind,
    pub list: SharedList,
    pub items: Vec<SharedItem>,
    pub seq: i64,
    /// ISO 8601 in UTC, when the link expires.
    pub expires_at: Option<String>,
    /// The guest this browser is, once it has claimed or pledged.
    pub guest: Option<GuestSelf>,
    /// Whether the viewer is logged in as a member of the list's family
    /// (the page then points to the list itself).
    pub member: bool,
}

impl SharedList {
    /// `list` as guests see it, for `recipient` (the name to show).
    pub fn of(list: &GiftList, recipient: String) -> SharedList {
        SharedList {
            id: list.id.clone(),
            title: list.title.clone(),
            recipient,
        }
    }
}

/// A new share link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    pub kind: ShareKind,
    /// A date (`2026-12-24`: the link works to the end of that day, UTC)
    /// or an RFC 3339 time; absent or `null`: no expiry.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// Who a guest is, given with their first claim or pledge (and ignored
/// afterwards, when the browser already is that guest).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestClaim {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// `reserved` when absent.
    #[serde(default)]
    pub status: Option<ClaimStatus>,
    /// 1 when absent.
    #[serde(default)]
    pub units: Option<i64>,
}

/// A guest's pledge to a group gift.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestPledgeRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub amount_cents: i64,
    #[serde(default)]
    pub paid: bool,
}
