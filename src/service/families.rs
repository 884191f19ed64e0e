//! Families, members and invites.

use std::collections::HashMap;

use super::{events, new_id, now_iso, now_unix, Actor, Service};
use crate::{
    live::protocol::{family_topic, list_topic},
    model::{
        error::AppError,
        input::{MemberRole, NewFamily, NewInvite},
        validate, Family, FamilyDetail, FamilyId, GiftList, Invite, ListCounts, ListId, Member,
        OpenInvite, Role, UserId,
    },
    store::{accounts, families, lists},
};

/// How long an invite code admits people.
pub const INVITE_DAYS: i64 = 7;

impl Service {
    /// Fails with 404 unless `user` belongs to `family`: a family that
    /// exists but is not theirs looks exactly like one that does not.
    pub(crate) async fn role_in(&self, family: &FamilyId, user: &UserId) -> Result<Role, AppError> {
        families::role_of(self.store.pool(), family, user)
            .await?
            .ok_or_else(|| AppError::not_found("family"))
    }

    /// A new family with its creator as admin.
    pub async fn create_family(&self, actor: &Actor, input: NewFamily) -> Result<Family, AppError> {
        validate::family_name(&input.name)?;
        // A deleted account's token must not make or join anything.
        self.account(&actor.user_id).await?;
        let family = Family {
            id: FamilyId(new_id(FamilyId::PREFIX)),
            name: input.name,
        };
        let now = now_iso();
        let mut tx = self.begin_write().await?;
        families::insert_family(&mut *tx, &family, &actor.user_id, &now).await?;
        families::insert_membership(&mut *tx, &family.id, &actor.user_id, Role::Admin, &now)
            .await?;
        self.commit(tx).await?;
        Ok(family)
    }

    /// The family with its members and lists, for members only.
    pub async fn family_detail(
        &self,
        user: &UserId,
        id: &FamilyId,
    ) -> Result<FamilyDetail, AppError> {
        self.role_in(id, user).await?;
        let family = families::family(self.store.pool(), id)
            .await?
            .ok_or_else(|| AppError::not_found("family"))?;
        let members = families::members(self.store.pool(), id).await?;
        let lists = lists::lists_of_family(self.store.pool(), id).await?;
        Ok(FamilyDetail {
            family,
            members,
            lists,
        })
    }

    /// How many gifts each of the family's lists has and, on the lists
    /// that are not for `user`, how many are still free to claim.
    pub async fn list_counts(
        &self,
        user: &UserId,
        family: &FamilyId,
    ) -> Result<Vec<ListCounts>, AppError> {
        self.role_in(family, user).await?;
        let rows = lists::counts_of_family(self.store.pool(), family).await?;
        Ok(rows
            .into_iter()
            .map(|row| ListCounts {
                available: (row.recipient.as_ref() != Some(user)).then_some(row.open),
                list_id: row.list_id,
                gifts: row.gifts,
            })
            .collect())
    }

    /// Renames the family: its admins only. Everyone on its page sees the
    /// new name at once (`UPDATED` on its topic, the family as payload).
    pub async fn rename_family(
        &self,
        actor: &Actor,
        id: &FamilyId,
        input: NewFamily,
    ) -> Result<Family, AppError> {
        if self.role_in(id, &actor.user_id).await? != Role::Admin {
            return Err(AppError::forbidden(
                "only the family's admins may rename it",
            ));
        }
        validate::family_name(&input.name)?;
        let family = Family {
            id: id.clone(),
            name: input.name,
        };
        let mut tx = self.begin_write().await?;
        if !families::rename_family(&mut *tx, id, &family.name).await? {
            return Err(AppError::not_found("family"));
        }
        events::family_updated(&mut tx, actor, id, id.as_str(), &family).await?;
        self.commit(tx).await?;
        Ok(family)
    }

    /// A new invite code for `family`; any member may make one. With an
    /// address, it is also mailed there (in the background: a mail server
    /// that is down fails nothing), limited per member and per address.
    pub async fn create_invite(
        &self,
        actor: &Actor,
        family: &FamilyId,
        input: NewInvite,
    ) -> Result<Invite, AppError> {
        actor.member_only()?;
        self.role_in(family, &actor.user_id).await?;
        let email = input
            .email
            .map(|email| email.trim().to_owned())
            .filter(|email| !email.is_empty());
        if let Some(email) = &email {
            validate::email(email)?;
            self.limits
                .check_invite_mail(&actor.user_id, &validate::email_key(email))?;
        }
        let code = new_id("");
        let expires_at = now_unix() + INVITE_DAYS * 24 * 60 * 60;
        families::insert_invite(
            self.store.writes(),
            &code,
            family,
            &actor.user_id,
            expires_at,
            email.as_deref(),
            &now_iso(),
        )
        .await?;
        if let Some(to) = &email {
            let inviter = accounts::user_by_id(self.store.pool(), &actor.user_id).await?;
            let family = families::family(self.store.pool(), family).await?;
            if let (Some(inviter), Some(family)) = (inviter, family) {
                let link = self.links.url(&format!("/invite/{code}"));
                self.mailer
                    .send(invite_mail(to, &inviter.name, &family.name, &link));
                tracing::info!(family_id = %family.id, "an invite was mailed");
            }
        }
        Ok(Invite {
            code,
            expires_at: unix_rfc3339(expires_at),
            email,
        })
    }

