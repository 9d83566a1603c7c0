-- Undoes 20261123001100_sync_fencing.sql: the functions as 20261121000500-0700 made them.
drop function if exists public.note_unapplied_pages(text, jsonb);
drop function if exists public.relink_record(text, uuid, text);
drop function if exists public.unlinked_records();
drop function if exists public.renew_sync_lease(text, text, integer);
drop function if exists public.hold_claims(jsonb, integer);
drop function if exists public.take_sync_lease(text, text, integer);
drop function if exists public.complete_outbox(jsonb, integer);
drop function if exists public.claim_outbox(integer, integer, uuid, text);
create or replace function public.claim_outbox(p_limit integer, p_lease_seconds integer, p_project_id uuid default null)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_claimed jsonb;
begin
  with due as (
    select o.id from public.sync_outbox o
    where o.status = 'pending' and o.next_attempt_at <= now()
      and (p_project_id is null
           or (o.entity = 'project' and o.entity_id = p_project_id)
           or (o.entity = 'client' and o.entity_id = (select client_id from public.projects where id = p_project_id))
           or (o.entity = 'milestone' and o.entity_id in (select id from public.milestones where project_id = p_project_id))
           or (o.entity = 'deliverable' and o.entity_id in (select id from public.deliverables where project_id = p_project_id)))
    order by case o.entity when 'lead' then 0 when 'client' then 1 when 'project' then 2 else 3 end, o.id
    limit p_limit
    for update skip locked
  ), claimed as (
    update public.sync_outbox o
       set attempts = o.attempts + 1, requeued = false,
           next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from due where o.id = due.id
    returning o.id, o.entity, o.entity_id, o.attempts
  )
  select coalesce(jsonb_agg(jsonb_build_object('outbox_id', c.id, 'entity', c.entity, 'entity_id', c.entity_id,
                                               'attempts', c.attempts,
                                               'record', app_private.sync_record(c.entity, c.entity_id))
                            order by case c.entity when 'lead' then 0 when 'client' then 1 when 'project' then 2
                                     else 3 end, c.id), '[]'::jsonb)
    into v_claimed from claimed c;
  return v_claimed;
end
$$;

create or replace function public.complete_outbox(p_results jsonb, p_max_attempts integer) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r jsonb;
  v_row public.sync_outbox;
  v_done integer := 0;
  v_retry integer := 0;
  v_dead integer := 0;
begin
  for r in select * from jsonb_array_elements(p_results) loop
    select * into v_row from public.sync_outbox where id = (r->>'outbox_id')::bigint for update;
    continue when not found or v_row.status <> 'pending';
    if (r->>'ok')::boolean and coalesce((r->>'gone')::boolean, false) then
      -- The page was deleted for good in Notion (confirmed by a read): keep the record, marked deleted.
      execute format('update public.%I set deleted_at = coalesce(deleted_at, now()) where id = $1',
                     v_row.entity || 's') using v_row.entity_id;
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.vanished', v_row.entity::text, v_row.entity_id::text, jsonb_build_object('page_id', r->>'page_id'));
      update public.sync_outbox set status = 'done', done_at = now(), requeued = false, last_error = null
       where id = v_row.id;
      v_done := v_done + 1;
    elsif (r->>'ok')::boolean then
      execute format('update public.%I set notion_page_id = coalesce(notion_page_id, $1), notion_pushed_hash = $2,'
                     ' last_synced_at = now() where id = $3', v_row.entity || 's')
        using r->>'page_id', r->>'pushed_hash', v_row.entity_id;
      if v_row.requeued then
        update public.sync_outbox set requeued = false, next_attempt_at = now(), last_error = null
         where id = v_row.id;
        v_retry := v_retry + 1;
      else
        update public.sync_outbox set status = 'done', done_at = now(), last_error = null where id = v_row.id;
        v_done := v_done + 1;
      end if;
    elsif v_row.attempts >= p_max_attempts and not coalesce((r->>'retry_later')::boolean, false) then
      update public.sync_outbox set status = 'dead', last_error = left(r->>'error', 2000) where id = v_row.id;
      v_dead := v_dead + 1;
    else
      update public.sync_outbox
         set last_error = left(r->>'error', 2000),
             next_attempt_at = now() + make_interval(secs => coalesce((r->>'retry_in')::double precision,
                                                               least(3600, 15 * 2 ^ least(v_row.attempts, 12))))
       where id = v_row.id;
      v_retry := v_retry + 1;
    end if;
  end loop;
  return jsonb_build_object('done', v_done, 'retry', v_retry, 'dead', v_dead);
end
$$;

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

revoke execute on function public.claim_outbox, public.complete_outbox, public.take_sync_lease
  from public, anon, authenticated;
grant execute on function public.claim_outbox, public.complete_outbox, public.take_sync_lease to service_role;
alter table public.sync_lease drop column if exists generation;
drop index if exists public.sync_outbox_waiting_idx;
alter table public.sync_outbox drop column if exists claim, drop column if exists claimed_by,
  drop column if exists failure, drop column if exists waiting_for, drop column if exists refusals;
drop sequence if exists public.sync_claim_seq;
delete from supabase_migrations.schema_migrations where version = '20261123001100';
