-- The outbox: per-stream sequence counters and the recorded events.
-- Only BIGINT and TEXT columns: sqlx's Any driver maps nothing else on
-- both backends.

create table streams (
    topic text not null,
    audience text not null,
    last_seq bigint not null,
    constraint streams_pk primary key (topic, audience),
    constraint streams_audience_ck check (audience in ('all', 'members', 'recipient'))
);

create table events (
    topic text not null,
    audience text not null,
    seq bigint not null,
    event text not null,
    entity_id text not null,
    payload text not null,
    user_id text,
    tenant_id text,
    created_at text not null,
    trace_id text not null,
    constraint events_pk primary key (topic, audience, seq),
    constraint events_stream_fk foreign key (topic, audience) references streams (topic, audience)
);
