-- The hourly outbox pruning looks events up by age.
create index events_created_at_ix on events (created_at);
