-- Group gifts, part one: an item wants a quantity (null: no limit), and
-- several givers may each hold some of its units. Existing items want one,
-- and each existing claim holds that one unit.

alter table items add column quantity integer default 1
    constraint items_quantity_ck check (quantity is null or quantity between 1 and 999);

-- SQLite cannot change a primary key in place: the table is rebuilt, one
-- row per (item, giver) now.
create table claims_by_giver (
    item_id text not null,
    user_id text not null,
    status text not null,
    units integer not null,
    claimed_at text not null,
    constraint claims_pk primary key (item_id, user_id),
    constraint claims_item_fk foreign key (item_id) references items (id) on delete cascade,
    constraint claims_user_fk foreign key (user_id) references users (id),
    constraint claims_status_ck check (status in ('reserved', 'purchased')),
    constraint claims_units_ck check (units between 1 and 999)
);
insert into claims_by_giver (item_id, user_id, status, units, claimed_at)
    select item_id, user_id, status, 1, claimed_at from claims;
drop table claims;
alter table claims_by_giver rename to claims;
