//! Accounts: registering, checking passwords, tokens, and "who am I".

use std::net::IpAddr;

use super::{new_id, now_iso, Actor, Service};
use crate::{
    model::{
        error::AppError,
        input::{Credentials, DeleteAccount, Register},
        validate, GiftList, Me, Member, Role, Token, User, UserId,
    },
    store::{accounts, families, lists},
};

/// What every failed login hears, whichever part was wrong.
const BAD_LOGIN: &str = "the email or password is not right";

impl Service {
    /// Creates an account. The client's address is counted against its
    /// limit, and the password checked for length, before any hashing, so a
    /// flood or an oversized password costs nothing.
    pub async fn register(&self, input: Register, from: IpAddr) -> Result<User, AppError> {
        self.limits.check_ip(from)?;
        validate::email(&input.email)?;
        validate::person_name(&input.name)?;
        validate::password(&input.password)?;
        let hash = self.passwords.hash(input.password).await?;
        let user = User {
            id: UserId(new_id(UserId::PREFIX)),
            email: input.email,
            name: input.name,
        };
        let key = validate::email_key(&user.email);
        if !accounts::insert_user(self.store.writes(), &user, &key, &hash, &now_iso()).await? {
            return Err(AppError::conflict(
                "an account with this email already exists",
            ));
        }
        tracing::info!(user_id = %user.id, "account registered");
        if self.require_verified_email {
            self.send_confirmation(&user.id, &user.name, &user.email)
                .await?;
        }
        Ok(user)
    }

    /// The user whose email and password these are. Unknown email and wrong
    /// password are answered alike, after the same amount of work. Attempts
    /// are limited per client address and per account (see `auth::limits`).
    pub async fn authenticate(
        &self,
        credentials: Credentials,
        from: IpAddr,
    ) -> Result<User, AppError> {
        self.limits.check_ip(from)?;
        if credentials.password.len() > validate::PASSWORD_MAX_BYTES {
            return Err(AppError::bad_request(format!(
                "password is too long: at most {} bytes",
                validate::PASSWORD_MAX_BYTES
            )));
        }
        let key = validate::email_key(&credentials.email);
        self.limits.check_account(&key)?;
        let found = accounts::user_by_email_key(self.store.pool(), &key).await?;
        let hash = found.as_ref().map(|user| user.password_hash.clone());
        if self.passwords.verify(credentials.password, hash).await? {
            if let Some(found) = found {
                return Ok(found.user());
            }
        }
        Err(AppError::unauthorized(BAD_LOGIN))
    }

    /// A token for `user`.
    pub fn token_for(&self, user: &UserId) -> Token {
        self.tokens.issue(user)
    }

    /// The account of `user`; 401 when it is gone (deleted, though a
    /// token issued before still verifies until it expires).
    pub async fn account(&self, user: &UserId) -> Result<User, AppError> {
        accounts::user_by_id(self.store.pool(), user)
            .await?
            .ok_or_else(|| AppError::unauthorized("this account no longer exists"))
    }

    /// The user and their families.
    pub async fn me(&self, user: &UserId) -> Result<Me, AppError> {
        let found = self.account(user).await?;
        let families = families::families_of(self.store.pool(), user).await?;
        let email_confirmed = accounts::email_confirmed(self.store.pool(), user).await?;
        let mails = self.mail_choices(user).await?;
        Ok(Me {
            user: found,
            families,
            email_confirmed,
            reminders: mails.reminders,
            notice_mails: mails.notices,
        })
    }
}

/// How long a password-reset link works.
const RESET_TTL_SECS: i64 = 3600;

/// What a reset link that cannot be used is answered, whatever the reason
/// (unknown, used, expired): nothing to learn from it.
const BAD_RESET: &str = "this reset link is invalid, used or expired: ask for a new one";

