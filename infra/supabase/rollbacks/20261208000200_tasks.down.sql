-- Undoes 20261208000200_tasks.sql: no tasks, no digest, and the functions as 20261207000200 left them.

delete from public.notifications where template = 'task_digest';
alter table public.notifications drop constraint notifications_template_check;
alter table public.notifications add constraint notifications_template_check check (template in (
  'payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed', 'portal_sign_in',
  'weekly_report', 'quote_sent', 'lead_declined', 'message_reply', 'nps_request'));
delete from public.project_history where kind = 'team_edit';
alter table public.project_history drop constraint project_history_kind_check;
alter table public.project_history add constraint project_history_kind_check check (kind in (
  'paid', 'milestone_done', 'delivered', 'refunded', 'approval', 'feedback'));

CREATE OR REPLACE FUNCTION public.report(p_from date, p_to date)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
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
    'nps', public.report_nps(p_from, p_to));
end
$function$;

CREATE OR REPLACE FUNCTION app_private.note_history(p_project_id uuid, p_kind text, p_summary text, p_key text)
 RETURNS void
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO ''
AS $function$
  insert into public.project_history (project_id, kind, summary, dedupe_key)
  values (p_project_id, p_kind, p_summary, p_key)
  on conflict (dedupe_key) do nothing
$function$;

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
  end
$function$;

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
begin
  for c in select * from jsonb_array_elements(coalesce(p_changes->'changes', '[]'::jsonb)) loop
    execute format('select to_jsonb(t) from scoped.%I t where id = $1 for update', v_table)
      into v_old using (c->>'id')::uuid;
    continue when v_old is null;

    if (c->>'trashed')::boolean is true and v_old->>'deleted_at' is null then
      execute format('update scoped.%I set deleted_at = now() where id = $1', v_table) using (c->>'id')::uuid;
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('notion.deleted', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id'));
      v_deleted := v_deleted + 1;
    elsif (c->>'trashed')::boolean is false and v_old->>'deleted_at' is not null then
      execute format('update scoped.%I set deleted_at = null where id = $1', v_table) using (c->>'id')::uuid;
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('notion.restored', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id'));
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
                  jsonb_build_object('values', c->'values', 'reason', v_decision->>'refused'));
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
      end if;
      execute format('select to_jsonb(t) from scoped.%I t where id = $1', v_table) into v_new
        using (c->>'id')::uuid;
      v_before := (select jsonb_object_agg(k, v_old->k) from jsonb_object_keys(c->'values') k);
      v_after := (select jsonb_object_agg(k, v_new->k) from jsonb_object_keys(c->'values') k);
      if v_after is distinct from v_before then
        -- The owner's value wins; the one it replaced is kept here.
        insert into scoped.audit_log (action, resource_type, resource_id, details)
        values ('notion.changed', p_entity, c->>'id', jsonb_build_object('new', v_after, 'old', v_before));
        v_applied := v_applied + 1;
      end if;
    end if;

    if jsonb_array_length(coalesce(c->'repush', '[]'::jsonb)) > 0 then
      -- A person changed a field Postgres owns: Postgres wins, Notion's value is kept in the audit log,
      -- and forgetting what we pushed for it sends our value again.
      execute format('update scoped.%I set notion_pushed_hash = ((coalesce(notion_pushed_hash, ''{}'')::jsonb)'
                     ' - $2)::text where id = $1', v_table)
        using (c->>'id')::uuid, array(select jsonb_array_elements_text(c->'repush'));
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('notion.overridden', p_entity, c->>'id', jsonb_build_object('notion_values', c->'lost'));
      if nullif(c->>'comment', '') is not null and v_old->>'notion_page_id' is not null then
        insert into scoped.notion_comments (entity, record_id, page_id, body)
        values (p_entity::public.sync_entity, (c->>'id')::uuid, v_old->>'notion_page_id', left(c->>'comment', 2000));
      end if;
      perform app_private.enqueue_sync(p_entity::public.sync_entity, (c->>'id')::uuid);
      v_overridden := v_overridden + 1;
    end if;
  end loop;

  insert into scoped.sync_state as s (data_source_id, entity, watermark)
  values (p_data_source_id, p_entity::public.sync_entity, p_watermark)
  on conflict (data_source_id) do update
    set watermark = greatest(s.watermark, excluded.watermark)
    where s.watermark is distinct from greatest(s.watermark, excluded.watermark);

  return jsonb_build_object('applied', v_applied, 'deleted', v_deleted, 'restored', v_restored,
                            'overridden', v_overridden);
end
$function$;

drop function public.queue_task_digest(text);
drop function public.overdue_tasks();
drop function public.adopt_notion_task(text, text, date, text, text, text, text, boolean);
drop function public.assign_tasks(text, text);
drop trigger projects_task on public.projects;
drop function app_private.task_of_project();
drop trigger leads_task on public.leads;
drop function app_private.task_of_lead();
drop function app_private.add_task(uuid, text, text, uuid, uuid, integer, text);
alter table public.businesses drop column task_assignees;
delete from public.sync_outbox where entity = 'task';
delete from public.notion_properties where entity = 'task';
delete from public.sync_state where entity = 'task';
delete from public.notion_comments where entity = 'task';
drop view scoped.tasks;
drop table public.tasks;
drop function app_private.task_done();
drop function app_private.business_today(uuid);
drop function app_private.business_days_after(date, integer);

delete from supabase_migrations.schema_migrations where version = '20261208000200';
