-- Sync that survives a bad day: fenced claims, waiting that is not failing, outages that count once,
-- and a run lease that a crashed run frees within seconds.
-- Rollback: infra/supabase/rollbacks/20261123001100_sync_fencing.down.sql
--
-- A claim carries a token (`claim`, from a sequence). A worker holds its rows only while the token on the row
-- is its own: before each page it creates it checks, and extends, its hold (`hold_claims`); a worker whose
-- lease ran out and whose rows were claimed again finds that out, and creates nothing.
-- `failure` says why a pending row is not in flight: 'waiting' (its parent has no page yet), 'transient'
-- (Notion was unreachable or busy), 'permanent' (Notion refused it). Only refusals ('permanent') count towards
-- a dead row; `attempts` still counts tries, because a try that may have created a page makes the next one
-- look the page up first.

create sequence public.sync_claim_seq;
alter table public.sync_outbox
  add column claim bigint,
  add column claimed_by text,
  add column failure text check (failure in ('waiting', 'transient', 'permanent')),
  add column waiting_for uuid,
  add column refusals integer not null default 0 check (refusals >= 0);
create index sync_outbox_waiting_idx on public.sync_outbox (waiting_for) where status = 'pending';

-- A run lease that is renewed while its run lives (a heartbeat), and whose term is seconds, not minutes.
alter table public.sync_lease add column generation bigint not null default 0;

drop function public.claim_outbox(integer, integer, uuid);
create function public.claim_outbox(p_limit integer, p_lease_seconds integer, p_project_id uuid default null,
                                    p_holder text default null)
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
       set attempts = o.attempts + 1, requeued = false, claim = nextval('public.sync_claim_seq'),
           claimed_by = p_holder, failure = null, waiting_for = null,
           next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from due where o.id = due.id
    returning o.id, o.entity, o.entity_id, o.attempts, o.claim
  )
  select coalesce(jsonb_agg(jsonb_build_object('outbox_id', c.id, 'entity', c.entity, 'entity_id', c.entity_id,
                                               'attempts', c.attempts, 'claim', c.claim,
                                               'record', app_private.sync_record(c.entity, c.entity_id))
                            order by case c.entity when 'lead' then 0 when 'client' then 1 when 'project' then 2
                                     else 3 end, c.id), '[]'::jsonb)
    into v_claimed from claimed c;
  return v_claimed;
end
$$;

-- The rows of p_claims ([{outbox_id, claim}]) still held by these tokens, with their lease extended.
create or replace function public.hold_claims(p_claims jsonb, p_lease_seconds integer) returns jsonb
language sql
set search_path = ''
as $$
  with held as (
    update public.sync_outbox o set next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from jsonb_to_recordset(p_claims) as c(outbox_id bigint, claim bigint)
     where o.id = c.outbox_id and o.claim = c.claim and o.status = 'pending' and o.failure is null
    returning o.id)
  select coalesce(jsonb_agg(id order by id), '[]'::jsonb) from held
$$;

