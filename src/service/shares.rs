//! Share links and guests.
//!
//! Members make, list and revoke a list's links; whoever holds one opens
//! the list as a guest. What a guest may do is exactly: read that list (as
//! its link's audience sees it), claim, pledge, release and withdraw their
//! own, and follow the list's guest stream. The surprise rule holds on
//! every path: a givers' link is made, listed and revoked only by members
//! who are not the recipient (the recipient is never told one exists), and
//! the recipient opening any link sees what a view link shows, nothing
//! about claims.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use serde_json::value::RawValue;

use super::{new_id, now_iso, now_unix, surprise, Actor, Service};
use crate::{
    auth::links::{self, LinkKind},
    live::protocol::{list_topic, Changes},
    model::{
        error::AppError,
        input::{ClaimRequest, PledgeRequest},
        share::{
            GuestClaim, GuestPart, GuestPledge, GuestPledgeRequest, GuestSelf, NewShare, ShareKind,
            ShareLink, SharePage, SharedItem, SharedList,
        },
        validate, ClaimStatus, GiftList, Item, ItemId, ListId, UserId,
    },
    store::{
        families, lists,
        outbox::{self, Audience},
        shares::{self, GuestRow, ShareRow},
    },
};

/// The id prefix of share links (their id, not their token).
pub const SHARE_PREFIX: &str = "sh_";

/// The furthest ahead a link may be set to expire.
const MAX_EXPIRY_DAYS: i64 = 5 * 366;

/// An opened share link: what it shows, and to whom.
#[derive(Clone, Debug)]
pub struct ShareAccess {
    pub share: ShareRow,
    pub list: GiftList,
    /// What this viewer may do: a givers' link opened by the list's
    /// recipient is a view link for them.
    pub kind: ShareKind,
    /// The guest this browser is (by its guest token), when it is a guest
    /// of this link.
    pub guest: Option<GuestRow>,
    /// Whether the viewer is logged in as a member of the family.
    pub member: bool,
}

impl ShareAccess {
    /// The stream of the list's topic this viewer reads.
    pub fn audience(&self) -> Audience {
        match self.kind {
            ShareKind::Givers => Audience::Guests,
            ShareKind::View => Audience::Viewers,
        }
    }

    /// The list's topic, the one topic a guest may follow.
    pub fn topic(&self) -> String {
        list_topic(&self.list.id)
    }

    /// Guests change nothing on an archived list, nor through a view link.
    fn givers_only(&self) -> Result<(), AppError> {
        super::items::writable(&self.list)?;
        match self.kind {
            ShareKind::Givers => Ok(()),
            ShareKind::View => Err(AppError::forbidden(
                "this link only shows the list: claiming needs a givers' link",
            )),
        }
    }

    fn actor(&self, guest: &GuestRow, trace_id: String) -> Actor {
        Actor {
            user_id: guest.user_id.clone(),
            trace_id,
            guest_of: Some(self.list.id.clone()),
        }
    }
}

/// What a guest's claim or pledge answers: the item as guests see it, the
/// guest themselves and, when this request made the guest, their token
/// (for the cookie that keeps this browser that guest).
#[derive(Clone, Debug, Serialize)]
pub struct GuestAnswer {
    pub item: SharedItem,
    pub guest: GuestSelf,
    #[serde(skip)]
    pub token: String,
}

/// What a guest sees of a refusal: never the item as members see it.
fn for_guest(mut err: AppError) -> AppError {
    err.current = None;
    err
}

/// `expires_at` as a new link takes it: a date (the end of that day, UTC)
/// or an RFC 3339 time, in the future and at most about five years ahead.
fn expiry(value: Option<&str>, now: i64) -> Result<Option<i64>, AppError> {
    let Some(text) = value.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        AppError::bad_request(
            "expires_at must be a date like 2026-12-24 or a time like 2026-12-24T18:00:00Z",
        )
    };
    let at = match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(day) => {
            let end = day.and_hms_opt(23, 59, 59).ok_or_else(bad)?;
            Utc.from_utc_datetime(&end).timestamp()
        }
        Err(_) => DateTime::parse_from_rfc3339(text)
            .map_err(|_| bad())?
            .timestamp(),
    };
    if at <= now {
        return Err(AppError::bad_request("expires_at must be in the future"));
    }
    if at - now > MAX_EXPIRY_DAYS * 86_400 {
        return Err(AppError::bad_request(
            "expires_at must be within five years",
        ));
    }
    Ok(Some(at))
}

