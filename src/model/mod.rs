//! Types both targets share: the entities as the API returns them, the
//! inputs it accepts, their validation, and the wire error. The server and
//! the pages use these same types, so the two ends cannot drift apart.

pub mod error;
pub mod input;
pub mod preview;
pub mod share;
pub mod validate;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident = $prefix:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }
    )*};
}

id_type! {
    /// A user account.
    UserId = "u_";
    /// A family: the group that shares lists.
    FamilyId = "f_";
    /// A gift list.
    ListId = "l_";
    /// An item on a list.
    ItemId = "i_";
    /// A gift's picture, stored by the app (`/pictures/{id}/thumb`).
    PictureId = "p_";
}

/// A user as others see them: never the password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
}

/// A family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    pub id: FamilyId,
    pub name: String,
}

/// What a member may do beyond the basics: admins rename and remove any list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

/// A member of a family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
}

/// A gift list. Exactly one of the recipient fields is set: a member of the
/// family, or the name of someone without an account (a child, say).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftList {
    pub id: ListId,
    pub family_id: FamilyId,
    pub title: String,
    pub recipient_user_id: Option<UserId>,
    pub recipient_name: Option<String>,
    pub version: i64,
    /// The day of the event the list is for (a birthday, a holiday),
    /// `YYYY-MM-DD`; the list is "past" from the day after (UTC).
    #[serde(default)]
    pub event_date: Option<String>,
    /// Archived: read-only and out of the way on the family page, until
    /// restored.
    #[serde(default)]
    pub archived: bool,
    /// From the day after the event, the recipient sees what was given
    /// and by whom (chosen by a member who is not the recipient).
    #[serde(default)]
    pub reveal_after_event: bool,
    /// That day has come: the recipient's thank-you view is open.
    #[serde(default)]
    pub revealed: bool,
}

impl GiftList {
    /// Whether the event is over on `today` (`YYYY-MM-DD`, UTC).
    pub fn is_past(&self, today: &str) -> bool {
        self.event_date.as_deref().is_some_and(|day| day < today)
    }
}

/// How far a claim has gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimStatus {
    Reserved,
    Purchased,
}

impl ClaimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Reserved => "reserved",
            ClaimStatus::Purchased => "purchased",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "reserved" => Some(ClaimStatus::Reserved),
            "purchased" => Some(ClaimStatus::Purchased),
            _ => None,
        }
    }
}

/// Who is buying an item: version 1's `claim`, the first giver's part.
/// Never shown to the list's recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub status: ClaimStatus,
    pub by: UserId,
}

/// One giver's part of an item: how many of its units, reserved or
/// bought. Never shown to the list's recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimPart {
    pub status: ClaimStatus,
    pub by: UserId,
    /// Events recorded before quantities existed have no `units`: one.
    #[serde(default = "one_unit")]
    pub units: i64,
    /// The name a guest gave, when the part is a guest's (someone without
    /// an account, through a share link): members read "Grandma (guest)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<String>,
}

/// One member's chip-in to a group gift. Never shown to the recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pledge {
    pub by: UserId,
    pub amount_cents: i64,
    /// The item's currency when the pledge was made.
    pub currency: String,
    pub paid: bool,
    /// The name a guest gave, when the pledge is a guest's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<String>,
}

/// A gift members chip in for, as members see it: the target, who
/// organises, every pledge (oldest first), and the sums. Never shown to the
/// recipient: for them an item's `group` is always `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupGift {
    pub target_cents: i64,
    /// Whoever took the role, else the first pledger; `None` before anyone
    /// pledges.
    pub organiser: Option<UserId>,
    /// Pledged in the item's currency, paid or not.
    pub pledged_cents: i64,
    /// The paid part of `pledged_cents`.
    pub paid_cents: i64,
    /// Whether `pledged_cents` reaches the target.
    pub funded: bool,
    pub pledges: Vec<Pledge>,
}

impl GroupGift {
    /// The group gift with its sums, counting the pledges in `currency`
    /// (the item's; a pledge made before the recipient changed it is
    /// listed but not counted).
    pub fn new(
        target_cents: i64,
        organiser: Option<UserId>,
        pledges: Vec<Pledge>,
        currency: &str,
    ) -> Self {
        let counted = || pledges.iter().filter(|p| p.currency == currency);
        let pledged_cents = counted().map(|p| p.amount_cents).sum();
        let paid_cents = counted().filter(|p| p.paid).map(|p| p.amount_cents).sum();
        let organiser = organiser.or_else(|| pledges.first().map(|p| p.by.clone()));
        GroupGift {
            target_cents,
            organiser,
            pledged_cents,
            paid_cents,
            funded: pledged_cents >= target_cents,
            pledges,
        }
    }

    /// `user`'s pledge, if they made one.
    pub fn pledge_of(&self, user: &UserId) -> Option<&Pledge> {
        self.pledges.iter().find(|p| &p.by == user)
    }
}

fn one_unit() -> i64 {
    1
}

