-- Gifts' pictures, stored by the app so visitors' browsers never contact a
-- shop and nothing breaks when the shop's address changes. Each picture is
-- kept in two sizes, re-encoded as JPEG (which also drops what the
-- original carried, such as a phone's location). A picture belongs to the
-- person who uploaded or imported it until an item holds it; one no item
-- holds is removed after a day (housekeeping) or as soon as its item lets
-- it go. Ids are random and never reused, so a picture's address can be
-- cached for good.
create table pictures (
    id text not null,
    owner_id text not null,
    thumb blob not null,
    medium blob not null,
    -- Unix seconds.
    created_at integer not null,
    constraint pictures_pk primary key (id)
);
create index pictures_created_ix on pictures (created_at);

alter table items add column picture_id text;
create index items_picture_ix on items (picture_id);
