-- The team's tasks, two-way with Notion's Tasks database: the ones the process implies (a lead waiting on review,
-- a checkout paid at the wrong amount, a new project), each with a due date in business days, and the team's own.
-- Completing one in Notion stores `completed_at`. Overdue ones are in the owner's report and in a daily digest.
-- The edits pulled from Notion carry their author (the Notion user's id and name): the audit row and the project's
-- History line name who made them.
-- Rollback: infra/supabase/rollbacks/20261208000200_tasks.down.sql

-- A business's working days: Monday to Friday.
create function app_private.business_days_after(p_from date, p_days integer) returns date
language plpgsql immutable
set search_path = ''
as $$
declare
  v_day date := p_from;
  v_left integer := greatest(p_days, 0);
begin
  while v_left > 0 loop
    v_day := v_day + 1;
    if extract(isodow from v_day) < 6 then
      v_left := v_left - 1;
    end if;
  end loop;
  return v_day;
end
$$;
revoke all on function app_private.business_days_after(date, integer) from public, anon, authenticated;
grant execute on function app_private.business_days_after(date, integer) to service_role;

-- (Security invoker: the report reads it as the team; the business's time zone, or UTC where it cannot be read.)
create function app_private.business_today(p_business uuid) returns date
language sql stable
set search_path = ''
as $$
  select (now() at time zone coalesce((select b.time_zone from public.businesses b where b.id = p_business), 'UTC'))::date
$$;
revoke all on function app_private.business_today(uuid) from public, anon;
grant execute on function app_private.business_today(uuid) to authenticated, service_role;  -- the report's

create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  title text not null check (length(btrim(title)) between 1 and 500),
  -- What made it: the process (one of the first three), or the team's own hand.
  kind text not null default 'team' check (kind in ('contact_client', 'review_quote', 'prepare_kickoff', 'team')),
  lead_id uuid,
  project_id uuid,
  due_date date,
  status text not null default 'open' check (status in ('open', 'in_progress', 'done')),
  completed_at timestamptz,
  assignee_id text check (length(assignee_id) <= 100),  -- a Notion user's id: the team is named by Notion
  dedupe_key text unique check (length(dedupe_key) <= 200),
  notion_page_id text unique,
  notion_pushed_hash text,
  notion_pulled_hash text,
  last_synced_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (business_id, id),
  foreign key (business_id, lead_id) references public.leads (business_id, id),
  foreign key (business_id, project_id) references public.projects (business_id, id),
  check ((status = 'done') = (completed_at is not null))
);
create index tasks_lead_idx on public.tasks (business_id, lead_id);
create index tasks_project_idx on public.tasks (business_id, project_id);
create index tasks_open_idx on public.tasks (business_id, due_date) where status <> 'done' and deleted_at is null;
create view scoped.tasks with (security_invoker = true) as
  select * from public.tasks where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.tasks to authenticated, service_role;

alter table public.tasks enable row level security;
create policy tasks_select on public.tasks for select to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)));
create policy tasks_insert on public.tasks for insert to authenticated
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)));
create policy tasks_update on public.tasks for update to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)))
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)));
create policy tasks_delete on public.tasks for delete to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));

create trigger tasks_set_updated_at before update on public.tasks
  for each row execute function app_private.set_updated_at();
create trigger tasks_enqueue_sync after insert or update on public.tasks for each row
  execute function app_private.enqueue_on_change('task', 'title', 'kind', 'lead_id', 'project_id', 'due_date', 'status',
    'completed_at', 'assignee_id', 'deleted_at');

-- Done and completed go together, whichever the team set: Done stamps the time, a time alone means done.
create function app_private.task_done() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.completed_at is not null and new.status <> 'done' and
     (tg_op = 'INSERT' or old.completed_at is distinct from new.completed_at) then
    new.status := 'done';
  elsif new.status = 'done' then
    new.completed_at := coalesce(new.completed_at, now());
  else
    new.completed_at := null;
  end if;
  return new;
