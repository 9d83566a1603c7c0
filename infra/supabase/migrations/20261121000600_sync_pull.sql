-- Sync, Notion -> Postgres: what the poller needs to decide, and one call that applies a batch of edits
-- and moves the watermark in the same transaction.
-- Rollback: infra/supabase/rollbacks/20261121000600_sync_pull.down.sql

-- The table behind a synced entity; an unknown entity is refused by the enum itself.
create or replace function app_private.synced_table(p_entity text) returns text
language sql immutable
set search_path = ''
as $$
  select p_entity::public.sync_entity::text || 's'
$$;

-- For the pages a poll saw: what we last pushed and pulled, and whether the record is soft-deleted.
create or replace function public.sync_pull_state(p_entity text, p_ids uuid[]) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_result jsonb;
begin
  execute format('select coalesce(jsonb_object_agg(id, jsonb_build_object(''pushed'', notion_pushed_hash,'
                 ' ''pulled'', notion_pulled_hash, ''deleted'', deleted_at is not null, ''page_id'', notion_page_id)),'
                 ' ''{}''::jsonb) from public.%I where id = any($1)', app_private.synced_table(p_entity))
    into v_result using p_ids;
  return v_result;
end
$$;

-- p_changes: {"changes": [{id, values?: {column: value}, pulled_hash?, trashed?: bool,
--                            lost?: {property: value}, repush?: [property]}]}
create or replace function public.apply_notion_changes(p_entity text, p_data_source_id text, p_changes jsonb,
                                                       p_watermark timestamptz) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  c jsonb;
  v_table text := app_private.synced_table(p_entity);
  v_old jsonb;
  v_new jsonb;
  v_before jsonb;
  v_after jsonb;
  v_applied integer := 0;
  v_deleted integer := 0;
  v_restored integer := 0;
  v_overridden integer := 0;
begin
  for c in select * from jsonb_array_elements(coalesce(p_changes->'changes', '[]'::jsonb)) loop
    execute format('select to_jsonb(t) from public.%I t where id = $1 for update', v_table)
      into v_old using (c->>'id')::uuid;
    continue when v_old is null;

    if (c->>'trashed')::boolean is true and v_old->>'deleted_at' is null then
      execute format('update public.%I set deleted_at = now() where id = $1', v_table) using (c->>'id')::uuid;
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.deleted', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id'));
      v_deleted := v_deleted + 1;
    elsif (c->>'trashed')::boolean is false and v_old->>'deleted_at' is not null then
      execute format('update public.%I set deleted_at = null where id = $1', v_table) using (c->>'id')::uuid;
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.restored', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id'));
      v_restored := v_restored + 1;
    end if;

    if c ? 'values' and c->>'pulled_hash' is distinct from v_old->>'notion_pulled_hash' then
      if p_entity = 'project' then
        update public.projects set status = coalesce((c->'values'->>'status')::public.project_status, status),
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      elsif p_entity = 'milestone' then
        update public.milestones
           set status = coalesce((c->'values'->>'status')::public.milestone_status, status),
               completed_at = case
                 when c->'values' ? 'completed_at' and c->'values'->>'completed_at' is not null
                   then (c->'values'->>'completed_at')::timestamptz
                 when coalesce(c->'values'->>'status', status::text) = 'completed'
                   then coalesce(completed_at, now())
                 else null end,
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      end if;
      execute format('select to_jsonb(t) from public.%I t where id = $1', v_table) into v_new
        using (c->>'id')::uuid;
      v_before := (select jsonb_object_agg(k, v_old->k) from jsonb_object_keys(c->'values') k);
      v_after := (select jsonb_object_agg(k, v_new->k) from jsonb_object_keys(c->'values') k);
      if v_after is distinct from v_before then
        -- The owner's value wins; the one it replaced is kept here.
        insert into public.audit_log (action, resource_type, resource_id, details)
        values ('notion.changed', p_entity, c->>'id', jsonb_build_object('new', v_after, 'old', v_before));
        v_applied := v_applied + 1;
      end if;
    end if;

    if jsonb_array_length(coalesce(c->'repush', '[]'::jsonb)) > 0 then
      -- A person changed a field Postgres owns: Postgres wins, Notion's value is kept in the audit log,
      -- and forgetting what we pushed for it sends our value again.
      execute format('update public.%I set notion_pushed_hash = ((coalesce(notion_pushed_hash, ''{}'')::jsonb)'
                     ' - $2)::text where id = $1', v_table)
        using (c->>'id')::uuid, array(select jsonb_array_elements_text(c->'repush'));
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.overridden', p_entity, c->>'id', jsonb_build_object('notion_values', c->'lost'));
      perform app_private.enqueue_sync(p_entity::public.sync_entity, (c->>'id')::uuid);
      v_overridden := v_overridden + 1;
    end if;
  end loop;

  insert into public.sync_state as s (data_source_id, entity, watermark)
  values (p_data_source_id, p_entity::public.sync_entity, p_watermark)
  on conflict (data_source_id) do update
    set watermark = greatest(s.watermark, excluded.watermark)
    where s.watermark is distinct from greatest(s.watermark, excluded.watermark);

  return jsonb_build_object('applied', v_applied, 'deleted', v_deleted, 'restored', v_restored,
                            'overridden', v_overridden);
