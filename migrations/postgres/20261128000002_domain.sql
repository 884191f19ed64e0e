-- Accounts, sessions, families, lists, items and claims.
-- Timestamps shown to people are ISO 8601 text in UTC; expiry times that
-- are compared are unix seconds. Only BIGINT and TEXT: see 0001.

create table users (
    id text not null,
    email text not null,
    email_key text not null,
    name text not null,
    password_hash text not null,
    created_at text not null,
    constraint users_pk primary key (id),
    constraint users_email_key_uq unique (email_key)
);

-- Browser sessions. The id is stored hashed: a copy of this table does not
-- let anyone log in.
create table sessions (
    id_hash text not null,
    data text not null,
    expires_at bigint not null,
    constraint sessions_pk primary key (id_hash)
);
create index sessions_expires_at_ix on sessions (expires_at);

create table families (
    id text not null,
    name text not null,
    created_by text not null,
    created_at text not null,
    constraint families_pk primary key (id),
    constraint families_created_by_fk foreign key (created_by) references users (id)
);

create table memberships (
    family_id text not null,
    user_id text not null,
    role text not null,
    joined_at text not null,
    constraint memberships_pk primary key (family_id, user_id),
    constraint memberships_family_fk foreign key (family_id) references families (id) on delete cascade,
    constraint memberships_user_fk foreign key (user_id) references users (id),
    constraint memberships_role_ck check (role in ('admin', 'member'))
);
create index memberships_user_ix on memberships (user_id);

create table invites (
    code text not null,
    family_id text not null,
    created_by text not null,
    expires_at bigint not null,
    created_at text not null,
    constraint invites_pk primary key (code),
    constraint invites_family_fk foreign key (family_id) references families (id) on delete cascade,
    constraint invites_created_by_fk foreign key (created_by) references users (id)
);

create table lists (
    id text not null,
    family_id text not null,
    title text not null,
    recipient_user_id text,
    recipient_name text,
    created_by text not null,
    version bigint not null,
    created_at text not null,
    constraint lists_pk primary key (id),
    constraint lists_family_fk foreign key (family_id) references families (id) on delete cascade,
    constraint lists_recipient_user_fk foreign key (recipient_user_id) references users (id),
    constraint lists_created_by_fk foreign key (created_by) references users (id),
    constraint lists_one_recipient_ck check ((recipient_user_id is null) <> (recipient_name is null))
);
create index lists_family_ix on lists (family_id);

create table items (
    id text not null,
    list_id text not null,
    title text not null,
    url text,
    price_cents bigint,
    currency text not null,
    notes text,
    priority bigint not null,
    version bigint not null,
    created_by text not null,
    created_at text not null,
    updated_at text not null,
    constraint items_pk primary key (id),
    constraint items_list_fk foreign key (list_id) references lists (id) on delete cascade,
    constraint items_created_by_fk foreign key (created_by) references users (id),
    constraint items_priority_ck check (priority between 1 and 5)
);
create index items_list_ix on items (list_id);

-- One holder per item: the primary key decides between concurrent claimers.
create table claims (
    item_id text not null,
    user_id text not null,
    status text not null,
    claimed_at text not null,
    constraint claims_pk primary key (item_id),
    constraint claims_item_fk foreign key (item_id) references items (id) on delete cascade,
    constraint claims_user_fk foreign key (user_id) references users (id),
    constraint claims_status_ck check (status in ('reserved', 'purchased'))
);