end
$$;
create trigger tasks_done before insert or update on public.tasks
  for each row execute function app_private.task_done();

-- Who the process's tasks go to, by kind: a Notion user's id (`atelier task assign`); none leaves them unassigned.
alter table public.businesses
  add column task_assignees jsonb not null default '{}'::jsonb check (jsonb_typeof(task_assignees) = 'object');

create function app_private.add_task(p_business uuid, p_kind text, p_title text, p_lead uuid, p_project uuid,
                                    p_business_days integer, p_key text) returns void
language sql security definer
set search_path = ''
as $$
  insert into public.tasks (business_id, kind, title, lead_id, project_id, due_date, assignee_id, dedupe_key)
  select p_business, p_kind, left(p_title, 500), p_lead, p_project,
         app_private.business_days_after(app_private.business_today(p_business), p_business_days),
         nullif(b.task_assignees ->> p_kind, ''), p_key
    from public.businesses b where b.id = p_business
  on conflict (dedupe_key) do nothing
$$;
revoke all on function app_private.add_task(uuid, text, text, uuid, uuid, integer, text) from public, anon, authenticated;
grant execute on function app_private.add_task(uuid, text, text, uuid, uuid, integer, text) to service_role;

-- A lead waiting on review: someone contacts the client within the two business days the intake promised.
create function app_private.task_of_lead() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.needs_review and new.status in ('new', 'needs_review') and new.deleted_at is null then
    perform app_private.add_task(new.business_id, 'contact_client', 'Contact the client: ' || new.name, new.id, null,
                                 2, 'contact_client:' || new.id);
  end if;
  return new;
end
$$;
create trigger leads_task after insert or update of needs_review, status on public.leads
  for each row execute function app_private.task_of_lead();

-- A new project: its kickoff is prepared; one paid at another amount than its price: its quote is reviewed.
create function app_private.task_of_project() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform app_private.add_task(new.business_id, 'prepare_kickoff', 'Prepare kickoff: ' || new.name, new.lead_id,
                               new.id, 2, 'prepare_kickoff:' || new.id);
  if new.needs_review and new.review_reason like 'paid %' then
    perform app_private.add_task(new.business_id, 'review_quote',
                                 'Review the quote: ' || new.name || ' (' || new.review_reason || ')', new.lead_id,
                                 new.id, 1, 'review_quote:' || new.id);
  end if;
  return new;
end
$$;
create trigger projects_task after insert on public.projects
  for each row execute function app_private.task_of_project();

create function public.assign_tasks(p_kind text, p_user_id text) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  if p_kind not in ('contact_client', 'review_quote', 'prepare_kickoff') then
    raise exception 'tasks of kind % are not made by Atelier: choose contact_client, review_quote or prepare_kickoff',
      p_kind using errcode = '22023';
  end if;
  if p_user_id is not null and p_user_id !~ '^[0-9a-fA-F-]{32,36}$' then
    raise exception '% is not a Notion user id (32 hex digits, with or without dashes)', p_user_id
      using errcode = '22023';
  end if;
  update public.businesses b
     set task_assignees = case when p_user_id is null then b.task_assignees - p_kind
                               else b.task_assignees || jsonb_build_object(p_kind, p_user_id) end
   where b.id = app_private.business_id();
  return (select b.task_assignees from public.businesses b where b.id = app_private.business_id());
end
$$;
revoke all on function public.assign_tasks(text, text) from public, anon, authenticated;
grant execute on function public.assign_tasks(text, text) to service_role;

-- A task page the team made: a task, with the project or lead it points at.
create function public.adopt_notion_task(p_page_id text, p_title text, p_due date, p_status text,
                                         p_project_page_id text, p_lead_page_id text, p_assignee text,
                                         p_dry_run boolean) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_project uuid;
  v_lead uuid;
  v_id uuid;