end
$$;

-- One sync run at a time: a lease that a crashed run cannot hold for longer than its term.
create table public.sync_lease (
  name text primary key,
  holder text not null,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
alter table public.sync_lease enable row level security;
create policy sync_lease_select on public.sync_lease for select to authenticated using (app_private.is_team());
create policy sync_lease_insert on public.sync_lease for insert to authenticated with check (app_private.is_admin());
create policy sync_lease_update on public.sync_lease for update to authenticated using (app_private.is_admin())
  with check (app_private.is_admin());
create policy sync_lease_delete on public.sync_lease for delete to authenticated using (app_private.is_admin());

create or replace function public.take_sync_lease(p_name text, p_holder text, p_seconds integer) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  insert into public.sync_lease as l (name, holder, expires_at)
  values (p_name, p_holder, now() + make_interval(secs => p_seconds))
  on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
    where l.expires_at < now() or l.holder = excluded.holder;
  return found;
end
$$;

create or replace function public.release_sync_lease(p_name text, p_holder text) returns boolean
language sql
set search_path = ''
as $$
  with gone as (delete from public.sync_lease where name = p_name and holder = p_holder returning 1)
  select exists (select 1 from gone)
$$;

-- Operators: list the queue, and send rows (dead ones too) again.
create or replace function public.outbox_rows(p_status text, p_limit integer) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(to_jsonb(r) order by r.id), '[]'::jsonb) from (
    select id, entity, entity_id, status, attempts, next_attempt_at, last_error, updated_at
      from public.sync_outbox
     where (p_status is null and status <> 'done') or status::text = p_status
     order by id limit p_limit) r
$$;

create or replace function public.retry_outbox(p_ids bigint[], p_dead boolean) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.sync_outbox o
     set status = 'pending', attempts = 0, next_attempt_at = now(), last_error = null
   where (p_ids is null or o.id = any(p_ids))
     and o.status = case when p_dead then 'dead'::public.outbox_status else 'pending'::public.outbox_status end
     and (o.status = 'pending' or not exists (select 1 from public.sync_outbox p where p.entity = o.entity
                                              and p.entity_id = o.entity_id and p.status = 'pending'));
  get diagnostics v_count = row_count;
  return jsonb_build_object('retried', v_count);
end
$$;

create or replace function public.sync_watermarks() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_object_agg(data_source_id, watermark), '{}'::jsonb) from public.sync_state
$$;

revoke execute on function app_private.synced_table from public, anon, authenticated;
grant execute on function app_private.synced_table to service_role;
revoke execute on function public.sync_pull_state, public.apply_notion_changes, public.sync_watermarks,
  public.take_sync_lease, public.release_sync_lease, public.outbox_rows, public.retry_outbox
  from public, anon, authenticated;
grant execute on function public.sync_pull_state, public.apply_notion_changes, public.sync_watermarks,
  public.take_sync_lease, public.release_sync_lease, public.outbox_rows, public.retry_outbox to service_role;
