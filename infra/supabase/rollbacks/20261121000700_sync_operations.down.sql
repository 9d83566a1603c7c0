-- Undoes 20261121000700_sync_operations.sql.
drop function if exists public.sync_health();
drop function if exists public.linked_records(text);
drop function if exists public.resync(text[], boolean);
delete from supabase_migrations.schema_migrations where version = '20261121000700';