begin
  if nullif(btrim(coalesce(p_title, '')), '') is null then
    return jsonb_build_object('action', 'skip', 'reason', 'give the task a name first');
  end if;
  if p_project_page_id is not null then
    select p.id, p.lead_id into v_project, v_lead from scoped.projects p where p.notion_page_id = p_project_page_id;
    if v_project is null then
      return jsonb_build_object('action', 'skip', 'reason', 'its Project is not one of the studio''s projects');
    end if;
  end if;
  if p_lead_page_id is not null then
    select l.id into v_lead from scoped.leads l where l.notion_page_id = p_lead_page_id;
    if v_lead is null then
      return jsonb_build_object('action', 'skip', 'reason', 'its Lead is not one of the studio''s leads');
    end if;
  end if;
  if p_dry_run then
    return jsonb_build_object('action', 'create', 'reason', 'a task of the team''s own');
  end if;
  insert into scoped.tasks (title, kind, lead_id, project_id, due_date, status, assignee_id, notion_page_id)
  values (left(btrim(p_title), 500), 'team', v_lead, v_project, p_due,
          case when p_status in ('open', 'in_progress', 'done') then p_status else 'open' end,
          nullif(p_assignee, ''), p_page_id)
  returning id into v_id;
  insert into scoped.audit_log (action, resource_type, resource_id, details)
  values ('notion.imported', 'task', v_id::text, jsonb_build_object('page_id', p_page_id));
  return jsonb_build_object('action', 'create', 'id', v_id, 'reason', 'a task of the team''s own');
end
$$;
revoke all on function public.adopt_notion_task(text, text, date, text, text, text, text, boolean)
  from public, anon, authenticated;
grant execute on function public.adopt_notion_task(text, text, date, text, text, text, text, boolean) to service_role;

-- The tasks past their due date, oldest first: the owner's report, the team's digest and the CLI read this.
create function public.overdue_tasks() returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  perform app_private.report_reader();
  return (
    select coalesce(jsonb_agg(jsonb_build_object(
             'id', k.id, 'title', k.title, 'kind', k.kind, 'due_date', k.due_date, 'status', k.status,
             'days_overdue', app_private.business_today(k.business_id) - k.due_date,
             'assignee_id', k.assignee_id, 'project_name', p.name, 'lead_name', l.name,
             'notion_page_id', k.notion_page_id) order by k.due_date, k.created_at), '[]'::jsonb)
      from scoped.tasks k left join scoped.projects p on p.id = k.project_id
      left join scoped.leads l on l.id = k.lead_id
     where k.status <> 'done' and k.deleted_at is null and k.due_date < app_private.business_today(k.business_id));
end
$$;
revoke all on function public.overdue_tasks() from public, anon;
grant execute on function public.overdue_tasks() to authenticated, service_role;  -- refuses all but the team

-- The team's digest: once a day (its dedupe key), only when something is overdue; the list is kept on the row.
alter table public.notifications drop constraint notifications_template_check;
alter table public.notifications add constraint notifications_template_check check (template in (
  'payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed', 'portal_sign_in',
  'weekly_report', 'quote_sent', 'lead_declined', 'message_reply', 'nps_request', 'task_digest'));

