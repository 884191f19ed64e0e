//! Email addresses: confirming one's own, and changing it. Both go through
//! a link mailed to the address in question (`/confirm-email/{token}`),
//! single use, valid a day, only its SHA-256 stored. A change takes
//! effect only once the new address confirms it, and the old address is
//! told.

use super::{now_iso, now_unix, Actor, Service};
use crate::{
    model::{error::AppError, input::ChangeEmail, validate, User, UserId},
    store::accounts,
};

/// How long a confirmation link works.
const CONFIRM_TTL_SECS: i64 = 24 * 3600;

/// What a confirmation link that cannot be used is answered, whatever the
/// reason (unknown, used, expired): nothing to learn from it.
const BAD_CONFIRM: &str = "this confirmation link is invalid, used or expired: ask for a new one";

/// What joining a family is refused when the site asks for confirmed
/// addresses (`GIFTLIST_REQUIRE_VERIFIED_EMAIL`) and the caller's is not.
pub const UNCONFIRMED: &str =
    "confirm your email address first: open the link we mailed you (the settings page sends it again)";

impl Service {
    /// Asks to change the caller's address to `input.email`, given the
    /// password. The answer is the same whether or not the new address
    /// already has an account (no enumeration): a free address gets a
    /// confirmation link, a taken one a note saying someone tried. Mails
    /// to one address are limited, as reset links are.
    pub async fn request_email_change(
        &self,
        actor: &Actor,
        input: ChangeEmail,
    ) -> Result<(), AppError> {
        actor.member_only()?;
        let email = input.email.trim().to_owned();
        validate::email(&email)?;
        let me = self.account(&actor.user_id).await?;
        let stored = accounts::password_hash(self.store.pool(), &me.id).await?;
        if !self.passwords.verify(input.password, stored).await? {
            return Err(AppError::forbidden("the password is not right"));
        }
        let key = validate::email_key(&email);
        if key == validate::email_key(&me.email) {
            return Err(AppError::bad_request("this is already your address"));
        }
        self.limits.check_confirm_mail(&key)?;
        if accounts::email_key_taken(self.store.pool(), &key, &me.id).await? {
            self.mailer.send(address_taken_mail(&email));
        } else {
            self.send_confirmation(&me.id, &me.name, &email).await?;
        }
        tracing::info!(user_id = %me.id, "an address change was asked for");
        Ok(())
    }

    /// Mails the caller's own address a confirmation link (again); nothing
    /// when it is confirmed already.
    pub async fn request_verification(&self, actor: &Actor) -> Result<(), AppError> {
        actor.member_only()?;
        let me = self.account(&actor.user_id).await?;
        if accounts::email_confirmed(self.store.pool(), &me.id).await? {
            return Ok(());
        }
        self.limits
            .check_confirm_mail(&validate::email_key(&me.email))?;
        self.send_confirmation(&me.id, &me.name, &me.email).await
    }

    /// Uses a confirmation link: its address becomes the account's,
    /// confirmed. A link for an address that another account took in the
    /// meantime is refused (409) and not used up. When the address
    /// changed, the old one is told.
    pub async fn confirm_email(&self, token: &str) -> Result<User, AppError> {
        let invalid = || AppError::bad_request(BAD_CONFIRM);
        if !super::accounts::well_formed_token(token) {
            return Err(invalid());
        }
        let hash = crate::auth::links::token_hash(token);
        let mut tx = self.begin_write().await?;
        let found = accounts::open_confirmation(&mut *tx, &hash, now_unix())
            .await?
            .ok_or_else(invalid)?;
        let user = UserId(found.user_id);
        let before = accounts::user_by_id(&mut *tx, &user)
            .await?
            .ok_or_else(invalid)?;
        if accounts::email_key_taken(&mut *tx, &found.email_key, &user).await? {
            return Err(AppError::conflict(
                "an account with this email already exists",
            ));
        }
        if !accounts::use_confirmation(&mut *tx, &hash, now_unix(), &now_iso()).await? {
            return Err(invalid());
        }
        accounts::set_confirmed_email(&mut *tx, &user, &found.email, &found.email_key, &now_iso())
            .await?;
        self.commit(tx).await?;
        if validate::email_key(&before.email) != found.email_key {
            self.mailer
                .send(address_changed_mail(&before, &found.email));
            tracing::info!(user_id = %user, "address changed");
        }
        Ok(User {
            email: found.email,
            ..before
        })
    }

    /// Whether `user` may join families: always, unless the site asks for
    /// confirmed addresses and theirs is not.
    pub(super) async fn may_join(&self, user: &UserId) -> Result<(), AppError> {
        if self.require_verified_email
            && !accounts::email_confirmed(self.store.pool(), user).await?
        {
            return Err(AppError::forbidden(UNCONFIRMED));
        }
        Ok(())
    }

    /// Whether `user`'s address is confirmed.
    pub async fn email_confirmed(&self, user: &UserId) -> Result<bool, AppError> {
        Ok(accounts::email_confirmed(self.store.pool(), user).await?)
    }

    /// Stores a new confirmation link for `email` and mails it there.
    pub(super) async fn send_confirmation(
        &self,
        user: &UserId,
        name: &str,
        email: &str,
    ) -> Result<(), AppError> {
        let token = super::accounts::random_token();
        accounts::insert_confirmation(
            self.store.writes(),
            &crate::auth::links::token_hash(&token),
            user,
            email,
            &validate::email_key(email),
            now_unix() + CONFIRM_TTL_SECS,
            &now_iso(),
        )
        .await?;
        let link = self.links.url(&format!("/confirm-email/{token}"));
        self.mailer.send(confirm_mail(name, email, &link));
        Ok(())
    }
}

fn confirm_mail(name: &str, email: &str, link: &str) -> crate::mail::Mail {
    crate::mail::Mail::compose(
        email,
        "Confirm your address on Giftlist",
        &[
            &format!("Hello {name},"),
            &format!(
                "please confirm that {email} is your address on Giftlist: open this link \
                 within a day and press \"Confirm\"."
            ),
        ],
        Some(link),
        &["If you did not ask for this, ignore this mail: nothing changes."],
    )
}

/// To an address that already has an account, instead of a link: the
/// person asking learns nothing, the owner learns someone tried.
fn address_taken_mail(email: &str) -> crate::mail::Mail {
    crate::mail::Mail::compose(
        email,
        "This address already has a Giftlist account",
        &[
            "Hello,",
            "someone asked to move their Giftlist account to this address, but it already \
             belongs to an account here, so nothing changed. If it was you, log in with this \
             address instead.",
        ],
        None,
        &[],
    )
}

/// To the old address once a change is confirmed.
fn address_changed_mail(user: &User, new: &str) -> crate::mail::Mail {
    crate::mail::Mail::compose(
        &user.email,
        "Your Giftlist address was changed",
        &[
            &format!("Hello {},", user.name),
            &format!(
                "the address of your Giftlist account is now {new}; this one is no longer \
                 used. If you did not do this, reset your password from the login page and \
                 tell whoever runs the site."
            ),
        ],
        None,
        &[],
    )
}
