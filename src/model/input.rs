//! Request bodies. Each rejects unknown fields; `validate` checks values.

use serde::{Deserialize, Deserializer, Serialize};

use super::{ClaimStatus, UserId};

/// Tells a field that is absent (`None`) from one set to `null`
/// (`Some(None)`), for partial updates that may clear a value.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    pub email: String,
    pub name: String,
    pub password: String,
}

/// Log in, or ask for a token with a password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFamily {
    pub name: String,
}

/// A member's new role in their family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRole {
    pub role: super::Role,
}

/// A new invite code; with `email`, it is also mailed there.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    #[serde(default)]
    pub email: Option<String>,
}

/// A new list: for a member (`recipient_user_id`) or for someone without an
/// account (`recipient_name`), exactly one of the two.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewList {
    pub title: String,
    #[serde(default)]
    pub recipient_user_id: Option<UserId>,
    #[serde(default)]
    pub recipient_name: Option<String>,
}

/// A change to a list's settings: any of them, at least one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListPatch {
    #[serde(default)]
    pub title: Option<String>,
    /// `YYYY-MM-DD`, or `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    pub event_date: Option<Option<String>>,
    #[serde(default)]
    pub archived: Option<bool>,
    #[serde(default)]
    pub reveal_after_event: Option<bool>,
    /// A new person it is for: a member ...
    #[serde(default)]
    pub recipient_user_id: Option<super::UserId>,
    /// ... or a name (someone without an account); not both.
    #[serde(default)]
    pub recipient_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub price_cents: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    /// Absent: one; `null`: no limit.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<Option<i64>>,
    /// A picture the caller stored (`POST /pictures`, or read from a link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<super::PictureId>,
}

/// A partial edit of an item, valid only against `version`. An absent field
/// stays as it is; `null` clears `url`, `price_cents` and `notes`, and is
/// refused for the others.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    pub version: i64,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub price_cents: Option<Option<i64>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub currency: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub notes: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub priority: Option<Option<i64>>,
    /// `null`: no limit.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<Option<i64>>,
    /// A picture the caller stored, or `null` to remove the item's.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub picture: Option<Option<super::PictureId>>,
    /// Lowering `quantity` below what givers hold is refused (409) unless
    /// this is `true`: then the newest claims give up the excess.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub release_excess: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    pub status: ClaimStatus,
    /// How many units the giver holds after this request: 1 when absent,
    /// as version 1 clients send it.
    #[serde(default = "one_unit", skip_serializing_if = "is_one")]
    pub units: i64,
}

fn one_unit() -> i64 {
    1
}

fn is_one(units: &i64) -> bool {
    *units == 1
}

/// Makes an item a group gift, or changes its target: price × quantity
/// when `target_cents` is absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRequest {
    #[serde(default)]
    pub target_cents: Option<i64>,
}

/// One's pledge to a group gift: the amount in the item's currency (the
/// only one accepted when `currency` is given), and whether it is paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PledgeRequest {
    pub amount_cents: i64,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub paid: bool,
}

/// Asks for a password-reset link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgotPassword {
    pub email: String,
}

/// Sets a new password with a reset link's token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    pub token: String,
    pub password: String,
}

/// Changes one's password, given the current one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// Deleting one's account: the password, and whether the lists for one
/// go too (else they stay for the family, for one's name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccount {
    pub password: String,
    #[serde(default)]
    pub delete_my_lists: bool,
}

/// A new address for one's account, confirmed by a link mailed there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmail {
    pub email: String,
    pub password: String,
}

/// Reminder mails on or off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminders {
    pub enabled: bool,
}

/// A shop link to read (link import).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkToRead {
    pub url: String,
}

/// Mails of each kind on or off; a kind left out stays as it was.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailChoicesPatch {
    pub reminders: Option<bool>,
    pub notices: Option<bool>,
}

/// A confirmation link's token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmEmail {
    pub token: String,
}

/// A new display name for oneself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameMe {
    pub name: String,
}
