//! Families, members and invites.

use super::{events, new_id, now_iso, now_unix, Actor, Service};
use crate::{
    model::{
        error::AppError, input::NewFamily, validate, Family, FamilyDetail, FamilyId, Invite,
        ListCounts, Role, UserId,
    },
    store::{families, lists},
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

    /// A new invite code for `family`; any member may make one.
    pub async fn create_invite(
        &self,
        actor: &Actor,
        family: &FamilyId,
    ) -> Result<Invite, AppError> {
        self.role_in(family, &actor.user_id).await?;
        let code = new_id("");
        let expires_at = now_unix() + INVITE_DAYS * 24 * 60 * 60;
        families::insert_invite(
            self.store.writes(),
            &code,
            family,
            &actor.user_id,
            expires_at,
            &now_iso(),
        )
        .await?;
        let expires_at = chrono::DateTime::from_timestamp(expires_at, 0)
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        Ok(Invite { code, expires_at })
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
            events::member_joined(&mut tx, actor, &id, &member).await?;
        }
        self.commit(tx).await?;
        Ok(family)
    }
}