fn one_wanted() -> Option<i64> {
    Some(1)
}

/// An item on a list, as one reader sees it: `claim`, `claims` and `group`
/// are always empty for the list's recipient (see `service::surprise`).
///
/// `claims` holds every giver's part, oldest first; `claim` is the first
/// of them, as version 1 clients read it (for an item of quantity 1, its
/// one holder). Build both with [`Item::with_claims`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: ItemId,
    pub list_id: ListId,
    pub title: String,
    pub url: Option<String>,
    pub price_cents: Option<i64>,
    pub currency: String,
    pub notes: Option<String>,
    pub priority: i64,
    pub version: i64,
    pub created_by: UserId,
    /// How many are wanted: 1 to 999, or `None` for no limit (gift cards).
    /// Items recorded before quantities existed want one.
    #[serde(default = "one_wanted")]
    pub quantity: Option<i64>,
    pub claim: Option<Claim>,
    #[serde(default)]
    pub claims: Vec<ClaimPart>,
    /// Set when members chip in for it together.
    #[serde(default)]
    pub group: Option<GroupGift>,
    /// Its picture, served by the app at `/pictures/{id}/thumb` (and
    /// `/medium`); `null` for none.
    #[serde(default)]
    pub picture: Option<PictureId>,
}

#[cfg(test)]
impl Item {
    /// A gift for unit tests: `title` on list `l_1`, added by `u_1`, wanted
    /// once, priority 3, unclaimed; change what a test needs with `..`.
    pub(crate) fn sample(id: &str, title: &str) -> Item {
        Item {
            id: ItemId(id.into()),
            list_id: ListId("l_1".into()),
            title: title.into(),
            url: None,
            price_cents: None,
            currency: "EUR".into(),
            notes: None,
            priority: 3,
            version: 1,
            created_by: UserId("u_1".into()),
            quantity: Some(1),
            claim: None,
            claims: Vec::new(),
            group: None,
            picture: None,
        }
    }
}

impl Item {
    /// This item held by `claims` (oldest first), `claim` kept in step.
    pub fn with_claims(mut self, claims: Vec<ClaimPart>) -> Self {
        self.claim = claims.first().map(|part| Claim {
            status: part.status,
            by: part.by.clone(),
        });
        self.claims = claims;
        self
    }

    /// How many units givers hold.
    pub fn units_taken(&self) -> i64 {
        self.claims.iter().map(|claim| claim.units).sum()
    }

    /// How many units are still free: `None` for no limit.
    pub fn units_left(&self) -> Option<i64> {
        self.quantity
            .map(|wanted| (wanted - self.units_taken()).max(0))
    }

    /// Whether a giver can still claim some of it.
    pub fn is_available(&self) -> bool {
        self.units_left() != Some(0)
    }

    /// `user`'s part of it, if they hold one.
    pub fn claim_of(&self, user: &UserId) -> Option<&ClaimPart> {
        self.claims.iter().find(|claim| &claim.by == user)
    }
}

/// The family page's whole state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyDetail {
    pub family: Family,
    pub members: Vec<Member>,
    pub lists: Vec<GiftList>,
}

/// How many gifts a list has and, for a viewer who is not its recipient,
/// how many nobody has claimed yet: what a list's card on the family page
/// and the dashboard says. Never sent to the recipient with `available`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCounts {
    pub list_id: ListId,
    pub gifts: i64,
    /// `None` for the list's recipient: claims are a surprise.
    pub available: Option<i64>,
}

/// A list with its items, as the caller may see them, and the last `seq` of
/// the caller's stream of the list's topic (to resume live updates from).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListDetail {
    pub list: GiftList,
    pub items: Vec<Item>,
    pub seq: i64,
}

/// The caller and their families.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: User,
    pub families: Vec<Family>,
    /// Whether the account's address is confirmed (a link mailed to it).
    #[serde(default)]
    pub email_confirmed: bool,
    /// Whether reminder mails come a week before events.
    #[serde(default)]
    pub reminders: bool,
    /// Whether notices about gifts one claimed, missed while away, come
    /// by mail (at most one digest an hour).
    #[serde(default)]
    pub notice_mails: bool,
}

/// Which mails a person asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailChoices {
    /// Reminders a week before an event with free gifts.
    pub reminders: bool,
    /// A digest of claimers' notices missed while away.
    pub notices: bool,
}

/// An invite code and when it stops working.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub code: String,
    pub expires_at: String,
    /// Where it was mailed, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// An open invite as the family's members see it, to pass on again or
/// revoke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenInvite {
    pub code: String,
    /// The whole link to pass on.
    pub url: String,
    pub expires_at: String,
    pub created_at: String,
    pub created_by: UserId,
    pub created_by_name: String,
    /// Where it was mailed, if it was.
    pub email: Option<String>,
    /// Whether the caller may revoke it: whoever made it, and admins.
    pub may_revoke: bool,
}

/// A signed token for scripts and the socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub token: String,
    pub expires_at: String,
}
