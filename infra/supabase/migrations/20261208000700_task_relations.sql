-- A task about a project points at the project alone in Notion: its lead's page may come later than the task's,
-- and nothing would move the task's page then. A lead's task points at the lead, whose page it waits for.
-- The project doorbell pushes the project's tasks with it: "Prepare kickoff" is in Notion as the project is.
-- Rollback: infra/supabase/rollbacks/20261208000700_task_relations.down.sql

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
        -- A project's task points at the project alone; a lead's at the lead (its page exists before the task's).
        'lead_page', case when k.project_id is not null or l.notion_page_id is null then '[]'::jsonb
                          else jsonb_build_array(l.notion_page_id) end,
        'waiting_for', case when k.project_id is not null and p.notion_page_id is null then 'project'
                            when k.project_id is null and k.lead_id is not null and l.notion_page_id is null
                              then 'lead' end,
        'parent_id', coalesce(k.project_id, k.lead_id),
        'notion_page_id', k.notion_page_id, 'pushed', k.notion_pushed_hash, 'deleted', k.deleted_at is not null)
      from scoped.tasks k left join scoped.projects p on p.id = k.project_id
      left join scoped.leads l on l.id = k.lead_id where k.id = p_id)
  end
$function$;

CREATE OR REPLACE FUNCTION public.claim_outbox(p_limit integer, p_lease_seconds integer, p_project_id uuid DEFAULT NULL::uuid, p_holder text DEFAULT NULL::text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_claimed jsonb;
begin
  with due as (
    select o.id from scoped.sync_outbox o
    where o.status = 'pending' and o.next_attempt_at <= now()
      and (p_project_id is null
           or (o.entity = 'project' and o.entity_id = p_project_id)
           or (o.entity = 'client' and o.entity_id = (select client_id from scoped.projects where id = p_project_id))
           or (o.entity = 'milestone' and o.entity_id in (select id from scoped.milestones where project_id = p_project_id))
           or (o.entity = 'deliverable' and o.entity_id in (select id from scoped.deliverables where project_id = p_project_id))
           or (o.entity = 'task' and o.entity_id in (select id from scoped.tasks where project_id = p_project_id)))
    order by case o.entity when 'lead' then 0 when 'client' then 1 when 'project' then 2 else 3 end, o.id
    limit p_limit
    for update skip locked
  ), claimed as (
    update scoped.sync_outbox o
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
$function$;
