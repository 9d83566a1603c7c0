-- Undoes 20261121000600_sync_pull.sql. Watermarks in sync_state stay.
drop function if exists public.sync_watermarks();
drop function if exists public.retry_outbox(bigint[], boolean);
drop function if exists public.outbox_rows(text, integer);
drop function if exists public.release_sync_lease(text, text);
drop function if exists public.take_sync_lease(text, text, integer);
drop table if exists public.sync_lease;
drop function if exists public.apply_notion_changes(text, text, jsonb, timestamptz);
drop function if exists public.sync_pull_state(text, uuid[]);
drop function if exists app_private.synced_table(text);
delete from supabase_migrations.schema_migrations where version = '20261121000600';
