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
    resets: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
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
    pub fn new(per_ip: Rate, per_account: Rate, link_misses: Rate, resets: Rate) -> AuthLimits {
        AuthLimits {
            by_ip: RateLimiter::keyed(per_ip.quota()),
            by_account: RateLimiter::keyed(per_account.quota()),
            link_misses: RateLimiter::keyed(link_misses.quota()),
            resets: RateLimiter::keyed(resets.quota()),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt from `ip`; 429 when it has made too many.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), AppError> {
        self.by_ip.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::rate_limited(
                "too many attempts from your address; wait a little and try again",
                wait.as_secs() + 1,
            )
        })
    }

    /// Counts one attempt on the account `email_key`; 429 when it has had
    /// too many. The answer is the same whether or not the account exists.
    pub fn check_account(&self, email_key: &str) -> Result<(), AppError> {
        self.by_account
            .check_key(&email_key.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                AppError::rate_limited(
                    "too many attempts for this account; wait a little and try again",
                    wait.as_secs() + 1,
                )
            })
    }

    /// Counts one share or guest link from `ip` that does not exist: 429
    /// instead of 404 once it has opened too many (someone guessing).
    pub fn check_link_miss(&self, ip: IpAddr) -> Result<(), AppError> {
        self.link_misses.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::rate_limited(
                "too many unknown links from your address; wait a little and try again",
                wait.as_secs() + 1,
            )
        })
    }

    /// Counts one reset mail asked for `email_key`; 429 beyond the limit.
    /// The answer is the same whether or not the account exists.
    pub fn check_reset(&self, email_key: &str) -> Result<(), AppError> {
        self.resets
            .check_key(&email_key.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                AppError::rate_limited(
                    "a reset link was sent to this address a moment ago; wait a little before asking again",
                    wait.as_secs() + 1,
                )
            })
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
        self.resets.retain_recent();
        self.resets.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_429_with_retry_after() {
        let limits = AuthLimits::new(
            Rate {
                per_minute: 60,
                burst: 3,
            },
            Rate {
                per_minute: 1,
                burst: 2,
            },
            Rate {
                per_minute: 1,
                burst: 1,
            },
            Rate {
                per_minute: 1,
                burst: 1,
            },
        );
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
    }
}
