-- Notion as the team's workspace: what the team owns there, and the comment that answers an edit to what they do not.
--  * The team now owns a project's name, a milestone's due date and a client's project address: their edits are
--    applied to Postgres (apply_notion_changes below). Payments, tier, client and routing stay with Postgres.
--  * A person's edit to a field Postgres owns is put back (as before) and answered with one comment on the page,
--    saying why and where to change it: `notion_comments` is its outbox, written in the same transaction as the
--    change, posted by the sync, once.
-- Rollback: infra/supabase/rollbacks/20261123002000_team_workspace.down.sql

-- A lead the team types into Notion may not know its project type yet: it routes to review (project_type_unclear).
alter table public.leads alter column project_type drop not null;

create type public.comment_status as enum ('pending', 'posted', 'dead');

create table public.notion_comments (
  id uuid primary key default gen_random_uuid(),
  entity public.sync_entity not null,
  record_id uuid not null,
  page_id text not null check (length(page_id) between 1 and 100),
  body text not null check (length(body) between 1 and 2000),
  status public.comment_status not null default 'pending',
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_error text,
  comment_id text,
  posted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index notion_comments_due_idx on public.notion_comments (next_attempt_at) where status = 'pending';
create trigger notion_comments_set_updated_at before update on public.notion_comments for each row
  execute function app_private.set_updated_at();
select app_private.backend_written('notion_comments');

-- p_changes: {"changes": [{id, values?: {column: value}, pulled_hash?, trashed?: bool,
--                            lost?: {property: value}, repush?: [property], comment?: text}]}
-- Now the team also owns a project's name, a milestone's due date and a client's project address; and a field
-- Postgres owns that a person changed queues one comment on the page (`comment`), in the same transaction.
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
               name = coalesce(nullif(btrim(c->'values'->>'name'), ''), name),
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      elsif p_entity = 'client' then
        update public.clients
           set project_address = case when c->'values' ? 'project_address'
                                      then nullif(btrim(c->'values'->>'project_address'), '')
                                      else project_address end,
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
               due_date = case when c->'values' ? 'due_date' then (c->'values'->>'due_date')::date
                               else due_date end,
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
      if nullif(c->>'comment', '') is not null and v_old->>'notion_page_id' is not null then
        insert into public.notion_comments (entity, record_id, page_id, body)
        values (p_entity::public.sync_entity, (c->>'id')::uuid, v_old->>'notion_page_id', left(c->>'comment', 2000));
      end if;
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

-- Due comments, claimed for a lease (a crashed run's come back when it ends).
create or replace function public.claim_notion_comments(p_limit integer, p_lease_seconds integer) returns jsonb
language sql
set search_path = ''
as $$
  with due as (
    select id from public.notion_comments
     where status = 'pending' and next_attempt_at <= now()
     order by created_at limit p_limit for update skip locked
  ), claimed as (
    update public.notion_comments n
       set attempts = n.attempts + 1, next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from due where n.id = due.id
    returning n.id, n.page_id, n.body, n.attempts, n.created_at
  )
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'page_id', page_id, 'body', body, 'attempts', attempts)
                            order by created_at), '[]'::jsonb)
    from claimed
$$;

-- p_results: [{id, ok, comment_id?, error?, permanent?}]. A failure waits (1, 2, 4 ... 60 minutes); dead after
-- p_max_attempts, or at once when Notion refuses it for good (the page is gone).
create or replace function public.complete_notion_comments(p_results jsonb, p_max_attempts integer) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r jsonb;
  v_posted integer := 0;
  v_failed integer := 0;
  v_dead integer := 0;
  v_status public.comment_status;
begin
  for r in select * from jsonb_array_elements(coalesce(p_results, '[]'::jsonb)) loop
    if (r->>'ok')::boolean then
      update public.notion_comments set status = 'posted', posted_at = now(), comment_id = r->>'comment_id',
             last_error = null
       where id = (r->>'id')::uuid and status = 'pending';
      v_posted := v_posted + 1;
    else
      v_status := null;
      update public.notion_comments
         set status = case when coalesce((r->>'permanent')::boolean, false) or attempts >= p_max_attempts
                           then 'dead' else 'pending' end::public.comment_status,
             last_error = left(r->>'error', 500),
             next_attempt_at = now() + make_interval(mins => least(60, power(2, greatest(attempts - 1, 0))::integer))
       where id = (r->>'id')::uuid and status = 'pending'
      returning status into v_status;
      if v_status = 'dead' then v_dead := v_dead + 1; else v_failed := v_failed + 1; end if;
    end if;
  end loop;
  return jsonb_build_object('posted', v_posted, 'failed', v_failed, 'dead', v_dead);