-- Reports a batch of pushes. Each result names the claim it was made under; a result whose claim is no
-- longer the row's (its lease ran out and the row was claimed again) only links a page it made, if the record
-- has none, and changes nothing else.
-- A result is one of: ok (linked, or gone: the page was deleted for good); waiting_for (a parent id: the row
-- waits, free, until that parent's page lands); transient (Notion unreachable or busy: retried, never dead);
-- skipped (not tried, because Notion was down: released as it was); or a permanent error (counted; dead at
-- p_max_attempts). A result marked answered means Notion answers again: rows backing off after an outage are
-- due at once.
drop function public.complete_outbox(jsonb, integer);
create function public.complete_outbox(p_results jsonb, p_max_attempts integer) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r jsonb;
  v_row public.sync_outbox;
  v_done integer := 0;
  v_retry integer := 0;
  v_dead integer := 0;
  v_waiting integer := 0;
  v_stale integer := 0;
  v_woken integer := 0;
  v_answered boolean := false;
begin
  for r in select * from jsonb_array_elements(p_results) loop
    select * into v_row from public.sync_outbox where id = (r->>'outbox_id')::bigint for update;
    continue when not found;
    if v_row.status <> 'pending' or (r ? 'claim' and v_row.claim is distinct from (r->>'claim')::bigint) then
      v_stale := v_stale + 1;
      if (r->>'ok')::boolean and r->>'page_id' is not null and not coalesce((r->>'gone')::boolean, false) then
        execute format('update public.%I set notion_page_id = $1 where id = $2 and notion_page_id is null',
                       v_row.entity || 's') using r->>'page_id', v_row.entity_id;
      end if;
      continue;
    end if;
    if coalesce((r->>'answered')::boolean, false) then
      v_answered := true;  -- Notion answered a call for this row
    end if;
    if (r->>'ok')::boolean and coalesce((r->>'gone')::boolean, false) then
      -- The page was deleted for good in Notion (confirmed by a read): keep the record, marked deleted.
      execute format('update public.%I set deleted_at = coalesce(deleted_at, now()) where id = $1',
                     v_row.entity || 's') using v_row.entity_id;
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.vanished', v_row.entity::text, v_row.entity_id::text, jsonb_build_object('page_id', r->>'page_id'));
      update public.sync_outbox set status = 'done', done_at = now(), requeued = false, last_error = null,
                                    failure = null
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
      -- Children that waited for this page go now.
      if r->>'page_id' is not null then
        update public.sync_outbox set next_attempt_at = now()
         where status = 'pending' and failure = 'waiting' and waiting_for = v_row.entity_id;
      end if;
    elsif r ? 'waiting_for' then
      update public.sync_outbox
         set attempts = greatest(attempts - 1, 0), failure = 'waiting', waiting_for = (r->>'waiting_for')::uuid,
             last_error = left(r->>'error', 2000),
             next_attempt_at = now() + make_interval(secs => coalesce((r->>'retry_in')::double precision, 60))
       where id = v_row.id;
      v_waiting := v_waiting + 1;
    elsif coalesce((r->>'transient')::boolean, false) or coalesce((r->>'skipped')::boolean, false) then
      update public.sync_outbox
         set attempts = case when (r->>'skipped')::boolean then greatest(attempts - 1, 0) else attempts end,
             failure = 'transient',
             last_error = coalesce(left(r->>'error', 2000), last_error),
             next_attempt_at = now() + make_interval(secs => least(600, coalesce((r->>'retry_in')::double precision, 30)))
       where id = v_row.id;
      v_retry := v_retry + 1;
    elsif v_row.refusals + 1 >= p_max_attempts then
      update public.sync_outbox set status = 'dead', failure = 'permanent', refusals = refusals + 1,
                                    last_error = left(r->>'error', 2000)
       where id = v_row.id;
      v_dead := v_dead + 1;
    else
      update public.sync_outbox
         set last_error = left(r->>'error', 2000), failure = 'permanent', refusals = refusals + 1,
             next_attempt_at = now() + make_interval(secs => coalesce((r->>'retry_in')::double precision,
                                                               least(3600, 15 * 2 ^ least(v_row.refusals + 1, 12))))
       where id = v_row.id;
      v_retry := v_retry + 1;
    end if;
  end loop;
  if v_answered then
    update public.sync_outbox set next_attempt_at = now()
     where status = 'pending' and failure = 'transient' and next_attempt_at > now();
    get diagnostics v_woken = row_count;
  end if;
  return jsonb_build_object('done', v_done, 'retry', v_retry, 'dead', v_dead, 'waiting', v_waiting,
                            'stale', v_stale, 'woken', v_woken);
end
$$;

-- Takes the run lease, or renews it for its holder. A new holder that takes over an expired lease frees the
-- rows the old holder had in flight: the old holder is gone (or fenced off by the claim tokens).
-- Returns the lease's generation, or null when another holder has it.
drop function public.take_sync_lease(text, text, integer);
create function public.take_sync_lease(p_name text, p_holder text, p_seconds integer) returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_old public.sync_lease;
  v_generation bigint;
begin
  select * into v_old from public.sync_lease where name = p_name for update;
  if found and v_old.holder <> p_holder and v_old.expires_at >= now() then
    return null;
  end if;
  insert into public.sync_lease as l (name, holder, expires_at, generation)
  values (p_name, p_holder, now() + make_interval(secs => p_seconds), 1)
  on conflict (name) do update
    set holder = excluded.holder, expires_at = excluded.expires_at,
        generation = l.generation + case when l.holder = excluded.holder then 0 else 1 end
    where l.expires_at < now() or l.holder = excluded.holder  -- two runs racing for a free lease: one wins
  returning generation into v_generation;
  if v_generation is null then
    return null;
  end if;
  if v_old.holder is not null and v_old.holder <> p_holder then
    update public.sync_outbox set next_attempt_at = now(), failure = 'transient', last_error = 'its run stopped'
     where status = 'pending' and claimed_by = v_old.holder and failure is null;
  end if;
  return v_generation;
end
$$;

-- Extends the lease while its holder runs; false once it is somebody else's.
create or replace function public.renew_sync_lease(p_name text, p_holder text, p_seconds integer) returns boolean
language sql
set search_path = ''
as $$
  with renewed as (
    update public.sync_lease set expires_at = now() + make_interval(secs => p_seconds)
     where name = p_name and holder = p_holder returning 1)
  select exists (select 1 from renewed)
$$;

-- Operators: send rows (dead ones too) again, with their refusals forgotten.
create or replace function public.retry_outbox(p_ids bigint[], p_dead boolean) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.sync_outbox o
     set status = 'pending', refusals = 0, failure = null, next_attempt_at = now(), last_error = null
   where (p_ids is null or o.id = any(p_ids))
     and o.status = case when p_dead then 'dead'::public.outbox_status else 'pending'::public.outbox_status end
     and (o.status = 'pending' or not exists (select 1 from public.sync_outbox p where p.entity = o.entity
                                              and p.entity_id = o.entity_id and p.status = 'pending'));
  get diagnostics v_count = row_count;
  return jsonb_build_object('retried', v_count);
end
$$;

-- Operators: the queue shows why a row waits.
create or replace function public.outbox_rows(p_status text, p_limit integer) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(to_jsonb(r) order by r.id), '[]'::jsonb) from (
    select id, entity, entity_id, status, attempts, refusals, failure, next_attempt_at, last_error, updated_at
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
    'waiting', (select count(*) from public.sync_outbox where status = 'pending' and failure = 'waiting'),
    'oldest_pending_seconds', (select coalesce(extract(epoch from now() - min(created_at)), 0)
                               from public.sync_outbox where status = 'pending'),
    'oldest_last_synced_seconds', (select coalesce(extract(epoch from now() - min(last_synced_at)), 0) from (
        select last_synced_at from public.projects where notion_page_id is not null and deleted_at is null
        union all select last_synced_at from public.milestones where notion_page_id is not null and deleted_at is null
      ) s))
