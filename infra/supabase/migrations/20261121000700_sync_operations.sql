-- Sync operations: push everything again, compare every linked record, and the health figures for metrics.
-- Rollback: infra/supabase/rollbacks/20261121000700_sync_operations.down.sql

-- Queue every live record of the entities given; with p_force, forget what was pushed so all is sent again.
create or replace function public.resync(p_entities text[], p_force boolean) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_entity text;
  v_count integer := 0;
  v_rows integer;
begin
  foreach v_entity in array p_entities loop
    if p_force then
      execute format('update public.%I set notion_pushed_hash = null where deleted_at is null',
                     app_private.synced_table(v_entity));
    end if;
    execute format('select count(*) from (select app_private.enqueue_sync(%L, id) from public.%I'
                   ' where deleted_at is null) queued', v_entity, app_private.synced_table(v_entity)) into v_rows;
    v_count := v_count + v_rows;
  end loop;
  return jsonb_build_object('queued', v_count);
end
$$;

-- Every linked record of an entity as Notion should show it, for `atelier check`.
create or replace function public.linked_records(p_entity text) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_result jsonb;
begin
  execute format('select coalesce(jsonb_agg(jsonb_build_object(''id'', id, ''record'','
                 ' app_private.sync_record(%L, id))), ''[]''::jsonb) from public.%I'
                 ' where notion_page_id is not null and deleted_at is null', p_entity, app_private.synced_table(p_entity))
    into v_result;
  return v_result;
end
$$;

create or replace function public.sync_health() returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'outbox_depth', (select count(*) from public.sync_outbox where status = 'pending'),
    'dead', (select count(*) from public.sync_outbox where status = 'dead'),
    'oldest_pending_seconds', (select coalesce(extract(epoch from now() - min(created_at)), 0)
                               from public.sync_outbox where status = 'pending'),
    'oldest_last_synced_seconds', (select coalesce(extract(epoch from now() - min(last_synced_at)), 0) from (
        select last_synced_at from public.projects where notion_page_id is not null and deleted_at is null
        union all select last_synced_at from public.milestones where notion_page_id is not null and deleted_at is null
      ) s))
$$;

revoke execute on function public.resync, public.linked_records, public.sync_health from public, anon, authenticated;
grant execute on function public.resync, public.linked_records, public.sync_health to service_role;