/// Unix seconds as shown: ISO 8601 in UTC.
fn shown_time(at: i64) -> String {
    super::iso(Utc.timestamp_opt(at, 0).single().unwrap_or_default())
}

impl Service {
    /// A link as members see it.
    fn share_link(&self, share: &ShareRow) -> ShareLink {
        let path = self.links.path(LinkKind::Share, &share.id);
        ShareLink {
            id: share.id.clone(),
            list_id: share.list_id.clone(),
            kind: share.kind,
            url: self.links.url(&path),
            path,
            created_by: share.created_by.clone(),
            created_at: share.created_at.clone(),
            expires_at: share.expires_at.map(shown_time),
            expired: share.expires_at.is_some_and(|at| at <= now_unix()),
        }
    }

    /// Makes a share link for a list. Anyone who may see the list may make
    /// a view link; a givers' link, which shows what is taken, only a
    /// member who is not the recipient.
    pub async fn create_share(
        &self,
        actor: &Actor,
        list_id: &ListId,
        input: NewShare,
    ) -> Result<ShareLink, AppError> {
        actor.member_only()?;
        let (record, _) = self.visible_list(&actor.user_id, list_id).await?;
        if input.kind == ShareKind::Givers && surprise::is_recipient(&actor.user_id, &record.list) {
            return Err(AppError::forbidden(
                "you cannot make a givers' link for your own list: it would show what is taken",
            ));
        }
        let expires_at = expiry(input.expires_at.as_deref(), now_unix())?;
        let id = new_id(SHARE_PREFIX);
        let share = ShareRow {
            token_hash: links::token_hash(&self.links.token(LinkKind::Share, &id)),
            id,
            list_id: list_id.clone(),
            kind: input.kind,
            created_by: actor.user_id.clone(),
            created_at: now_iso(),
            expires_at,
            revoked: false,
        };
        let mut tx = self.begin_write().await?;
        // The list may have been removed since it was looked up.
        if !lists::lock_list(&mut tx, list_id).await? {
            return Err(AppError::not_found("list"));
        }
        shares::insert_share(&mut *tx, &share).await?;
        self.commit(tx).await?;
        Ok(self.share_link(&share))
    }

    /// The list's links that `user` may see (not revoked, oldest first):
    /// every one for members, the view links only for the recipient.
    pub async fn shares_of_list(
        &self,
        user: &UserId,
        list_id: &ListId,
    ) -> Result<Vec<ShareLink>, AppError> {
        let (record, _) = self.visible_list(user, list_id).await?;
        let recipient = surprise::is_recipient(user, &record.list);
        Ok(shares::shares_of_list(self.store.pool(), list_id)
            .await?
            .iter()
            .filter(|share| !recipient || share.kind == ShareKind::View)
            .map(|share| self.share_link(share))
            .collect())
    }

    /// Revokes one of the list's links that the actor may see: its pages
    /// stop working and its sockets are closed (4401) on every instance.
    /// A link the actor may not see is answered as unknown (404).
    pub async fn revoke_share(
        &self,
        actor: &Actor,
        list_id: &ListId,
        share_id: &str,
    ) -> Result<(), AppError> {
        actor.member_only()?;
        let (record, _) = self.visible_list(&actor.user_id, list_id).await?;
        let recipient = surprise::is_recipient(&actor.user_id, &record.list);
        let unknown = || AppError::not_found("link");
        let share = shares::share_by_id(self.store.pool(), share_id)
            .await?
            .filter(|share| &share.list_id == list_id && !share.revoked)
            .filter(|share| !recipient || share.kind == ShareKind::View)
            .ok_or_else(unknown)?;
        let mut tx = self.begin_write().await?;
        if !shares::revoke_share(&mut *tx, &share.id, &now_iso()).await? {
            return Err(unknown());
        }
        self.commit(tx).await?;
        self.bus.end_share(&share.id).await;
        Ok(())
    }