$$;

-- For `atelier check`: live records that have no page yet and nothing queued to make one.
create or replace function public.unlinked_records() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('entity', entity, 'id', id) order by entity, id), '[]'::jsonb) from (
    select 'lead' as entity, id from public.leads where notion_page_id is null and deleted_at is null
    union all select 'client', id from public.clients where notion_page_id is null and deleted_at is null
    union all select 'project', id from public.projects where notion_page_id is null and deleted_at is null
    union all select 'milestone', id from public.milestones where notion_page_id is null and deleted_at is null
    union all select 'deliverable', id from public.deliverables where notion_page_id is null and deleted_at is null
  ) r
  where not exists (select 1 from public.sync_outbox o where o.entity::text = r.entity and o.entity_id = r.id
                    and o.status = 'pending')
$$;

-- `atelier check --repair`: point a record at the page chosen among its duplicates (the oldest), and push it.
create or replace function public.relink_record(p_entity text, p_id uuid, p_page_id text) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  execute format('update public.%I set notion_page_id = $1, notion_pushed_hash = null where id = $2',
                 app_private.synced_table(p_entity)) using p_page_id, p_id;
  get diagnostics v_count = row_count;
  if v_count = 1 then
    perform app_private.enqueue_sync(p_entity::public.sync_entity, p_id);
    insert into public.audit_log (action, resource_type, resource_id, details)
    values ('notion.relinked', p_entity, p_id::text, jsonb_build_object('page_id', p_page_id));
  end if;
  return v_count = 1;
end
$$;

-- The poll's pages it could not apply (p_pages: [{page_id, edited, reason}]), each reported once per edit.
create or replace function public.note_unapplied_pages(p_entity text, p_pages jsonb) returns integer
language sql
set search_path = ''
as $$
  with fresh as (
    insert into public.audit_log (action, resource_type, resource_id, details)
    select 'notion.unapplied', p_entity, p->>'page_id', jsonb_build_object('edited', p->>'edited', 'reason', p->>'reason')
      from jsonb_array_elements(p_pages) p
     where not exists (select 1 from public.audit_log a where a.action = 'notion.unapplied'
                       and a.resource_id = p->>'page_id' and a.details->>'edited' = p->>'edited')
    returning 1)
  select count(*)::integer from fresh
$$;

revoke execute on function public.claim_outbox, public.complete_outbox, public.hold_claims, public.take_sync_lease,
  public.renew_sync_lease, public.outbox_rows, public.sync_health, public.unlinked_records, public.relink_record,
  public.note_unapplied_pages from public, anon, authenticated;
grant execute on function public.claim_outbox, public.complete_outbox, public.hold_claims, public.take_sync_lease,
  public.renew_sync_lease, public.outbox_rows, public.sync_health, public.unlinked_records, public.relink_record,
  public.note_unapplied_pages to service_role;
revoke all on sequence public.sync_claim_seq from public, anon, authenticated;
grant usage on sequence public.sync_claim_seq to service_role;