    /// The family's invite codes that still admit people, newest first:
    /// any member sees them (any member may make one), with who may
    /// revoke each.
    pub async fn open_invites(
        &self,
        actor: &Actor,
        family: &FamilyId,
    ) -> Result<Vec<OpenInvite>, AppError> {
        actor.member_only()?;
        let role = self.role_in(family, &actor.user_id).await?;
        let invites = families::open_invites(self.store.pool(), family, now_unix()).await?;
        Ok(invites
            .into_iter()
            .map(|invite| OpenInvite {
                url: self.links.url(&format!("/invite/{}", invite.code)),
                may_revoke: role == Role::Admin || invite.created_by == actor.user_id,
                code: invite.code,
                expires_at: unix_rfc3339(invite.expires_at),
                created_at: invite.created_at,
                created_by: invite.created_by,
                created_by_name: invite.created_by_name,
                email: invite.email,
            })
            .collect())
    }

    /// Revokes an invite code: whoever made it, or an admin. An unknown
    /// code (or one of another family) is a 404.
    pub async fn revoke_invite(
        &self,
        actor: &Actor,
        family: &FamilyId,
        code: &str,
    ) -> Result<(), AppError> {
        actor.member_only()?;
        let role = self.role_in(family, &actor.user_id).await?;
        let creator = families::invite_creator(self.store.pool(), family, code)
            .await?
            .ok_or_else(|| AppError::not_found("invite"))?;
        if role != Role::Admin && creator != actor.user_id {
            return Err(AppError::forbidden(
                "only whoever made an invite, or an admin, may revoke it",
            ));
        }
        if !families::delete_invite(self.store.writes(), family, code).await? {
            return Err(AppError::not_found("invite"));
        }
        Ok(())
    }

    /// Makes a member an admin, or an admin a member again: the family's
    /// admins only, and never the last admin down. Everyone on the
    /// family's page sees it (`UPDATED` with the member).
    pub async fn set_member_role(
        &self,
        actor: &Actor,
        family: &FamilyId,
        member: &UserId,
        input: MemberRole,
    ) -> Result<Member, AppError> {
        actor.member_only()?;
        self.role_in(family, &actor.user_id).await?;
        let mut tx = self.begin_write().await?;
        if locked_role(&mut tx, family, &actor.user_id).await? != Role::Admin {
            return Err(AppError::forbidden(
                "only the family's admins may change who is an admin",
            ));
        }
        let current = member_losing_role(&mut tx, family, member, input.role).await?;
        if current.role == input.role {
            return Ok(current);
        }
        families::set_role(&mut *tx, family, member, input.role).await?;
        let updated = Member {
            role: input.role,
            ..current
        };
        events::family_updated(&mut tx, actor, family, member.as_str(), &updated).await?;
        self.commit(tx).await?;
        Ok(updated)
    }