    /// Opens the link with `token` for a viewer (logged in or not) whose
    /// browser may be a guest of it (`guest_token`). A token that opens
    /// nothing is 404, and 429 once `ip` has tried too many; a revoked or
    /// expired link is 403 with a message that says which.
    pub async fn open_share(
        &self,
        token: &str,
        viewer: Option<&UserId>,
        ip: IpAddr,
    ) -> Result<ShareAccess, AppError> {
        let found = if links::well_formed(token) {
            shares::share_by_hash(self.store.pool(), &links::token_hash(token)).await?
        } else {
            None
        };
        let Some(share) = found.filter(|share| links::hash_matches(&share.token_hash, token))
        else {
            return Err(self.link_miss(ip));
        };
        if share.revoked {
            return Err(AppError::forbidden("this link was revoked"));
        }
        if share.expires_at.is_some_and(|at| at <= now_unix()) {
            return Err(AppError::forbidden("this link has expired"));
        }
        let list = lists::list(self.store.pool(), &share.list_id)
            .await?
            .ok_or_else(|| AppError::not_found("link"))?
            .list;
        let (member, recipient) = match viewer {
            Some(user) => (
                families::role_of(self.store.pool(), &list.family_id, user)
                    .await?
                    .is_some(),
                surprise::is_recipient(user, &list),
            ),
            None => (false, false),
        };
        let kind = if recipient {
            ShareKind::View
        } else {
            share.kind
        };
        Ok(ShareAccess {
            share,
            list,
            kind,
            guest: None,
            member,
        })
    }

    /// Makes `access` the guest's whose token the browser holds, when it is
    /// a guest of this link (any other token is ignored).
    pub async fn attach_guest(
        &self,
        access: &mut ShareAccess,
        guest_token: Option<&str>,
    ) -> Result<(), AppError> {
        let Some(token) = guest_token.filter(|token| links::well_formed(token)) else {
            return Ok(());
        };
        access.guest = shares::guest_by_hash(self.store.pool(), &links::token_hash(token))
            .await?
            .filter(|guest| guest.share_id == access.share.id)
            .filter(|guest| links::hash_matches(&guest.token_hash, token));
        Ok(())
    }

    /// The guest with this "manage my claim" token, and the path of their
    /// link's page. Unknown tokens count against `ip` like share links.
    pub async fn open_guest(
        &self,
        token: &str,
        ip: IpAddr,
    ) -> Result<(GuestRow, String), AppError> {
        let found = if links::well_formed(token) {
            shares::guest_by_hash(self.store.pool(), &links::token_hash(token)).await?
        } else {
            None
        };
        let Some(guest) = found.filter(|guest| links::hash_matches(&guest.token_hash, token))
        else {
            return Err(self.link_miss(ip));
        };
        let path = self.links.path(LinkKind::Share, &guest.share_id);
        Ok((guest, path))
    }

    /// What a token that opens nothing is answered: 404, or 429 once `ip`
    /// has tried too many (someone guessing).
    fn link_miss(&self, ip: IpAddr) -> AppError {
        match self.limits.check_link_miss(ip) {
            Ok(()) => AppError::not_found("link"),
            Err(limited) => limited,
        }
    }

    /// The token that makes a browser `guest` (its cookie's value).
    pub fn guest_token(&self, guest: &UserId) -> String {
        self.links.token(LinkKind::Guest, guest.as_str())
    }

    /// The guest as they see themselves, with what they hold of `items`.
    fn guest_self(&self, guest: &GuestRow, items: &[Item]) -> GuestSelf {
        let manage_path = self.links.path(LinkKind::Guest, guest.user_id.as_str());
        let claims = items
            .iter()
            .filter_map(|item| {
                item.claim_of(&guest.user_id).map(|part| GuestPart {
                    item_id: item.id.clone(),
                    status: part.status,
                    units: part.units,
                })
            })
            .collect();
        let pledges = items
            .iter()
            .filter_map(|item| {
                let pledge = item.group.as_ref()?.pledge_of(&guest.user_id)?;
                Some(GuestPledge {
                    item_id: item.id.clone(),
                    amount_cents: pledge.amount_cents,
                    currency: pledge.currency.clone(),
                    paid: pledge.paid,
                })
            })
            .collect();
        GuestSelf {
            id: guest.user_id.clone(),
            name: guest.name.clone(),
            email: guest.email.clone(),
            manage_url: self.links.url(&manage_path),
            manage_path,
            claims,
            pledges,
        }
    }

