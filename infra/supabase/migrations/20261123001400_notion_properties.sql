-- Properties by id: the stable id Notion gives each mapped property, per data source, so the team may rename
-- anything ("Atelier ID" and "Last Synced" included) and the sync still finds it. Written by `notion setup` and
-- whenever the engine re-reads a schema; read once per run.
-- Rows waiting for a schema: a push that Notion refused because a mapped property is missing or retyped waits
-- (failure 'waiting' with no parent to wait for) instead of using up its refusals, and goes as soon as the schema
-- is whole again (`release_schema_waits`, called by the engine, `notion setup` and the schema webhook).
-- Rollback: infra/supabase/rollbacks/20261123001400_notion_properties.down.sql

create table public.notion_properties (
  data_source_id text not null,
  entity public.sync_entity not null,
  key text not null check (length(key) between 1 and 200),          -- the mapping's name for the property
  property_id text not null check (length(property_id) between 1 and 200),  -- Notion's stable id
  name text not null,                                                -- what the team calls it now
  kind text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (data_source_id, key)
);
alter table public.notion_properties enable row level security;
create policy notion_properties_select on public.notion_properties for select to authenticated
  using (app_private.is_team());
create policy notion_properties_insert on public.notion_properties for insert to authenticated
  with check (app_private.is_admin());
create policy notion_properties_update on public.notion_properties for update to authenticated
  using (app_private.is_admin()) with check (app_private.is_admin());
create policy notion_properties_delete on public.notion_properties for delete to authenticated
  using (app_private.is_admin());
create trigger notion_properties_updated_at before update on public.notion_properties for each row
  execute function app_private.set_updated_at();

-- {data_source_id: {key: {id, name, kind}}}
create or replace function public.notion_property_ids() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_object_agg(data_source_id, props), '{}'::jsonb) from (
    select data_source_id, jsonb_object_agg(key, jsonb_build_object('id', property_id, 'name', name, 'kind', kind))
           as props
      from public.notion_properties group by data_source_id) d
$$;

-- A data source's map as the engine last read it: p_properties {key: {id, name, kind}} replaces what was kept.
create or replace function public.record_notion_properties(p_entity text, p_data_source_id text,
                                                           p_properties jsonb) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  if jsonb_typeof(p_properties) <> 'object' then
    raise exception 'record_notion_properties: p_properties must be an object' using errcode = '22023';
  end if;
  delete from public.notion_properties
   where data_source_id = p_data_source_id and not (p_properties ? key);
  insert into public.notion_properties as n (data_source_id, entity, key, property_id, name, kind)
  select p_data_source_id, p_entity::public.sync_entity, k, v->>'id', coalesce(v->>'name', k), coalesce(v->>'kind', '')
    from jsonb_each(p_properties) as e(k, v)
  on conflict (data_source_id, key) do update
    set property_id = excluded.property_id, name = excluded.name, kind = excluded.kind, entity = excluded.entity
    where (n.property_id, n.name, n.kind, n.entity) is distinct from
          (excluded.property_id, excluded.name, excluded.kind, excluded.entity);
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

-- How many rows of each entity wait for their data source's schema to be whole again.
create or replace function public.schema_waits() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_object_agg(entity, n), '{}'::jsonb) from (
    select entity, count(*) as n from public.sync_outbox
     where status = 'pending' and failure = 'waiting' and waiting_for is null group by entity) w
$$;

-- The schema is whole again: the rows that waited for it, and those Notion refused for a validation error
-- (dead ones too, with their refusals forgotten), are due now. Returns how many.
create or replace function public.release_schema_waits(p_entity text) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.sync_outbox o
     set status = 'pending', failure = null, refusals = 0, next_attempt_at = now()
   where o.entity = p_entity::public.sync_entity
     and ((o.status = 'pending' and o.failure = 'waiting' and o.waiting_for is null)
          or (o.status in ('pending', 'dead') and o.failure = 'permanent' and o.last_error like '%validation_error%'))
     and (o.status = 'pending' or not exists (select 1 from public.sync_outbox p where p.entity = o.entity
                                              and p.entity_id = o.entity_id and p.status = 'pending'));
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

create or replace function public.sync_health() returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'outbox_depth', (select count(*) from public.sync_outbox where status = 'pending'),
    'dead', (select count(*) from public.sync_outbox where status = 'dead'),
    'waiting', (select count(*) from public.sync_outbox where status = 'pending' and failure = 'waiting'),
    'schema_waiting', (select count(*) from public.sync_outbox
                        where status = 'pending' and failure = 'waiting' and waiting_for is null),
    'oldest_pending_seconds', (select coalesce(extract(epoch from now() - min(created_at)), 0)
                               from public.sync_outbox where status = 'pending'),
    'oldest_last_synced_seconds', (select coalesce(extract(epoch from now() - min(last_synced_at)), 0) from (
        select last_synced_at from public.projects where notion_page_id is not null and deleted_at is null
        union all select last_synced_at from public.milestones where notion_page_id is not null and deleted_at is null
      ) s))
$$;

revoke execute on function public.notion_property_ids, public.record_notion_properties, public.schema_waits,
  public.release_schema_waits from public, anon, authenticated;
grant execute on function public.notion_property_ids, public.record_notion_properties, public.schema_waits,
  public.release_schema_waits to service_role;
