-- Password resets, and sessions known by their user (so a reset or a
-- password change can end every other session of that user).

alter table sessions add column user_id text;
create index sessions_user_ix on sessions (user_id);

-- A reset link's token is never stored: only its SHA-256. Single use:
-- used_at is set when it is.
create table password_resets (
    token_hash text not null,
    user_id text not null,
    -- Unix seconds.
    expires_at integer not null,
    used_at text,
    created_at text not null,
    constraint password_resets_pk primary key (token_hash),
    constraint password_resets_user_fk foreign key (user_id) references users (id)
);
create index password_resets_user_ix on password_resets (user_id);

-- Sessions logged in before this knew their user only inside their data.
update sessions set user_id = json_extract(data, '$.user_id') where json_valid(data);