    /// Everything the share page shows, and the `seq` of the viewer's
    /// stream it was read at.
    pub async fn share_page(&self, access: &ShareAccess) -> Result<SharePage, AppError> {
        let audience = access.audience();
        // The seq first: an event recorded in between is then replayed
        // once more rather than missed.
        let seq = outbox::last_seq(self.store.pool(), &access.topic(), audience).await?;
        let items =
            lists::items_of_list(&mut *self.store.pool().acquire().await?, &access.list.id).await?;
        let guest = access
            .guest
            .as_ref()
            .filter(|_| access.kind == ShareKind::Givers)
            .map(|guest| self.guest_self(guest, &items));
        Ok(SharePage {
            kind: access.kind,
            list: SharedList::of(
                &access.list,
                lists::recipient_name(self.store.pool(), &access.list).await?,
            ),
            items: items
                .iter()
                .map(|item| surprise::shared_item_for(audience, item))
                .collect(),
            seq,
            expires_at: access.share.expires_at.map(shown_time),
            guest,
            member: access.member,
        })
    }

    /// The events of the viewer's stream after `since` (polling).
    pub async fn share_changes(
        &self,
        access: &ShareAccess,
        since: i64,
    ) -> Result<Changes<Box<RawValue>>, AppError> {
        self.stream_changes(&access.topic(), access.audience(), since)
            .await
    }

