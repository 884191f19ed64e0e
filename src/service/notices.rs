//! Claimers' notices by mail. Someone whose claimed (or chipped-in) gift is
//! changed or removed by another member gets a notice on their own stream;
//! the pages show it at once. Whoever had no page open gets the same
//! notices by mail instead: each notice is kept (in the change's
//! transaction) until the hub gives it to one of their live connections,
//! and what is still kept after [`NoticeMails::delay`] goes out as one
//! digest, at most one per person every [`NoticeMails::every`]. Each
//! person can turn these mails off.
//!
//! The surprise rule holds by construction: a notice is recorded only for
//! a holder of a claim or pledge, never for the person a list is for (who
//! cannot hold one), and only about families the holder is still in when
//! the digest is written.

use std::{collections::BTreeMap, time::Duration};

use tokio::sync::mpsc::UnboundedReceiver;

use super::{Actor, Service};
use crate::{
    mail::Mail,
    model::{error::AppError, input::MailChoicesPatch, MailChoices, User, UserId},
    store::{accounts, notices, notices::UnseenNotice, Store},
};

/// When notices go out by mail.
#[derive(Clone, Copy, Debug)]
pub struct NoticeMails {
    /// How long a notice waits for a live page of its holder before it is
    /// mailed (the live path takes milliseconds; this covers an instance's
    /// report arriving late).
    pub delay: Duration,
    /// At most one digest per person this often.
    pub every: Duration,
}

impl NoticeMails {
    /// How often the timer looks for digests that are due: often enough
    /// that a digest waits little past its delay, at most once a second.
    pub fn check_every(&self) -> Duration {
        (self.delay / 2).clamp(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl Service {
    /// Mails each person whose notices waited [`NoticeMails::delay`]
    /// unseen, and whose last digest is [`NoticeMails::every`] old, one
    /// digest of them, as of `now` (unix seconds). Each digest is taken
    /// with a conditional update in the transaction that forgets its
    /// notices, so with several instances it goes out once. Run by a
    /// timer; returns how many mails it queued.
    pub async fn send_notice_digests(&self, now: i64) -> Result<usize, AppError> {
        let before = now.saturating_sub(secs(self.notice_mails.delay));
        let mailed_before = now.saturating_sub(secs(self.notice_mails.every));
        let mut sent = 0;
        for holder in notices::due_holders(self.store.pool(), before, mailed_before).await? {
            let mut tx = self.store.begin_write().await?;
            let user = accounts::user_by_id(&mut *tx, &holder).await?;
            let wants = accounts::mail_choices(&mut *tx, &holder)
                .await?
                .is_some_and(|choices| choices.notices);
            let due = match (&user, wants) {
                (Some(_), true) => notices::due(&mut *tx, &holder, before).await?,
                _ => Vec::new(),
            };
            if !due.is_empty()
                && !notices::take_digest(&mut *tx, &holder, now, mailed_before).await?
            {
                // Another instance mailed it meanwhile.
                continue;
            }
            notices::forget(&mut *tx, &holder, before).await?;
            tx.commit().await?;
            if let (Some(user), false) = (user, due.is_empty()) {
                self.mailer.send(self.digest_mail(&user, &due));
                sent += 1;
            }
        }
        Ok(sent)
    }

    fn digest_mail(&self, to: &User, due: &[UnseenNotice]) -> Mail {
        // One line per gift, as it last was: a gift changed, then removed,
        // was removed.
        let mut latest: BTreeMap<&str, &UnseenNotice> = BTreeMap::new();
        for notice in due {
            latest.insert(&notice.item_id, notice);
        }
        let mut told: Vec<&UnseenNotice> = latest.into_values().collect();
        told.sort_by_key(|notice| notice.seq);
        let lines: Vec<String> = told
            .iter()
            .map(|notice| {
                let what = if notice.removed == 1 {
                    "was removed"
                } else {
                    "was changed"
                };
                format!(
                    "- \"{}\" on \"{}\" {what}.",
                    notice.item_title, notice.list_title
                )
            })
            .collect();
        let mut lists: Vec<&str> = told.iter().map(|n| n.list_id.as_str()).collect();
        lists.sort_unstable();
        lists.dedup();
        let link = match lists.as_slice() {
            [one] => self.links.url(&format!("/lists/{one}")),
            _ => self.links.url("/"),
        };
        let subject = match told.len() {
            1 => "A gift you claimed has changed".to_owned(),
            n => format!("{n} gifts you claimed have changed"),
        };
        let hello = format!("Hello {},", to.name);
        let intro = "While you were away, someone changed or removed gifts you claimed \
                     or chipped in for:";
        let mut before: Vec<&str> = vec![&hello, intro];
        before.extend(lines.iter().map(String::as_str));
        Mail::compose(
            &to.email,
            subject,
            &before,
            Some(&link),
            &[
                "You get at most one of these an hour, only for what you missed; \
                 turn them off on your settings page.",
            ],
        )
    }

    /// Which mails `user` gets.
    pub async fn mail_choices(&self, user: &UserId) -> Result<MailChoices, AppError> {
        accounts::mail_choices(self.store.pool(), user)
            .await?
            .ok_or_else(|| AppError::unauthorized("this account no longer exists"))
    }

    /// Turns the caller's mails of each kind on or off; returns what they
    /// now get.
    pub async fn set_mail_choices(
        &self,
        actor: &Actor,
        patch: MailChoicesPatch,
    ) -> Result<MailChoices, AppError> {
        actor.member_only()?;
        if patch.reminders.is_none() && patch.notices.is_none() {
            return Err(AppError::bad_request("give reminders, notices or both"));
        }
        accounts::set_mail_choices(
            self.store.writes(),
            &actor.user_id,
            patch.reminders,
            patch.notices,
        )
        .await?
        .ok_or_else(|| AppError::unauthorized("this account no longer exists"))
    }
}

/// Forgets the notices the hub reports given to a live connection (see
/// [`crate::live::hub::Hub::report_notices`]), until the hub is gone. A
/// failure is logged: that notice is then mailed, once, as if missed.
pub async fn forget_given(store: Store, mut given: UnboundedReceiver<(UserId, i64, i64)>) {
    while let Some((user, after, upto)) = given.recv().await {
        if let Err(err) = notices::seen(store.writes(), &user, after, upto).await {
            tracing::warn!(cause = %err, "could not mark notices as seen");
        }
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}
