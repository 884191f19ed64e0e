-- Group gifts, part two: members chip in. An item marked as a group gift
-- has a target amount and, once someone takes the role, an organiser;
-- each member pledges one amount in the item's currency. Never shown to
-- the list's recipient (service::surprise).

create table group_gifts (
    item_id text not null,
    target_cents bigint not null,
    organiser_user_id text,
    created_by text not null,
    created_at text not null,
    constraint group_gifts_pk primary key (item_id),
    constraint group_gifts_item_fk foreign key (item_id) references items (id) on delete cascade,
    constraint group_gifts_organiser_fk foreign key (organiser_user_id) references users (id),
    constraint group_gifts_created_by_fk foreign key (created_by) references users (id),
    constraint group_gifts_target_ck check (target_cents between 1 and 1000000000000)
);

create table pledges (
    item_id text not null,
    user_id text not null,
    amount_cents bigint not null,
    currency text not null,
    paid integer not null,
    pledged_at text not null,
    constraint pledges_pk primary key (item_id, user_id),
    constraint pledges_item_fk foreign key (item_id) references items (id) on delete cascade,
    constraint pledges_user_fk foreign key (user_id) references users (id),
    constraint pledges_amount_ck check (amount_cents between 100 and 1000000000000),
    constraint pledges_paid_ck check (paid in (0, 1))
);