create function public.queue_task_digest(p_recipient text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_tasks jsonb := public.overdue_tasks();
  v_day date := app_private.business_today(app_private.business_id());
  v_id uuid;
begin
  if jsonb_array_length(v_tasks) = 0 then
    return jsonb_build_object('queued', false, 'overdue', 0);
  end if;
  insert into scoped.notifications (recipient, template, dedupe_key, details)
  values (lower(btrim(p_recipient)), 'task_digest', 'task_digest:' || app_private.business_id() || ':' || v_day,
          jsonb_build_object('day', v_day, 'tasks', v_tasks))
  on conflict (dedupe_key) do nothing
  returning id into v_id;
  return jsonb_build_object('queued', v_id is not null, 'overdue', jsonb_array_length(v_tasks), 'day', v_day);
end
$$;
revoke all on function public.queue_task_digest(text) from public, anon, authenticated;
grant execute on function public.queue_task_digest(text) to service_role;

-- The owner's report: the tasks overdue now.
create or replace function public.report(p_from date, p_to date) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform app_private.report_reader();
  return jsonb_build_object(
    'period', jsonb_build_object('from', p_from, 'to', p_to),
    'generated_at', now(),
    'funnel', public.report_funnel(p_from, p_to),
    'revenue', public.report_revenue(p_from, p_to),
    'projects', public.report_projects(p_from, p_to),
    'milestones', public.report_milestones(p_from, p_to),
    'cycle_times', public.report_cycle_times(p_from, p_to),
    'sync', public.report_sync(p_from, p_to),
    'held', public.report_held(p_from, p_to),
    'nps', public.report_nps(p_from, p_to),
    'overdue_tasks', public.overdue_tasks());
end
$$;

-- A History line names who made the change, when it came from a person's edit in Notion (`atelier.author`, set
-- for the transaction by apply_notion_changes).
alter table public.project_history drop constraint project_history_kind_check;
alter table public.project_history add constraint project_history_kind_check check (kind in (
  'paid', 'milestone_done', 'delivered', 'refunded', 'approval', 'feedback', 'team_edit'));

CREATE OR REPLACE FUNCTION app_private.note_history(p_project_id uuid, p_kind text, p_summary text, p_key text)
 RETURNS void
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO ''
AS $function$
  insert into public.project_history (project_id, kind, summary, dedupe_key)
  values (p_project_id, p_kind,
          left(p_summary || coalesce(' (' || nullif(current_setting('atelier.author', true), '') || ')', ''), 500),
          p_key)
  on conflict (dedupe_key) do nothing
$function$;

