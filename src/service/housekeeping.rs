//! What the server does on a timer: it clears away what would otherwise
//! grow without bound (expired sessions, announced events nobody can
//! replay any more, idle rate-limit buckets), opens the thank-you views of
//! lists whose event is over, and mails the reminders a week before one.

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
        match self.open_due_reveals().await {
            Ok(0) => {}
            Ok(opened) => tracing::info!(
                opened,
                "opened thank-you views of lists whose event is over"
            ),
            Err(err) => tracing::warn!(code = err.code.as_str(), "could not open thank-you views"),
        }
        match self.send_due_reminders().await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "queued reminder mails"),
            Err(err) => tracing::warn!(code = err.code.as_str(), "could not send reminders"),
        }
        match self.forget_unused_pictures().await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed pictures no gift shows"),
            Err(err) => {
                tracing::warn!(code = err.code.as_str(), "could not remove unused pictures")
            }
        }
        self.limits.forget_idle();
        self.importer.forget_idle();
    }
}
