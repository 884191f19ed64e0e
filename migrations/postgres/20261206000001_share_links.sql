-- Share links and guests. A list can be shared by a link: a givers' link
-- (guests see what is still available and may claim or pledge) or a view
-- link (the list only). Guests have no account: each is a `users` row
-- without credentials (its email key `guest:<id>` is no address anyone can
-- log in with), tied to the link it came through, so claims, pledges and
-- their races work for them exactly as for members. Tokens are never
-- stored: only their SHA-256.

create table share_links (
    id text not null,
    list_id text not null,
    kind text not null,
    token_hash text not null,
    created_by text not null,
    created_at text not null,
    -- Unix seconds; null: no expiry.
    expires_at bigint,
    revoked_at text,
    constraint share_links_pk primary key (id),
    constraint share_links_token_uq unique (token_hash),
    constraint share_links_list_fk foreign key (list_id) references lists (id) on delete cascade,
    constraint share_links_created_by_fk foreign key (created_by) references users (id),
    constraint share_links_kind_ck check (kind in ('givers', 'view'))
);
create index share_links_list_ix on share_links (list_id);

create table guests (
    user_id text not null,
    share_id text not null,
    email text,
    token_hash text not null,
    created_at text not null,
    constraint guests_pk primary key (user_id),
    constraint guests_token_uq unique (token_hash),
    constraint guests_user_fk foreign key (user_id) references users (id),
    constraint guests_share_fk foreign key (share_id) references share_links (id) on delete cascade
);
create index guests_share_ix on guests (share_id);

-- Two more audiences of a list's topic: guests of givers' links and of
-- view links.
alter table streams drop constraint streams_audience_ck;
alter table streams add constraint streams_audience_ck
    check (audience in ('all', 'members', 'recipient', 'guests', 'viewers'));
