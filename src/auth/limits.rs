//! Limits on password guessing: log-in, token and register attempts are
//! counted per client address and, for log-in and token, per account (by
//! its email key), each a token bucket from `governor`. Going over answers
//! 429 `rate_limited` with `Retry-After`, before any password is hashed, so
//! a flood costs the server almost nothing.

use std::{net::IpAddr, num::NonZeroU32};

use governor::{
    clock::{Clock, DefaultClock},
    DefaultKeyedRateLimiter, Quota, RateLimiter,
};

use crate::model::error::AppError;

/// A rate: so many per minute on average, and so many at once.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    fn quota(self) -> Quota {
        let nonzero = |n: u32| NonZeroU32::new(n.max(1)).expect("at least 1");
        Quota::per_minute(nonzero(self.per_minute)).allow_burst(nonzero(self.burst))
    }
}

/// The per-address and per-account buckets of one process.
pub struct AuthLimits {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
    /// Share and guest links opened that do not exist, per address.
    link_misses: DefaultKeyedRateLimiter<IpAddr>,
    /// Password-reset mails asked for, per email key: nobody can make
    /// Giftlist flood someone's mailbox.
    /// Mails to one address (reset and confirmation links, invites),
    /// keyed by kind and address.
    mails_to: DefaultKeyedRateLimiter<String>,
    invite_mails: DefaultKeyedRateLimiter<crate::model::UserId>,
    clock: DefaultClock,
}

/// The rates of [`AuthLimits`], one per kind of attempt.
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    /// Logins, registrations and resets per client address.
    pub per_ip: Rate,
    /// Logins per account.
    pub per_account: Rate,
    /// Share and guest links that do not exist, per client address.
    pub link_misses: Rate,
    /// Mails to one address (reset links, invites).
    pub mails_per_address: Rate,
    /// Invites one member mails.
    pub invite_mails: Rate,
}

impl std::fmt::Debug for AuthLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLimits")
            .field("addresses", &self.by_ip.len())
            .field("accounts", &self.by_account.len())
            .finish()
    }
}

impl AuthLimits {
    pub fn new(rates: Rates) -> AuthLimits {
        AuthLimits {
            by_ip: RateLimiter::keyed(rates.per_ip.quota()),
            by_account: RateLimiter::keyed(rates.per_account.quota()),
            link_misses: RateLimiter::keyed(rates.link_misses.quota()),
            mails_to: RateLimiter::keyed(rates.mails_per_address.quota()),
            invite_mails: RateLimiter::keyed(rates.invite_mails.quota()),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt on `key` in `limiter`: 429 with `message` and
    /// the seconds to wait once it has had too many.
    fn count<K: Clone + Eq + std::hash::Hash>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
        message: &'static str,
    ) -> Result<(), AppError> {
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::rate_limited(message, wait.as_secs() + 1)
        })
    }

    /// Counts one attempt from `ip`; 429 when it has made too many.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), AppError> {
        self.count(
            &self.by_ip,
            &ip,
            "too many attempts from your address; wait a little and try again",
        )
    }

    /// Counts one attempt on the account `email_key`; 429 when it has had
    /// too many. The answer is the same whether or not the account exists.
    pub fn check_account(&self, email_key: &str) -> Result<(), AppError> {
        self.count(
            &self.by_account,
            &email_key.to_owned(),
            "too many attempts for this account; wait a little and try again",
        )
    }

    /// Counts one share or guest link from `ip` that does not exist: 429
    /// instead of 404 once it has opened too many (someone guessing).
    pub fn check_link_miss(&self, ip: IpAddr) -> Result<(), AppError> {
        self.count(
            &self.link_misses,
            &ip,
            "too many unknown links from your address; wait a little and try again",
        )
    }

    /// Counts one reset mail asked for `email_key`; 429 beyond the limit.
    /// The answer is the same whether or not the account exists.
    pub fn check_reset(&self, email_key: &str) -> Result<(), AppError> {
        self.count(
            &self.mails_to,
            &email_key.to_owned(),
            "a reset link was sent to this address a moment ago; wait a little before asking again",
        )
    }

    /// An invite that `user` mails to the address keyed `email_key`:
    /// limited per member, and per address at the reset links' rate,
    /// counted apart (so that nobody is flooded with mail from this site).
    pub fn check_invite_mail(
        &self,
        user: &crate::model::UserId,
        email_key: &str,
    ) -> Result<(), AppError> {
        self.count(
            &self.invite_mails,
            user,
            "you have mailed many invites just now; wait a little and try again",
        )?;
        self.count(
            &self.mails_to,
            &format!("invite:{email_key}"),
            "an invite was mailed to this address a moment ago; wait a little before mailing it again",
        )
    }

    /// A confirmation link mailed to the address keyed `email_key`
    /// (at the reset links' rate, counted apart).
    pub fn check_confirm_mail(&self, email_key: &str) -> Result<(), AppError> {
        self.count(
            &self.mails_to,
            &format!("confirm:{email_key}"),
            "a confirmation link was sent to this address a moment ago; wait a little before asking again",
        )
    }

    /// Forgets buckets that are full again, so the maps do not grow with
    /// every address ever seen. Called by the periodic sweep.
    pub fn forget_idle(&self) {
        self.by_ip.retain_recent();
        self.by_ip.shrink_to_fit();
        self.by_account.retain_recent();
        self.by_account.shrink_to_fit();
        self.link_misses.retain_recent();
        self.link_misses.shrink_to_fit();
        self.mails_to.retain_recent();
        self.mails_to.shrink_to_fit();
        self.invite_mails.retain_recent();
        self.invite_mails.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_429_with_retry_after() {
        let one = Rate {
            per_minute: 1,
            burst: 1,
        };
        let limits = AuthLimits::new(Rates {
            per_ip: Rate {
                per_minute: 60,
                burst: 3,
            },
            per_account: Rate {
                per_minute: 1,
                burst: 2,
            },
            link_misses: one,
            mails_per_address: one,
            invite_mails: Rate {
                per_minute: 1,
                burst: 2,
            },
        });
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            limits.check_ip(ip).unwrap();
        }
        let refused = limits.check_ip(ip).unwrap_err();
        assert_eq!(refused.code.status(), 429);
        assert!(refused.retry_after.is_some_and(|s| (1..=2).contains(&s)));
        // Another address is not affected.
        limits.check_ip("192.0.2.8".parse().unwrap()).unwrap();

        limits.check_account("a@example.org").unwrap();
        limits.check_account("a@example.org").unwrap();
        let refused = limits.check_account("a@example.org").unwrap_err();
        assert!(refused.retry_after.is_some_and(|s| s >= 30), "{refused:?}");
        limits.check_account("b@example.org").unwrap();

        limits.check_link_miss(ip).unwrap();
        assert_eq!(limits.check_link_miss(ip).unwrap_err().code.status(), 429);

        // Invites: one per address a minute, two per member at once; a
        // reset link to the same address counts on its own.
        let (ann, bo) = (
            crate::model::UserId("u_ann".into()),
            crate::model::UserId("u_bo".into()),
        );
        limits.check_invite_mail(&ann, "x@example.org").unwrap();
        assert_eq!(
            limits
                .check_invite_mail(&bo, "x@example.org")
                .unwrap_err()
                .code
                .status(),
            429
        );
        limits.check_invite_mail(&ann, "y@example.org").unwrap();
        assert_eq!(
            limits
                .check_invite_mail(&ann, "z@example.org")
                .unwrap_err()
                .code
                .status(),
            429
        );
        limits.check_reset("x@example.org").unwrap();
    }
}
