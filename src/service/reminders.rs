//! Reminder mails: a week before a list's event, the family's members
//! (never the person it is for) hear how many of its gifts are still free,
//! once per list and event date. Each member can turn them off.

use super::{lists::today, Actor, Service};
use crate::{
    model::{error::AppError, GiftList, User},
    store::{accounts, lists},
};

/// How many days ahead of an event its reminder goes out.
pub const REMINDER_DAYS: u64 = 7;

impl Service {
    /// Sends the reminders that are due: for each list (not archived)
    /// whose event is within [`REMINDER_DAYS`] and not yet reminded for
    /// that date, a mail to each member but the recipient who has not
    /// turned them off, when anything on it is still free. Taking a
    /// reminder is a conditional update, so with several instances each
    /// goes out once. Run by the housekeeping timer; returns how many
    /// mails it queued.
    pub async fn send_due_reminders(&self) -> Result<usize, AppError> {
        let from = today();
        let until = (chrono::Utc::now().date_naive() + chrono::Days::new(REMINDER_DAYS))
            .format("%Y-%m-%d")
            .to_string();
        let mut sent = 0;
        for (id, day) in lists::due_for_reminder(self.store.pool(), &from, &until).await? {
            if !lists::take_reminder(self.store.writes(), &id, &day).await? {
                continue;
            }
            let Some(record) = lists::list(self.store.pool(), &id).await? else {
                continue;
            };
            let list = record.list;
            let items = lists::items_of_list(&mut *self.store.pool().acquire().await?, &id).await?;
            let free = items.iter().filter(|item| item.is_available()).count();
            if free == 0 {
                continue;
            }
            let recipient = lists::recipient_name(self.store.pool(), &list).await?;
            let link = self.links.url(&format!("/lists/{}", list.id));
            for member in accounts::members_to_remind(self.store.pool(), &list.family_id).await? {
                if Some(&member.id) == list.recipient_user_id.as_ref() {
                    continue;
                }
                self.mailer.send(reminder_mail(
                    &member,
                    &list,
                    &recipient,
                    free,
                    items.len(),
                    &link,
                ));
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Turns the caller's reminder mails on or off.
    pub async fn set_reminders(&self, actor: &Actor, on: bool) -> Result<(), AppError> {
        let patch = crate::model::input::MailChoicesPatch {
            reminders: Some(on),
            notices: None,
        };
        self.set_mail_choices(actor, patch).await.map(|_| ())
    }
}

fn reminder_mail(
    to: &User,
    list: &GiftList,
    recipient: &str,
    free: usize,
    all: usize,
    link: &str,
) -> crate::mail::Mail {
    let day = list.event_date.as_deref().unwrap_or_default();
    crate::mail::Mail::compose(
        &to.email,
        format!("{day}: {free} gifts still free on \"{}\"", list.title),
        &[
            &format!("Hello {},", to.name),
            &format!(
                "\"{}\", the list for {recipient}, is for {day}: {free} of its {all} gifts \
                 are still free to claim.",
                list.title
            ),
        ],
        Some(link),
        &["You get this a week before each event; turn it off on your settings page."],
    )
}
