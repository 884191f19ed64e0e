-- Reminders a week before an event: the event date a list's reminder
-- went out for (once per list and date), and who asked for none.
alter table lists add column reminded_for text;
alter table users add column reminders_off bigint not null default 0;
