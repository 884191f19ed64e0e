-- Confirmed addresses. An address is confirmed by a link mailed to it:
-- when an account is made (if the site asks for it) and when someone
-- changes to a new address (which takes effect only once confirmed).
alter table users add column email_verified_at text;

-- A confirmation link's token is never stored: only its SHA-256. Single
-- use: used_at is set when it is.
create table email_confirmations (
    token_hash text not null,
    user_id text not null,
    -- The address it confirms (the account's own, or the one to change to).
    email text not null,
    email_key text not null,
    -- Unix seconds.
    expires_at integer not null,
    used_at text,
    created_at text not null,
    constraint email_confirmations_pk primary key (token_hash),
    constraint email_confirmations_user_fk foreign key (user_id) references users (id)
);
create index email_confirmations_user_ix on email_confirmations (user_id);