/// A reset link's token: 256 random bits in hex.
pub(super) fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(super) fn well_formed_token(token: &str) -> bool {
    token.len() == 64
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The reset mail, in plain text and HTML.
fn reset_mail(user: &User, link: &str) -> crate::mail::Mail {
    crate::mail::Mail::compose(
        &user.email,
        "Reset your Giftlist password",
        &[
            &format!("Hello {},", user.name),
            "someone (we hope you) asked to reset the password of your Giftlist account. \
             Open this link within an hour to choose a new one:",
        ],
        Some(link),
        &["If it was not you, ignore this mail: your password stays as it is."],
    )
}

impl Service {
    /// Sends a reset link to `email`'s account, if there is one. The answer
    /// is the same either way, and as fast (no account enumeration, not
    /// even by timing): once the limits pass, the lookup and the mail
    /// happen in the background, where SMTP being down cannot fail this
    /// either. Asking is limited per client address and per address asked
    /// for.
    pub async fn request_reset(&self, email: &str, from: IpAddr) -> Result<(), AppError> {
        self.limits.check_ip(from)?;
        let email = email.trim();
        validate::email(email)?;
        let key = validate::email_key(email);
        self.limits.check_reset(&key)?;
        let service = self.clone();
        tokio::spawn(async move {
            if let Err(err) = service.send_reset(&key).await {
                tracing::warn!(code = err.code.as_str(), "a reset link could not be made");
            }
        });
        Ok(())
    }

    /// Makes a reset link for the account of `key`, if any, and mails it.
    async fn send_reset(&self, key: &str) -> Result<(), AppError> {
        let Some(found) = accounts::user_by_email_key(self.store.pool(), key).await? else {
            return Ok(());
        };
        let user = found.user();
        let token = random_token();
        let expires_at = super::now_unix() + RESET_TTL_SECS;
        let hash = crate::auth::links::token_hash(&token);
        accounts::insert_reset(self.store.writes(), &hash, &user.id, expires_at, &now_iso())
            .await?;
        let link = self.links.url(&format!("/reset/{token}"));
        self.mailer.send(reset_mail(&user, &link));
        tracing::info!(user_id = %user.id, "password reset asked for");
        Ok(())
    }

    /// Sets a new password with a reset link's token: once, within the
    /// hour. Every session and live connection of the user ends; the caller
    /// logs the person in anew. Attempts count against the client
    /// address's login limit, like logins.
    pub async fn reset_password(
        &self,
        token: &str,
        password: String,
        from: IpAddr,
    ) -> Result<User, AppError> {
        self.limits.check_ip(from)?;
        validate::password(&password)?;
        let invalid = || AppError::bad_request(BAD_RESET);
        if !well_formed_token(token) {
            return Err(invalid());
        }
        let hash = crate::auth::links::token_hash(token);
        // Checked before the (deliberately slow) hashing, so forged links
        // cost nothing; used under the write lock below.
        if !accounts::reset_is_open(self.store.pool(), &hash, super::now_unix()).await? {
            return Err(invalid());
        }
        let password_hash = self.passwords.hash(password).await?;
        let mut tx = self.begin_write().await?;
        let user = accounts::use_reset(&mut *tx, &hash, super::now_unix(), &now_iso())
            .await?
            .ok_or_else(invalid)?;
        accounts::set_password(&mut *tx, &user, &password_hash).await?;
        accounts::delete_sessions_of(&mut *tx, &user, None).await?;
        self.commit(tx).await?;
        self.bus.end_user(&user, None).await;
        tracing::info!(user_id = %user, "password reset");
        self.account(&user).await
    }

    /// Changes the password, given the current one. Every other session
    /// (all but `keep`, the hashed id of the caller's own) and its live
    /// connections end.
    pub async fn change_password(
        &self,
        user: &UserId,
        current: String,
        new: String,
        keep: Option<&str>,
    ) -> Result<(), AppError> {
        validate::password(&new)?;
        let stored = accounts::password_hash(self.store.pool(), user).await?;
        if !self.passwords.verify(current, stored).await? {
            return Err(AppError::forbidden("the current password is not right"));
        }
        let password_hash = self.passwords.hash(new).await?;
        let mut tx = self.begin_write().await?;
        accounts::set_password(&mut *tx, user, &password_hash).await?;
        accounts::delete_sessions_of(&mut *tx, user, keep).await?;
        self.commit(tx).await?;
        self.bus.end_user(user, keep).await;
        tracing::info!(user_id = %user, "password changed");
        Ok(())
    }

    /// Ends every session of `user`, and their live connections.
    pub async fn log_out_everywhere(&self, user: &UserId) -> Result<(), AppError> {
        accounts::delete_sessions_of(self.store.writes(), user, None).await?;
        self.bus.end_user(user, None).await;
        Ok(())
    }
}

impl Service {
    /// Changes the display name. Each family of the user hears of it at
    /// once (`UPDATED` on its topic, the member as payload), so their
    /// pages show the new name.
    pub async fn rename_me(&self, actor: &Actor, name: String) -> Result<User, AppError> {
        actor.member_only()?;
        validate::person_name(&name)?;
        let mut tx = self.begin_write().await?;
        accounts::rename_user(&mut *tx, &actor.user_id, &name).await?;
        for family in families::families_of(&mut *tx, &actor.user_id).await? {
            if let Some(member) = families::member(&mut *tx, &family.id, &actor.user_id).await? {
                super::events::family_updated(
                    &mut tx,
                    actor,
                    &family.id,
                    actor.user_id.as_str(),
                    &member,
                )
                .await?;
            }
        }
        self.commit(tx).await?;
        self.account(&actor.user_id).await
    }

    /// Deletes the caller's account, given its password, in one
    /// transaction. In each of their families: an admin who is the last
    /// hands over to the member who joined first; their claims and
    /// pledges are released (each a `STATUS_CHANGED` for the list's
    /// members, as any release); lists for them are deleted if they ask,
    /// else kept for the family under their name (a list for someone
    /// without an account); they leave (`MEMBER_LEFT`). A family they were
    /// alone in goes with them. Their invites are revoked, their sessions
    /// and live connections end, and their row keeps nothing of them but
    /// its id (what others made with it refers to it).
    pub async fn delete_account(
        &self,
        actor: &Actor,
        input: DeleteAccount,
    ) -> Result<(), AppError> {
        actor.member_only()?;
        let user = &actor.user_id;
        let me = self.account(user).await?;
        let stored = accounts::password_hash(self.store.pool(), user).await?;
        if !self.passwords.verify(input.password, stored).await? {
            return Err(AppError::forbidden("the password is not right"));
        }
        let mut tx = self.begin_write().await?;
        for family in families::families_of(&mut *tx, user).await? {
            self.leave_for_good(&mut tx, actor, &me, &family.id, input.delete_my_lists)
                .await?;
        }
        families::delete_invites_by(&mut *tx, user).await?;
        accounts::delete_sessions_of(&mut *tx, user, None).await?;
        accounts::delete_links_of(&mut tx, user).await?;
        accounts::scrub_user(&mut *tx, user, DELETED_NAME).await?;
        self.commit(tx).await?;
        self.bus.end_user(user, None).await;
        tracing::info!(user_id = %user, "account deleted");
        Ok(())
    }

    /// One family's part of [`Service::delete_account`].
    async fn leave_for_good(
        &self,
        tx: &mut super::Write,
        actor: &Actor,
        me: &User,
        family: &crate::model::FamilyId,
        delete_my_lists: bool,
    ) -> Result<(), AppError> {
        families::lock_family(&mut **tx, family).await?;
        let members = families::members(&mut **tx, family).await?;
        let Some(mine) = members.iter().find(|m| m.user_id == me.id).cloned() else {
            return Ok(());
        };
        let others: Vec<&Member> = members.iter().filter(|m| m.user_id != me.id).collect();
        let last_admin = mine.role == Role::Admin && !others.iter().any(|m| m.role == Role::Admin);
        if let (true, Some(next)) = (last_admin, others.first()) {
            families::set_role(&mut **tx, family, &next.user_id, Role::Admin).await?;
            let promoted = Member {
                role: Role::Admin,
                ..(*next).clone()
            };
            super::events::family_updated(tx, actor, family, next.user_id.as_str(), &promoted)
                .await?;
        }
        if others.is_empty() {
            // Nobody is left to see it: the family goes, with its lists.
            for list in lists::lists_of_family(&mut **tx, family).await? {
                lists::delete_list(tx, &list.id).await?;
            }
            families::delete_family(tx, family).await?;
            return Ok(());
        }
        super::families::release_holdings(tx, actor, family, &me.id).await?;
        for list in lists::lists_of_family(&mut **tx, family).await? {
            if list.recipient_user_id.as_ref() != Some(&me.id) {
                continue;
            }
            lists::lock_list(tx, &list.id).await?;
            if delete_my_lists {
                super::lists::delete_list_in(tx, actor, &list).await?;
            } else {
                let version = lists::set_recipient_name(&mut **tx, &list.id, &me.name)
                    .await?
                    .ok_or_else(AppError::internal)?;
                let kept = GiftList {
                    recipient_user_id: None,
                    recipient_name: Some(me.name.clone()),
                    version,
                    ..list
                };
                super::events::list(tx, actor, &kept, super::events::UPDATED, true, true).await?;
            }
        }
        families::delete_membership(&mut **tx, family, &me.id).await?;
        super::events::member(tx, actor, family, super::events::MEMBER_LEFT, &mine, &me.id).await?;
        Ok(())
    }
}

/// The name a deleted account's row keeps (it shows nowhere a member
/// would see: it belongs to no family).
const DELETED_NAME: &str = "Former member";