-- Each record as the push sends it: a task's, added.
CREATE OR REPLACE FUNCTION app_private.sync_record(p_entity sync_entity, p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
AS $function$
  select case p_entity
    when 'lead' then (
      select jsonb_build_object('name', l.name, 'email', l.email, 'tier_name', t.name, 'status', l.status,
        'budget_range', l.budget_range, 'timeline_weeks', l.timeline_weeks, 'project_type', l.project_type,
        'needs_review', l.needs_review, 'routing_reason', l.routing_reason, 'confidence', l.confidence,
        'red_flags', to_jsonb(l.red_flags), 'notion_page_id', l.notion_page_id,
        'quote', round(l.quote_amount / 100.0, 2), 'quote_note', l.quote_note,
        'quote_state', (select case q.status
            when 'sent' then format('Sent %s: %s, %s; %s', to_char(q.created_at, 'FMDD Mon'),
                                    app_private.money_words(q.amount, q.currency), qt.name,
                                    case when q.checkout_session_id is null then 'its payment page is opening'
                                         else format('the link pays until %s UTC',
                                                     to_char(q.expires_at at time zone 'UTC', 'FMDD Mon HH24:MI')) end)
            when 'paid' then format('Paid %s: %s, %s', to_char(q.paid_at, 'FMDD Mon'),
                                    app_private.money_words(q.amount, q.currency), qt.name)
            when 'expired' then format('Expired %s: the client''s link offers a fresh one',
                                       to_char(q.updated_at, 'FMDD Mon'))
            else initcap(q.status) || ' ' || to_char(q.updated_at, 'FMDD Mon') end
          from scoped.quotes q join scoped.tiers qt on qt.id = q.tier
         where q.lead_id = l.id order by q.created_at desc limit 1),
        'pushed', l.notion_pushed_hash, 'deleted', l.deleted_at is not null)
      from scoped.leads l join scoped.tiers t on t.id = coalesce(l.team_tier, l.recommended_tier) where l.id = p_id)
    when 'client' then (
      select jsonb_build_object('name', coalesce(c.name, (select name from scoped.leads where email = u.email
                                                          order by created_at desc limit 1), u.email),
        'email', u.email, 'tier_name', t.name, 'status', c.status, 'project_address', c.project_address,
        'phone', c.phone, 'company', c.company,
        'notion_page_id', c.notion_page_id, 'pushed', c.notion_pushed_hash, 'deleted', c.deleted_at is not null)
      from scoped.clients c join public.users u on u.id = c.user_id join scoped.tiers t on t.id = c.tier
      where c.id = p_id)
    when 'project' then (
      select jsonb_build_object('name', p.name, 'tier_name', t.name,
        'client_page', case when c.notion_page_id is null then '[]'::jsonb else jsonb_build_array(c.notion_page_id) end,
        'waiting_for', case when c.notion_page_id is null then 'client' end, 'parent_id', c.id,
        'status', p.status, 'payment_status', p.payment_status, 'needs_review', p.needs_review,
        'nps', (select a.score from scoped.nps_answers a where a.project_id = p.id),
        'client_feedback', (select a.comment from scoped.nps_answers a where a.project_id = p.id),
        'amount_paid', (select round(coalesce(sum(pay.amount - pay.amount_refunded), 0) / 100.0, 2)
                          from scoped.payments pay where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')),
        'paid_on', (select min(pay.created_at)::date from scoped.payments pay
                     where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')),
        'notion_page_id', p.notion_page_id, 'pushed', p.notion_pushed_hash, 'deleted', p.deleted_at is not null)
      from scoped.projects p join scoped.clients c on c.id = p.client_id join scoped.tiers t on t.id = p.tier
      where p.id = p_id)
    when 'milestone' then (
      select jsonb_build_object('name', m.name,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'waiting_for', case when p.notion_page_id is null then 'project' end, 'parent_id', p.id,
        'order', m."order", 'due_date', m.due_date, 'status', m.status, 'completed_at', m.completed_at,
        'notion_page_id', m.notion_page_id, 'pushed', m.notion_pushed_hash, 'deleted', m.deleted_at is not null)
      from scoped.milestones m join scoped.projects p on p.id = m.project_id where m.id = p_id)
    when 'deliverable' then (
      select jsonb_build_object('name', d.name,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'waiting_for', case when p.notion_page_id is null then 'project' end, 'parent_id', p.id,
        'category', d.category, 'uploaded_on', d.created_at::date, 'file_url', d.file_url,
        'approval', d.approval, 'approval_note', d.approval_note,
        'notion_page_id', d.notion_page_id, 'pushed', d.notion_pushed_hash, 'deleted', d.deleted_at is not null)
      from scoped.deliverables d join scoped.projects p on p.id = d.project_id where d.id = p_id)
    when 'task' then (
      select jsonb_build_object('title', k.title, 'kind', k.kind, 'status', k.status, 'due_date', k.due_date,
        'completed_at', k.completed_at,
        'assignee', case when k.assignee_id is null then '[]'::jsonb else jsonb_build_array(k.assignee_id) end,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'lead_page', case when l.notion_page_id is null then '[]'::jsonb else jsonb_build_array(l.notion_page_id) end,
        'waiting_for', case when k.project_id is not null and p.notion_page_id is null then 'project'
                            when k.project_id is null and k.lead_id is not null and l.notion_page_id is null
                              then 'lead' end,
        'parent_id', coalesce(k.project_id, k.lead_id),
        'notion_page_id', k.notion_page_id, 'pushed', k.notion_pushed_hash, 'deleted', k.deleted_at is not null)
      from scoped.tasks k left join scoped.projects p on p.id = k.project_id
      left join scoped.leads l on l.id = k.lead_id where k.id = p_id)
  end
$function$;

-- The team's edits, applied: a task's, added; each with its author in the audit row and the project's History.
CREATE OR REPLACE FUNCTION public.apply_notion_changes(p_entity text, p_data_source_id text, p_changes jsonb, p_watermark timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
  v_decision jsonb;
  v_author jsonb;
  v_project uuid;
begin
  for c in select * from jsonb_array_elements(coalesce(p_changes->'changes', '[]'::jsonb)) loop
    execute format('select to_jsonb(t) from scoped.%I t where id = $1 for update', v_table)
      into v_old using (c->>'id')::uuid;
    continue when v_old is null;
    -- The person whose edit this is (Notion's user id and name), for the audit rows and the History lines below.
    v_author := case when jsonb_typeof(c->'author') = 'object' then c->'author' end;
    perform set_config('atelier.author', coalesce(left(v_author->>'name', 100), ''), true);

    if (c->>'trashed')::boolean is true and v_old->>'deleted_at' is null then
      execute format('update scoped.%I set deleted_at = now() where id = $1', v_table) using (c->>'id')::uuid;
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('notion.deleted', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id',
                                                                   'author', v_author));
      v_deleted := v_deleted + 1;
    elsif (c->>'trashed')::boolean is false and v_old->>'deleted_at' is not null then
      execute format('update scoped.%I set deleted_at = null where id = $1', v_table) using (c->>'id')::uuid;
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('notion.restored', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id',
                                                                   'author', v_author));
      v_restored := v_restored + 1;
    end if;

    if c ? 'values' and c->>'pulled_hash' is distinct from v_old->>'notion_pulled_hash' then
      if p_entity = 'lead' then
        -- The team's decision on a lead (20261206000100): a quote, a decline, or values kept for the next one.
        v_decision := app_private.lead_decision((c->>'id')::uuid, c->'values', (c->>'quote_cap')::bigint);
        update scoped.leads set notion_pulled_hash = c->>'pulled_hash' where id = (c->>'id')::uuid;
        if v_decision ? 'refused' and v_old->>'notion_page_id' is not null then
          insert into scoped.notion_comments (entity, record_id, page_id, body)
          values ('lead', (c->>'id')::uuid, v_old->>'notion_page_id',
                  left(format('Atelier did not act on this edit, and nothing was sent to the client: %s.',
                              v_decision->>'refused'), 2000));
          insert into scoped.audit_log (action, resource_type, resource_id, details)
          values ('lead.decision_refused', 'lead', c->>'id',
                  jsonb_build_object('values', c->'values', 'reason', v_decision->>'refused', 'author', v_author));
        end if;
        if jsonb_array_length(coalesce(v_decision->'repush', '[]'::jsonb)) > 0 then
          update scoped.leads set notion_pushed_hash = ((coalesce(notion_pushed_hash, '{}')::jsonb)
                                                        - array(select jsonb_array_elements_text(v_decision->'repush')))::text
           where id = (c->>'id')::uuid;
          perform app_private.enqueue_sync('lead', (c->>'id')::uuid);
        end if;
      elsif p_entity = 'project' then
        update scoped.projects set status = coalesce((c->'values'->>'status')::public.project_status, status),
               name = coalesce(nullif(btrim(c->'values'->>'name'), ''), name),
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      elsif p_entity = 'client' then
        update scoped.clients
           set project_address = case when c->'values' ? 'project_address'
                                      then nullif(btrim(c->'values'->>'project_address'), '')
                                      else project_address end,
               name = case when c->'values' ? 'name' then left(nullif(btrim(c->'values'->>'name'), ''), 200)
                           else name end,
               phone = case when c->'values' ? 'phone' then left(nullif(btrim(c->'values'->>'phone'), ''), 50)
                            else phone end,
               company = case when c->'values' ? 'company' then left(nullif(btrim(c->'values'->>'company'), ''), 200)
                              else company end,
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      elsif p_entity = 'milestone' then
        update scoped.milestones
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
      elsif p_entity = 'task' then
        update scoped.tasks
           set title = coalesce(left(nullif(btrim(c->'values'->>'title'), ''), 500), title),
               status = case when c->'values'->>'status' in ('open', 'in_progress', 'done')
                             then c->'values'->>'status' else status end,
               completed_at = case when c->'values' ? 'completed_at' and c->'values'->>'completed_at' is not null
                                   then (c->'values'->>'completed_at')::timestamptz
                                   when coalesce(c->'values'->>'status', status) = 'done' then completed_at
                                   else null end,
               due_date = case when c->'values' ? 'due_date' then (c->'values'->>'due_date')::date else due_date end,
               assignee_id = case when c->'values' ? 'assignee' then c->'values'->'assignee'->>0 else assignee_id end,
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      end if;
      execute format('select to_jsonb(t) from scoped.%I t where id = $1', v_table) into v_new
        using (c->>'id')::uuid;
      v_before := (select jsonb_object_agg(k, v_old->k) from jsonb_object_keys(c->'values') k);
      v_after := (select jsonb_object_agg(k, v_new->k) from jsonb_object_keys(c->'values') k);
      if v_after is distinct from v_before then
        -- The owner's value wins; the one it replaced is kept here.
        insert into scoped.audit_log (action, resource_type, resource_id, details)
        values ('notion.changed', p_entity, c->>'id', jsonb_build_object('new', v_after, 'old', v_before, 'author', v_author));
        v_applied := v_applied + 1;
        -- The project's History names the edit and its author.
        v_project := case p_entity when 'project' then (c->>'id')::uuid
                                   when 'milestone' then (v_new->>'project_id')::uuid
                                   when 'task' then (v_new->>'project_id')::uuid end;
        -- (A milestone done and a project delivered have lines of their own, which name the author too.)
        if v_project is not null
           and not (p_entity = 'milestone' and v_after->>'status' = 'completed'
                    and v_before->>'status' is distinct from 'completed')
           and not (p_entity = 'project' and v_after->>'status' = 'delivered'
                    and v_before->>'status' is distinct from 'delivered') then
          perform app_private.note_history(v_project, 'team_edit',
            format('%s %s edited in Notion: %s', initcap(p_entity),
                   coalesce('"' || left(coalesce(v_new->>'name', v_new->>'title'), 80) || '"', ''),
                   (select string_agg(replace(k, '_', ' '), ', ' order by k) from jsonb_object_keys(v_after) k
                     where v_after->k is distinct from v_before->k)),
            'team_edit:' || (c->>'id') || ':' || (c->>'pulled_hash'));
        end if;
      end if;
    end if;

    if jsonb_array_length(coalesce(c->'repush', '[]'::jsonb)) > 0 then
      -- A person changed a field Postgres owns: Postgres wins, Notion's value is kept in the audit log,
      -- and forgetting what we pushed for it sends our value again.
      execute format('update scoped.%I set notion_pushed_hash = ((coalesce(notion_pushed_hash, ''{}'')::jsonb)'
                     ' - $2)::text where id = $1', v_table)
        using (c->>'id')::uuid, array(select jsonb_array_elements_text(c->'repush'));
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('notion.overridden', p_entity, c->>'id', jsonb_build_object('notion_values', c->'lost', 'author', v_author));
      if nullif(c->>'comment', '') is not null and v_old->>'notion_page_id' is not null then
        insert into scoped.notion_comments (entity, record_id, page_id, body)
        values (p_entity::public.sync_entity, (c->>'id')::uuid, v_old->>'notion_page_id', left(c->>'comment', 2000));
      end if;
      perform app_private.enqueue_sync(p_entity::public.sync_entity, (c->>'id')::uuid);
      v_overridden := v_overridden + 1;
    end if;
  end loop;

  perform set_config('atelier.author', '', true);
  insert into scoped.sync_state as s (data_source_id, entity, watermark)
  values (p_data_source_id, p_entity::public.sync_entity, p_watermark)
  on conflict (data_source_id) do update
    set watermark = greatest(s.watermark, excluded.watermark)
    where s.watermark is distinct from greatest(s.watermark, excluded.watermark);

  return jsonb_build_object('applied', v_applied, 'deleted', v_deleted, 'restored', v_restored,
                            'overridden', v_overridden);
end
$function$;
