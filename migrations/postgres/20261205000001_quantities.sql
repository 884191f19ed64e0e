-- Group gifts, part one: an item wants a quantity (null: no limit), and
-- several givers may each hold some of its units. Existing items want one,
-- and each existing claim holds that one unit.

alter table items add column quantity integer default 1;
alter table items add constraint items_quantity_ck
    check (quantity is null or quantity between 1 and 999);

alter table claims add column units integer not null default 1;
alter table claims alter column units drop default;
alter table claims add constraint claims_units_ck check (units between 1 and 999);
alter table claims drop constraint claims_pk;
alter table claims add constraint claims_pk primary key (item_id, user_id);
