-- Undoes 20261122000900_deliverables.sql. Deliverables already recorded stay.
drop function if exists public.deliverable_file(uuid);
drop function if exists public.record_deliverable(text, uuid, text, text, text, uuid, text, text, bigint, text, text,
                                                  text);
alter table public.deliverables drop column if exists s3_event_id;
delete from supabase_migrations.schema_migrations where version = '20261122000900';