    /// The guest this request acts as: the browser's own, or a new one
    /// made of `name` and `email` (not stored yet: see [`Self::as_guest`]).
    fn guest_for(
        &self,
        access: &ShareAccess,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Result<(GuestRow, bool), AppError> {
        if let Some(guest) = &access.guest {
            return Ok((guest.clone(), false));
        }
        let name = validate::guest_name(name.unwrap_or(""))?;
        let email = match email.map(str::trim).filter(|email| !email.is_empty()) {
            Some(email) => {
                validate::email(email)?;
                Some(email.to_owned())
            }
            None => None,
        };
        let user_id = UserId(new_id(UserId::PREFIX));
        let token = self.guest_token(&user_id);
        Ok((
            GuestRow {
                user_id,
                share_id: access.share.id.clone(),
                name,
                email,
                token_hash: links::token_hash(&token),
            },
            true,
        ))
    }

    /// Starts a guest's change: the link still open (its row locked, so a
    /// revocation is decided before or after, never during), and a new
    /// guest stored in the same transaction.
    async fn as_guest(
        &self,
        access: &ShareAccess,
        guest: &GuestRow,
        new: bool,
    ) -> Result<super::Write, AppError> {
        let mut tx = self.begin_write().await?;
        if !shares::lock_open_share(&mut tx, &access.share.id).await? {
            return Err(AppError::forbidden("this link was revoked"));
        }
        if new {
            shares::insert_guest(&mut tx, guest, &now_iso()).await?;
        }
        Ok(tx)
    }

    /// The answer to a guest's change of `item`.
    async fn guest_answer(
        &self,
        access: &ShareAccess,
        guest: &GuestRow,
        item: &ItemId,
    ) -> Result<GuestAnswer, AppError> {
        let items =
            lists::items_of_list(&mut *self.store.pool().acquire().await?, &access.list.id).await?;
        let shared = items
            .iter()
            .find(|found| &found.id == item)
            .map(|found| surprise::shared_item_for(Audience::Guests, found))
            .ok_or_else(|| AppError::not_found("item"))?;
        Ok(GuestAnswer {
            item: shared,
            guest: self.guest_self(guest, &items),
            token: self.guest_token(&guest.user_id),
        })
    }

    /// A guest claims `units` of an item, or changes their part: the same
    /// rules and the same lock as members' claims, so guests and members
    /// racing for the last unit get one holder.
    pub async fn guest_claim(
        &self,
        access: &ShareAccess,
        item: &ItemId,
        input: GuestClaim,
        trace_id: String,
    ) -> Result<GuestAnswer, AppError> {
        access.givers_only()?;
        let request = ClaimRequest {
            status: input.status.unwrap_or(ClaimStatus::Reserved),
            units: input.units.unwrap_or(1),
        };
        validate::units(request.units)?;
        let (guest, new) = self.guest_for(access, input.name.as_deref(), input.email.as_deref())?;
        let tx = self.as_guest(access, &guest, new).await?;
        let actor = access.actor(&guest, trace_id);
        self.claim_in(tx, &actor, &access.list, item, request)
            .await
            .map_err(for_guest)?;
        self.guest_answer(access, &guest, item).await
    }

    /// A guest pledges to a group gift, or changes their pledge.
    pub async fn guest_pledge(
        &self,
        access: &ShareAccess,
        item: &ItemId,
        input: GuestPledgeRequest,
        trace_id: String,
    ) -> Result<GuestAnswer, AppError> {
        access.givers_only()?;
        validate::pledge_cents(input.amount_cents)?;
        let (guest, new) = self.guest_for(access, input.name.as_deref(), input.email.as_deref())?;
        let tx = self.as_guest(access, &guest, new).await?;
        let actor = access.actor(&guest, trace_id);
        let request = PledgeRequest {
            amount_cents: input.amount_cents,
            currency: None,
            paid: input.paid,
        };
        self.pledge_in(tx, &actor, &access.list, item, request)
            .await
            .map_err(for_guest)?;
        self.guest_answer(access, &guest, item).await
    }

    /// The browser's guest, for releasing and withdrawing: a browser that
    /// is no guest of this link holds nothing to give back.
    fn own_guest(access: &ShareAccess) -> Result<&GuestRow, AppError> {
        access.givers_only()?;
        access.guest.as_ref().ok_or_else(|| {
            AppError::forbidden(
                "only whoever claimed this can change it: open the link you were given when you claimed",
            )
        })
    }

    /// A guest releases their part of an item.
    pub async fn guest_release(
        &self,
        access: &ShareAccess,
        item: &ItemId,
        trace_id: String,
    ) -> Result<GuestAnswer, AppError> {
        let guest = Self::own_guest(access)?;
        self.release_item(&access.actor(guest, trace_id), item)
            .await
            .map_err(for_guest)?;
        self.guest_answer(access, guest, item).await
    }

    /// A guest withdraws their pledge.
    pub async fn guest_withdraw(
        &self,
        access: &ShareAccess,
        item: &ItemId,
        trace_id: String,
    ) -> Result<GuestAnswer, AppError> {
        let guest = Self::own_guest(access)?;
        self.withdraw_pledge(&access.actor(guest, trace_id), item)
            .await
            .map_err(for_guest)?;
        self.guest_answer(access, guest, item).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_takes_dates_and_times_in_the_future_only() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 6, 12, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(expiry(None, now).unwrap(), None);
        assert_eq!(expiry(Some(" "), now).unwrap(), None);
        let end_of_day = Utc
            .with_ymd_and_hms(2026, 12, 24, 23, 59, 59)
            .unwrap()
            .timestamp();
        assert_eq!(expiry(Some("2026-12-24"), now).unwrap(), Some(end_of_day));
        assert_eq!(
            expiry(Some("2026-12-06T13:00:00+01:00"), now)
                .unwrap_err()
                .message,
            "expires_at must be in the future"
        );
        assert_eq!(
            expiry(Some("2026-12-07T00:00:00Z"), now).unwrap(),
            Some(now + 12 * 3600)
        );
        assert!(expiry(Some("2026-12-05"), now).is_err());
        assert!(expiry(Some("2040-01-01"), now).is_err());
        for bad in ["tomorrow", "24.12.2026", "2026-13-01"] {
            assert_eq!(expiry(Some(bad), now).unwrap_err().code.status(), 400);
        }
    }
}