    /// Takes `member` out of `family`: an admin removes anyone, anyone
    /// leaves; the last admin must hand over first. In the same
    /// transaction their claims and pledges on the family's lists are
    /// released (each a `STATUS_CHANGED` for the list's members, as any
    /// release) and `MEMBER_LEFT` goes out on the family's topic. Then
    /// their live connections lose the family's topics on every instance.
    ///
    /// Lists for them stay, still theirs (so claims stay hidden from them
    /// should they come back); lists they made stay for the family.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        family: &FamilyId,
        member: &UserId,
    ) -> Result<(), AppError> {
        actor.member_only()?;
        self.role_in(family, &actor.user_id).await?;
        let leaving = *member == actor.user_id;
        let mut tx = self.begin_write().await?;
        let role = locked_role(&mut tx, family, &actor.user_id).await?;
        if !leaving && role != Role::Admin {
            return Err(AppError::forbidden(
                "only the family's admins may remove a member",
            ));
        }
        let gone = member_losing_role(&mut tx, family, member, Role::Member).await?;
        release_holdings(&mut tx, actor, family, member).await?;
        families::delete_membership(&mut *tx, family, member).await?;
        events::member(
            &mut tx,
            actor,
            family,
            events::MEMBER_LEFT,
            &gone,
            &actor.user_id,
        )
        .await?;
        let topics: Vec<String> = std::iter::once(family_topic(family))
            .chain(
                lists::lists_of_family(&mut *tx, family)
                    .await?
                    .iter()
                    .map(|list| list_topic(&list.id)),
            )
            .collect();
        self.commit(tx).await?;
        self.bus.end_access(member, topics).await;
        tracing::info!(family_id = %family, user_id = %member, leaving, "a member left a family");
        Ok(())
    }

    /// The family an invite code leads to, without joining (for the invite page).
    pub async fn invite_family(&self, code: &str) -> Result<Family, AppError> {
        let id = families::family_of_invite(self.store.pool(), code, now_unix())
            .await?
            .ok_or_else(|| AppError::not_found("invite"))?;
        families::family(self.store.pool(), &id)
            .await?
            .ok_or_else(|| AppError::not_found("invite"))
    }

    /// Joins the family of a live invite code; joining again changes nothing.
    pub async fn accept_invite(&self, actor: &Actor, code: &str) -> Result<Family, AppError> {
        // A deleted account's token must not make or join anything.
        self.account(&actor.user_id).await?;
        self.may_join(&actor.user_id).await?;
        let mut tx = self.begin_write().await?;
        let id = families::family_of_invite(&mut *tx, code, now_unix())
            .await?
            .ok_or_else(|| AppError::not_found("invite"))?;
        let family = families::family(&mut *tx, &id)
            .await?
            .ok_or_else(|| AppError::not_found("invite"))?;
        if families::insert_membership(&mut *tx, &id, &actor.user_id, Role::Member, &now_iso())
            .await?
        {
            let member = families::member(&mut *tx, &id, &actor.user_id)
                .await?
                .ok_or_else(AppError::internal)?;
            events::member(
                &mut tx,
                actor,
                &id,
                events::MEMBER_JOINED,
                &member,
                &member.user_id,
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(family)
    }
}

/// Takes the family's lock and reads `user`'s role under it, so changes
/// to its members are decided one at a time on what the one before left
/// (404 when the family or the membership is gone).
async fn locked_role(
    tx: &mut super::Write,
    family: &FamilyId,
    user: &UserId,
) -> Result<Role, AppError> {
    if !families::lock_family(&mut **tx, family).await? {
        return Err(AppError::not_found("family"));
    }
    families::role_of(&mut **tx, family, user)
        .await?
        .ok_or_else(|| AppError::not_found("family"))
}

/// The member `user` of `family` (404 if none), about to have the role
/// `next` or less (removing them counts as `Role::Member`): 409 when that
/// would leave the family without an admin. Read under the family's lock.
async fn member_losing_role(
    tx: &mut super::Write,
    family: &FamilyId,
    user: &UserId,
    next: Role,
) -> Result<Member, AppError> {
    let member = families::member(&mut **tx, family, user)
        .await?
        .ok_or_else(|| AppError::not_found("member"))?;
    if member.role == Role::Admin
        && next != Role::Admin
        && families::admin_count(&mut **tx, family).await? <= 1
    {
        return Err(AppError::conflict(LAST_ADMIN));
    }
    Ok(member)
}

/// Releases everything `user` holds on `family`'s lists (claims, pledges,
/// the organiser's role), item by item under each item's lock, each a
/// `STATUS_CHANGED` on its list as any release is: for someone leaving
/// the family, or their account going.
pub(super) async fn release_holdings(
    tx: &mut super::Write,
    actor: &Actor,
    family: &FamilyId,
    user: &UserId,
) -> Result<(), AppError> {
    let mut seen: HashMap<ListId, GiftList> = HashMap::new();
    for (item_id, list_id) in lists::items_held_in_family(&mut **tx, family, user).await? {
        if lists::locked_item(tx, &item_id).await?.is_none() {
            continue;
        }
        lists::delete_claim(&mut **tx, &item_id, user).await?;
        lists::delete_pledge(&mut **tx, &item_id, user).await?;
        lists::clear_organiser(&mut **tx, &item_id, user).await?;
        let released = lists::item(tx, &item_id)
            .await?
            .ok_or_else(AppError::internal)?;
        let list = match seen.get(&list_id) {
            Some(list) => list.clone(),
            None => {
                let list = lists::list(&mut **tx, &list_id)
                    .await?
                    .ok_or_else(AppError::internal)?
                    .list;
                seen.insert(list_id, list.clone());
                list
            }
        };
        events::item(tx, actor, &list, events::STATUS_CHANGED, &released).await?;
    }
    Ok(())
}

/// The refusal to leave a family without an admin.
const LAST_ADMIN: &str =
    "the family's last admin cannot step down or leave: make another member admin first";

/// Unix seconds as RFC 3339, as invites show their expiry.
fn unix_rfc3339(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The invite mail, in plain text and HTML.
fn invite_mail(to: &str, inviter: &str, family: &str, link: &str) -> crate::mail::Mail {
    crate::mail::Mail::compose(
        to,
        format!("{inviter} invites you to \"{family}\" on Giftlist"),
        &[
            "Hello,",
            &format!(
                "{inviter} invites you to the family \"{family}\" on Giftlist, where you keep \
                 wish lists together and secretly claim what you will give. Open this link \
                 within {INVITE_DAYS} days to join:"
            ),
        ],
        Some(link),
        &[&format!("If you do not know {inviter}, ignore this mail.")],
    )
}
