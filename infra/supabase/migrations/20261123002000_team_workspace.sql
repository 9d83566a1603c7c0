-- Notion as the team's workspace: what the team owns there, and the comment that answers an edit to what they do not.
--  * The team now owns a project's name, a milestone's due date and a client's project address: their edits are
--    applied to Postgres (apply_notion_changes below). Payments, tier, client and routing stay with Postgres.
--  * A person's edit to a field Postgres owns is put back (as before) and answered with one comment on the page,
--    saying why and where to change it: `notion_comments` is its outbox, written in the same transaction as the
--    change, posted by the sync, once.
-- Rollback: infra/supabase/rollbacks/20261123002000_team_workspace.down.sql

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
