-- Claimers' notices that no live page of theirs has been given yet. A
-- notice (an item someone claimed was changed or removed) is kept here,
-- in the change's own transaction, until a live connection of its holder
-- is given it; what is still here after a few minutes goes out in their
-- digest mail (at most one an hour) and is removed then. The titles are
-- copied: the list or item may be gone by the time the mail is written.
create table unseen_notices (
    user_id text not null,
    -- The notice's seq on the holder's user:{id} stream.
    seq integer not null,
    family_id text not null,
    list_id text not null,
    list_title text not null,
    item_id text not null,
    item_title text not null,
    -- 1: the item was removed; 0: changed.
    removed integer not null,
    -- Unix seconds.
    created_at integer not null,
    constraint unseen_notices_pk primary key (user_id, seq),
    constraint unseen_notices_user_fk foreign key (user_id) references users (id)
);
create index unseen_notices_created_ix on unseen_notices (created_at);

-- Who asked for no notice mails, and when each person's last digest went
-- out (unix seconds), for the one-an-hour rule across instances.
alter table users add column notice_mails_off integer not null default 0;
alter table users add column notices_mailed_at integer;
