//! Accounts: registering, checking passwords, tokens, and "who am I".

use std::net::IpAddr;

use super::{new_id, now_iso, Service};
use crate::{
    model::{
        error::AppError,
        input::{Credentials, Register},
        validate, Me, Token, User, UserId,
    },
    store::{accounts, families},
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

    /// The user and their families.
    pub async fn me(&self, user: &UserId) -> Result<Me, AppError> {
        let Some(found) = accounts::user_by_id(self.store.pool(), user).await? else {
            return Err(AppError::unauthorized("this account no longer exists"));
        };
        let families = families::families_of(self.store.pool(), user).await?;
        Ok(Me {
            user: found,
            families,
        })
    }
}
