-- A list's event (a birthday, a holiday): its date, whether the list is
-- archived (read-only, out of the way), and whether the recipient may see
-- what was given from the day after the event (and when that happened).
alter table lists add column event_date text;
alter table lists add column archived_at text;
alter table lists add column reveal_after_event integer not null default 0;
alter table lists add column revealed_at text;
create index lists_reveal_ix on lists (revealed_at, reveal_after_event);
