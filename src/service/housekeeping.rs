//! What the server clears away on a timer so nothing grows without bound:
//! expired sessions, announced events nobody can replay any more, and idle
//! rate-limit buckets.

use super::Service;
use crate::store::{accounts, outbox};

impl Service {
    /// One round of housekeeping. Failures are logged and retried on the
    /// next round; none of this is urgent.
    pub async fn housekeeping(&self, retention: std::time::Duration) {
        let now = chrono::Utc::now();
        match accounts::delete_expired_sessions(self.store.writes(), now.timestamp()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "removed expired sessions"),
            Err(err) => tracing::warn!(cause = %err, "could not remove expired sessions"),
        }
        match accounts::delete_expired_resets(self.store.writes(), now.timestamp()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "removed expired reset links"),
            Err(err) => tracing::warn!(cause = %err, "could not remove expired reset links"),
        }
        let retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
        let before = now
            .checked_sub_signed(retention)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        match outbox::prune(self.store.writes(), &super::iso(before), outbox::MAX_REPLAY).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "pruned old events from the outbox"),
            Err(err) => tracing::warn!(cause = %err, "could not prune the outbox"),
        }
        self.limits.forget_idle();
    }
}
