-- Sync, Postgres -> Notion: triggers queue a record when a field Notion shows changes; the worker claims
-- due rows (SKIP LOCKED, with a lease), pushes them, and reports back in one call.
-- Rollback: infra/supabase/rollbacks/20261121000500_sync_outbox.down.sql

-- A change that lands while its row is claimed must not be lost: it marks the row to go again.
alter table public.sync_outbox add column requeued boolean not null default false;

-- Queues a record for Notion; repeated changes before the push coalesce into one row.
create or replace function app_private.enqueue_sync(p_entity public.sync_entity, p_id uuid) returns void
language sql
as $$
  insert into public.sync_outbox (entity, entity_id) values (p_entity, p_id)
  on conflict (entity, entity_id) where status = 'pending'
  do update set requeued = true, next_attempt_at = least(public.sync_outbox.next_attempt_at, now())
$$;

-- TG_ARGV[0]: the entity; the rest: the columns Notion shows. It runs as its owner, so whoever changes a row
-- (a team member under RLS included) queues it, without any right to the outbox itself.
create or replace function app_private.enqueue_on_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_columns text[] := TG_ARGV[1:];
begin
  if TG_OP = 'INSERT' or
     (select jsonb_object_agg(key, value) from jsonb_each(to_jsonb(new)) where key = any(v_columns))
       is distinct from
     (select jsonb_object_agg(key, value) from jsonb_each(to_jsonb(old)) where key = any(v_columns)) then
    perform app_private.enqueue_sync(TG_ARGV[0]::public.sync_entity, new.id);
  end if;
  return new;
end
$$;

create trigger leads_enqueue_sync after insert or update on public.leads for each row
  execute function app_private.enqueue_on_change('lead', 'name', 'email', 'recommended_tier', 'status',
    'budget_range', 'timeline_weeks', 'project_type', 'needs_review', 'routing_reason', 'deleted_at');
create trigger clients_enqueue_sync after insert or update on public.clients for each row
  execute function app_private.enqueue_on_change('client', 'tier', 'status', 'project_address', 'deleted_at');
create trigger projects_enqueue_sync after insert or update on public.projects for each row
  execute function app_private.enqueue_on_change('project', 'name', 'tier', 'client_id', 'status',
    'payment_status', 'needs_review', 'deleted_at');
create trigger milestones_enqueue_sync after insert or update on public.milestones for each row
  execute function app_private.enqueue_on_change('milestone', 'name', 'order', 'due_date', 'status',
    'completed_at', 'deleted_at');
create trigger deliverables_enqueue_sync after insert or update on public.deliverables for each row
  execute function app_private.enqueue_on_change('deliverable', 'name', 'category', 'file_url', 'deleted_at');

-- What Notion shows of one record, by the mapping's column names; relations as lists of page ids.
create or replace function app_private.sync_record(p_entity public.sync_entity, p_id uuid) returns jsonb
language sql stable
as $$
  select case p_entity
    when 'lead' then (
      select jsonb_build_object('name', l.name, 'email', l.email, 'tier_name', t.name, 'status', l.status,
        'budget_range', l.budget_range, 'timeline_weeks', l.timeline_weeks, 'project_type', l.project_type,
        'needs_review', l.needs_review, 'routing_reason', l.routing_reason, 'notion_page_id', l.notion_page_id,
        'pushed', l.notion_pushed_hash, 'deleted', l.deleted_at is not null)
      from public.leads l join public.tiers t on t.id = l.recommended_tier where l.id = p_id)
    when 'client' then (
      select jsonb_build_object('name', coalesce((select name from public.leads where email = u.email
                                                  order by created_at desc limit 1), u.email),
        'email', u.email, 'tier_name', t.name, 'status', c.status, 'project_address', c.project_address,
        'notion_page_id', c.notion_page_id, 'pushed', c.notion_pushed_hash, 'deleted', c.deleted_at is not null)
      from public.clients c join public.users u on u.id = c.user_id join public.tiers t on t.id = c.tier
      where c.id = p_id)
    when 'project' then (
      select jsonb_build_object('name', p.name, 'tier_name', t.name,
        'client_page', case when c.notion_page_id is null then '[]'::jsonb else jsonb_build_array(c.notion_page_id) end,
        'waiting_for', case when c.notion_page_id is null then 'client' end, 'parent_id', c.id,
        'status', p.status, 'payment_status', p.payment_status, 'needs_review', p.needs_review,
        'notion_page_id', p.notion_page_id, 'pushed', p.notion_pushed_hash, 'deleted', p.deleted_at is not null)
      from public.projects p join public.clients c on c.id = p.client_id join public.tiers t on t.id = p.tier
      where p.id = p_id)
    when 'milestone' then (
      select jsonb_build_object('name', m.name,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'waiting_for', case when p.notion_page_id is null then 'project' end, 'parent_id', p.id,
        'order', m."order", 'due_date', m.due_date, 'status', m.status, 'completed_at', m.completed_at,
        'notion_page_id', m.notion_page_id, 'pushed', m.notion_pushed_hash, 'deleted', m.deleted_at is not null)
      from public.milestones m join public.projects p on p.id = m.project_id where m.id = p_id)
    when 'deliverable' then (
      select jsonb_build_object('name', d.name,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'waiting_for', case when p.notion_page_id is null then 'project' end, 'parent_id', p.id,
        'category', d.category, 'uploaded_on', d.created_at::date, 'file_url', d.file_url,
        'notion_page_id', d.notion_page_id, 'pushed', d.notion_pushed_hash, 'deleted', d.deleted_at is not null)
      from public.deliverables d join public.projects p on p.id = d.project_id where d.id = p_id)
  end
$$;

-- Claims due rows for a lease (a crashed worker's rows come back when it expires), parents first.
-- With p_project_id, only that project's rows (the doorbell).
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

-- Reports a batch of pushes: links pages and hashes on success, backs off (then gives up) on failure,
-- and soft-deletes a record whose page has vanished from Notion.
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

revoke execute on function public.claim_outbox, public.complete_outbox from public, anon, authenticated;
grant execute on function public.claim_outbox, public.complete_outbox to service_role;
revoke execute on function app_private.sync_record, app_private.enqueue_sync, app_private.enqueue_on_change
  from public, anon, authenticated;
grant execute on function app_private.sync_record, app_private.enqueue_sync to service_role;
