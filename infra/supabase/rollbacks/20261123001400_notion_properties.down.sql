-- Undoes 20261123001400_notion_properties.sql: sync_health as 20261123001100 made it.
drop function if exists public.release_schema_waits(text);
drop function if exists public.schema_waits();
drop function if exists public.record_notion_properties(text, text, jsonb);
drop function if exists public.notion_property_ids();
drop table if exists public.notion_properties;
create or replace function public.sync_health() returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'outbox_depth', (select count(*) from public.sync_outbox where status = 'pending'),
    'dead', (select count(*) from public.sync_outbox where status = 'dead'),
    'waiting', (select count(*) from public.sync_outbox where status = 'pending' and failure = 'waiting'),
    'oldest_pending_seconds', (select coalesce(extract(epoch from now() - min(created_at)), 0)
                               from public.sync_outbox where status = 'pending'),
    'oldest_last_synced_seconds', (select coalesce(extract(epoch from now() - min(last_synced_at)), 0) from (
        select last_synced_at from public.projects where notion_page_id is not null and deleted_at is null
        union all select last_synced_at from public.milestones where notion_page_id is not null and deleted_at is null
      ) s))
$$;
delete from supabase_migrations.schema_migrations where version = '20261123001400';