end
$$;

revoke execute on function public.claim_notion_comments, public.complete_notion_comments
  from public, anon, authenticated;
grant execute on function public.claim_notion_comments, public.complete_notion_comments to service_role;

-- Linking a record to a page the team made also queues the record, so that Notion shows what Postgres holds
-- (a hand-made lead's tier, reason and red flags) with the next push.
create or replace function public.link_notion_page(p_entity text, p_id uuid, p_page_id text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_linked text;
begin
  execute format('update public.%I set notion_page_id = coalesce(notion_page_id, $2) where id = $1'
                 ' returning notion_page_id', app_private.synced_table(p_entity))
    into v_linked using p_id, p_page_id;
  if v_linked is distinct from p_page_id then
    raise exception '% % is already linked to page %', p_entity, p_id, v_linked using errcode = '23505';
  end if;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('notion.imported', p_entity, p_id::text, jsonb_build_object('page_id', p_page_id));
  perform app_private.enqueue_sync(p_entity::public.sync_entity, p_id);
  return jsonb_build_object('linked', v_linked);
end
$$;

-- Pages the team makes in Notion, matched to what Postgres holds before anything is created. Each answers
-- {action: link | create | skip, id?, reason}: what it did, or (p_dry_run) what it would do, writing nothing.

-- A client page: matched by e-mail (case and spaces folded) to a client, or to a user with no client yet; never a
-- second client for one address. With no match, a client is created only when the page names a tier.
create or replace function public.adopt_notion_client(p_page_id text, p_email text, p_name text, p_tier_name text,
                                                      p_project_address text, p_dry_run boolean) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_email text := lower(btrim(coalesce(p_email, '')));
  v_user public.users;
  v_client public.clients;
  v_tier smallint;
begin
  if v_email !~ '^[^@\s]+@[^@\s]+$' then
    return jsonb_build_object('action', 'skip', 'reason', 'give it the client''s e-mail address: clients are matched by it');
  end if;
  select * into v_user from public.users where email = v_email;
  if v_user.id is not null then
    select * into v_client from public.clients where user_id = v_user.id;
  end if;
  if v_client.id is not null then
    if v_client.notion_page_id is not null and v_client.notion_page_id <> p_page_id then
      return jsonb_build_object('action', 'skip', 'id', v_client.id, 'reason',
        format('%s already has a page in Clients: use that one, and delete this one', v_email));
    end if;
    if not p_dry_run then
      perform public.link_notion_page('client', v_client.id, p_page_id);
    end if;
    return jsonb_build_object('action', 'link', 'id', v_client.id, 'reason', format('the client %s', v_email));
  end if;
  select id into v_tier from public.tiers where name = btrim(coalesce(p_tier_name, ''));
  if v_tier is null then
    v_tier := (select l.recommended_tier from public.leads l where l.email = v_email and l.deleted_at is null
                order by l.created_at desc limit 1);
  end if;
  if v_tier is null then
    return jsonb_build_object('action', 'skip', 'reason',
      format('no client or lead has the address %s: give the page a Tier to add them as a new client', v_email));
  end if;
  if p_dry_run then
    return jsonb_build_object('action', 'create', 'reason', format('a new client %s', v_email));
  end if;
  if v_user.id is null then
    insert into public.users (email, user_type, tier) values (v_email, 'kaa_client', v_tier) returning * into v_user;
  end if;
  insert into public.clients (user_id, tier, project_address, notion_page_id)
  values (v_user.id, v_tier, nullif(btrim(coalesce(p_project_address, '')), ''), p_page_id)
  returning * into v_client;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('notion.adopted', 'client', v_client.id::text, jsonb_build_object('page_id', p_page_id, 'created', true));
  return jsonb_build_object('action', 'create', 'id', v_client.id, 'reason', format('a new client %s', v_email));
end
$$;

-- A project, milestone or deliverable page: these begin in Postgres (a payment, a template, an upload), so a page
-- made by hand is linked only to the record it stands for: the same name (case folded), under the same parent
-- page (the project's client, the milestone's or deliverable's project), with no page yet. Otherwise: skip.
create or replace function public.adopt_notion_page(p_entity text, p_page_id text, p_name text,
                                                    p_parent_page_id text, p_dry_run boolean) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_what text := case p_entity when 'project' then 'a payment' when 'milestone' then 'a paid project''s template'
                               else 'an upload' end;
begin
  if p_entity not in ('project', 'milestone', 'deliverable') then
    raise exception 'adopt_notion_page takes projects, milestones and deliverables, not %', p_entity
      using errcode = '22023';
  end if;
  if p_entity = 'project' then
    v_ids := array(select p.id from public.projects p join public.clients c on c.id = p.client_id
                    where p.notion_page_id is null and p.deleted_at is null and c.notion_page_id = p_parent_page_id
                      and lower(btrim(p.name)) = lower(btrim(coalesce(p_name, ''))));
  elsif p_entity = 'milestone' then
    v_ids := array(select m.id from public.milestones m join public.projects p on p.id = m.project_id
                    where m.notion_page_id is null and m.deleted_at is null and p.notion_page_id = p_parent_page_id
                      and lower(btrim(m.name)) = lower(btrim(coalesce(p_name, ''))));
  else
    v_ids := array(select d.id from public.deliverables d join public.projects p on p.id = d.project_id
                    where d.notion_page_id is null and d.deleted_at is null and p.notion_page_id = p_parent_page_id
                      and lower(btrim(d.name)) = lower(btrim(coalesce(p_name, ''))));
  end if;
  if cardinality(v_ids) = 0 then
    return jsonb_build_object('action', 'skip', 'reason', format(
      'no %s without a page has this name under this %s; %ss begin with %s, so delete this page or rename it to '
      'match the one Atelier made', p_entity, case p_entity when 'project' then 'client' else 'project' end,
      p_entity, v_what));
  end if;
  if cardinality(v_ids) > 1 then
    return jsonb_build_object('action', 'skip', 'reason',
      format('%s %ss have this name here: rename them apart in Atelier first', cardinality(v_ids), p_entity));
  end if;
  if not p_dry_run then
    perform public.link_notion_page(p_entity, v_ids[1], p_page_id);
  end if;
  return jsonb_build_object('action', 'link', 'id', v_ids[1], 'reason', format('the %s of that name', p_entity));
end
$$;

revoke execute on function public.adopt_notion_client, public.adopt_notion_page from public, anon, authenticated;
grant execute on function public.adopt_notion_client, public.adopt_notion_page to service_role;

-- What an adopted page is given at once (its record, as a push would send it), and the record of having sent it:
-- the queued push then finds nothing to change.
create or replace function public.adopted_record(p_entity text, p_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select app_private.sync_record(p_entity::public.sync_entity, p_id)
$$;

create or replace function public.mark_pushed(p_entity text, p_id uuid, p_pushed_hash text) returns void
language plpgsql
set search_path = ''
as $$
begin
  execute format('update public.%I set notion_pushed_hash = $2, last_synced_at = now() where id = $1',
                 app_private.synced_table(p_entity)) using p_id, p_pushed_hash;
end
$$;

revoke execute on function public.adopted_record, public.mark_pushed from public, anon, authenticated;
grant execute on function public.adopted_record, public.mark_pushed to service_role;

-- The project page's history: each state change (paid, a milestone done, delivered, refunded) is a row, written
-- by a trigger in the same transaction as the change, once (its dedupe key), and appended to the page by the sync
-- in one call. Rows wait until the project has a page.
create table public.project_history (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id),
  kind text not null check (kind in ('paid', 'milestone_done', 'delivered', 'refunded')),
  summary text not null check (length(summary) between 1 and 500),
  dedupe_key text not null unique,
  status text not null default 'pending' check (status in ('pending', 'written')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  written_at timestamptz,
  created_at timestamptz not null default now()
);
create index project_history_due_idx on public.project_history (next_attempt_at) where status = 'pending';
create index project_history_project_idx on public.project_history (project_id, created_at);
select app_private.backend_written('project_history');

create or replace function app_private.money_text(p_cents bigint, p_currency text) returns text
language sql immutable
set search_path = ''
as $$
  select to_char(p_cents / 100.0, 'FM999,999,999,990.00') || ' ' || upper(p_currency)
$$;

create or replace function app_private.note_history(p_project_id uuid, p_kind text, p_summary text, p_key text)
returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.project_history (project_id, kind, summary, dedupe_key)
  values (p_project_id, p_kind, p_summary, p_key)
  on conflict (dedupe_key) do nothing
$$;

create or replace function app_private.history_of_payment() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.project_id is not null and new.status in ('succeeded', 'refunded')
     and (tg_op = 'INSERT' or old.project_id is null) then
    perform app_private.note_history(new.project_id, 'paid',
      'Paid ' || app_private.money_text(new.amount, new.currency::text), 'paid:' || new.id);
  end if;
  if new.project_id is not null
     and new.amount_refunded > coalesce(case when tg_op = 'UPDATE' then old.amount_refunded end, 0) then
    perform app_private.note_history(new.project_id, 'refunded',
      'Refunded ' || app_private.money_text(new.amount_refunded, new.currency::text)
        || case when new.amount_refunded < new.amount then ' of ' || app_private.money_text(new.amount, new.currency::text)
                else ' (in full)' end,
      'refunded:' || new.id || ':' || new.amount_refunded);
  end if;
  return new;
end
$$;

create or replace function app_private.history_of_milestone() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status = 'completed' and old.status is distinct from 'completed' then
    perform app_private.note_history(new.project_id, 'milestone_done', 'Milestone done: ' || new.name,
      'milestone_done:' || new.id || ':' || coalesce(new.completed_at, now())::text);
  end if;
  return new;
end
$$;

create or replace function app_private.history_of_project() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status = 'delivered' and old.status is distinct from 'delivered' then
    perform app_private.note_history(new.id, 'delivered', 'Delivered', 'delivered:' || new.id || ':' || now()::text);
  end if;
  return new;
end
$$;

create trigger payments_project_history after insert or update of project_id, status, amount_refunded
  on public.payments for each row execute function app_private.history_of_payment();
create trigger milestones_project_history after update of status on public.milestones for each row
  execute function app_private.history_of_milestone();
create trigger projects_project_history after update of status on public.projects for each row
  execute function app_private.history_of_project();

-- Due history rows of projects that have a page, oldest first; `first`: the page has no history section yet.
create or replace function public.claim_project_history(p_limit integer, p_lease_seconds integer) returns jsonb
language sql
set search_path = ''
as $$
  with due as (
    select h.id from public.project_history h join public.projects p on p.id = h.project_id
     where h.status = 'pending' and h.next_attempt_at <= now() and p.notion_page_id is not null
     order by h.created_at limit p_limit for update of h skip locked
  ), claimed as (
    update public.project_history h
       set attempts = h.attempts + 1, next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from due where h.id = due.id
    returning h.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', c.id, 'page_id', p.notion_page_id, 'summary', c.summary, 'at', c.created_at,
           'first', not exists (select 1 from public.project_history w
                                 where w.project_id = c.project_id and w.status = 'written'))
         order by c.created_at), '[]'::jsonb)
    from claimed c join public.projects p on p.id = c.project_id
$$;

create or replace function public.complete_project_history(p_written uuid[]) returns integer
language sql
set search_path = ''
as $$
  with written as (
    update public.project_history set status = 'written', written_at = now()
     where id = any(p_written) and status = 'pending' returning 1)
  select count(*)::integer from written
$$;

-- What a project page's brief says: the client's answers, the routing, the tier and what was paid.
create or replace function public.project_brief(p_project_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'tier_name', t.name, 'budget_range', l.budget_range, 'timeline_weeks', l.timeline_weeks,
    'has_survey', l.has_survey, 'has_drawings', l.has_drawings,
    'project_address', coalesce(l.project_address, c.project_address),
    'routing_reason', l.routing_reason, 'red_flags', to_jsonb(coalesce(l.red_flags, '{}')), 'notes', l.notes,
    'amount_paid', (select app_private.money_text(sum(pay.amount - pay.amount_refunded)::bigint, min(pay.currency)::text)
                      from public.payments pay where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')))
    from public.projects p
    join public.tiers t on t.id = p.tier
    join public.clients c on c.id = p.client_id
    left join public.leads l on l.id = p.lead_id
   where p.id = p_project_id
$$;

revoke execute on function app_private.money_text, app_private.note_history, public.claim_project_history,
  public.complete_project_history, public.project_brief from public, anon, authenticated;
grant execute on function app_private.money_text, app_private.note_history, public.claim_project_history,
  public.complete_project_history, public.project_brief to service_role;
