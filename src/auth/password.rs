//! Password hashing with argon2id, off the async runtime.
//!
//! Hashing is deliberately slow (tens of milliseconds of CPU and 19 MiB of
//! memory each), so it runs on the blocking pool, and a semaphore lets only
//! as many run at once as there are cores: fifty logins at once queue here
//! instead of starving every other request of threads and memory. The
//! queue is bounded in time: a request that cannot get a slot within the
//! configured wait is answered 503 with `Retry-After`, so a flood cannot
//! delay every real login without end.

use std::sync::Arc;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use tokio::sync::Semaphore;

use crate::model::error::AppError;

/// OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// Hashes and verifies passwords, a few at a time.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// How long a request may wait for a permit.
    wait: std::time::Duration,
    /// Verified against when the email is unknown, so an unknown email
    /// costs as much time as a wrong password and timing tells nothing.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("available", &self.permits.available_permits())
            .finish()
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("the argon2 parameters are constants within argon2's limits");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &[u8]) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2().hash_password(password, &salt)?.to_string())
}

fn verify_blocking(password: &[u8], hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| argon2().verify_password(password, &parsed).is_ok())
        .unwrap_or(false)
}

impl Passwords {
    /// As many hashing slots as cores; a request waits at most `wait` for one.
    pub fn new(wait: std::time::Duration) -> Self {
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        let dummy_hash = hash_blocking(b"not anybody's password")
            .expect("hashing a constant with valid parameters succeeds");
        Self {
            permits: Arc::new(Semaphore::new(parallel)),
            wait,
            dummy_hash: dummy_hash.into(),
        }
    }

    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, AppError> {
        match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(AppError::internal()),
            Err(_) => {
                tracing::warn!("no password-hashing slot within the wait; answering 503");
                Err(AppError::unavailable(
                    "the server is busy checking passwords; try again in a moment",
                    2,
                ))
            }
        }
    }

    /// The PHC string for a new password.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let _permit = self.permit().await?;
        tokio::task::spawn_blocking(move || hash_blocking(password.as_bytes()))
            .await
            .map_err(|err| {
                tracing::error!(cause = %err, "password hashing task failed");
                AppError::internal()
            })?
            .map_err(|err| {
                tracing::error!(cause = %err, "password hashing failed");
                AppError::internal()
            })
    }

    /// Whether `password` matches `hash`; with no hash (unknown account)
    /// the same work is done and the answer is no.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        let _permit = self.permit().await?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches =
            tokio::task::spawn_blocking(move || verify_blocking(password.as_bytes(), &hash))
                .await
                .map_err(|err| {
                    tracing::error!(cause = %err, "password verification task failed");
                    AppError::internal()
                })?;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_with_the_minimum_cost() {
        let passwords = Passwords::new(std::time::Duration::from_secs(5));
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(passwords
            .verify("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!passwords
            .verify("wrong horse".into(), Some(hash))
            .await
            .unwrap());
        assert!(!passwords
            .verify("correct horse".into(), None)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_is_answered_503_after_the_wait() {
        let passwords = Passwords::new(std::time::Duration::from_millis(50));
        let _held: Vec<_> = (0..passwords.permits.available_permits())
            .map(|_| passwords.permits.try_acquire().unwrap())
            .collect();
        let refused = passwords.hash("correct horse".into()).await.unwrap_err();
        assert_eq!(refused.code.status(), 503);
        assert_eq!(refused.retry_after, Some(2));
    }
}
