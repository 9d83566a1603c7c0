-- Undoes 20261207000100_conversation.sql.


drop trigger deliverables_round on public.deliverables;
drop trigger deliverables_awaits on public.deliverables;
drop trigger projects_ask_at_delivery on public.projects;
drop trigger notion_comments_message on public.notion_comments;
drop function public.portal_post_message, public.portal_decide, public.portal_answer_nps, public.portal_attachment,
  public.record_team_comment, public.record_team_comments, public.comment_pages;


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
    'held', public.report_held(p_from, p_to));
end
$function$;

drop function public.report_nps;


CREATE OR REPLACE FUNCTION public.claim_notion_comments(p_limit integer, p_lease_seconds integer)
 RETURNS jsonb
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with due as (
    select id from scoped.notion_comments
     where status = 'pending' and next_attempt_at <= now()
     order by created_at limit p_limit for update skip locked
  ), claimed as (
    update scoped.notion_comments n
       set attempts = n.attempts + 1, next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from due where n.id = due.id
    returning n.id, n.page_id, n.body, n.attempts, n.created_at
  )
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'page_id', page_id, 'body', body, 'attempts', attempts)
                            order by created_at), '[]'::jsonb)
    from claimed
$function$;

CREATE OR REPLACE FUNCTION public.portal_project(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'id', p.id, 'name', p.name, 'status', p.status, 'payment_status', p.payment_status, 'tier_name', t.name,
    'created_at', p.created_at,
    'payments', (select coalesce(jsonb_agg(jsonb_build_object('amount', x.amount, 'amount_refunded', x.amount_refunded,
                                                               'currency', x.currency, 'status', x.status,
                                                               'paid_at', x.created_at) order by x.created_at), '[]')
                   from scoped.payments x where x.project_id = p.id),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'order', m."order", 'status', m.status,
                                                                 'due_date', m.due_date, 'completed_at', m.completed_at)
                                             order by m."order"), '[]')
                     from scoped.milestones m where m.project_id = p.id and m.deleted_at is null),
    'deliverables', (select coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category,
                                                                   'file_type', d.file_type, 'file_size', d.file_size,
                                                                   'uploaded_at', d.created_at)
                                               order by d.created_at desc), '[]')
                       from scoped.deliverables d where d.project_id = p.id and d.deleted_at is null))
    from scoped.projects p left join scoped.tiers t on t.id = p.tier
   where p.id = p_id and p.deleted_at is null
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
        'notion_page_id', d.notion_page_id, 'pushed', d.notion_pushed_hash, 'deleted', d.deleted_at is not null)
      from scoped.deliverables d join scoped.projects p on p.id = d.project_id where d.id = p_id)
  end
$function$;

CREATE OR REPLACE FUNCTION app_private.notification_context(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'client_name', coalesce(l.name, ql.name, split_part(n.recipient, '@', 1)),
    'project_id', p.id, 'project_name', p.name, 'tier_name', coalesce(t.name, qt.name),
    'quote', (select jsonb_build_object('id', q.id, 'token', q.link_token, 'amount', q.amount,
                                        'currency', q.currency, 'note', q.note, 'status', q.status,
                                        'expires_at', q.expires_at, 'features', qt.features,
                                        'description', qt.description)
               where q.id is not null),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date,
                                                                'status', m.status) order by m."order"), '[]')
                     from scoped.milestones m where m.project_id = p.id and m.deleted_at is null),
    'milestone', (select jsonb_build_object('name', m.name, 'completed_at', m.completed_at)
                    from scoped.milestones m where m.id = n.subject_id),
    'deliverable', (select jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category)
                      from scoped.deliverables d where d.id = n.subject_id),
    'sign_in', (select jsonb_build_object('id', s.id, 'expires', floor(extract(epoch from s.expires_at))::bigint)
                  from scoped.portal_sign_ins s where s.id = n.subject_id),
    'payment', (select jsonb_build_object('amount', pay.amount, 'amount_refunded', pay.amount_refunded,
                                          'currency', pay.currency)
                  from scoped.payments pay where pay.project_id = p.id order by pay.created_at desc limit 1),
    'details', n.details)
    from scoped.notifications n
    left join scoped.projects p on p.id = n.project_id
    left join scoped.leads l on l.id = p.lead_id
    left join scoped.tiers t on t.id = p.tier
    left join scoped.quotes q on n.template = 'quote_sent' and q.id = n.subject_id
    left join scoped.tiers qt on qt.id = q.tier
    left join scoped.leads ql on ql.id = coalesce(q.lead_id, case when n.template = 'lead_declined'
                                                                  then n.subject_id end)
   where n.id = p_id
$function$;

drop table public.nps_answers, public.approvals, public.messages cascade;
drop function app_private.deliverable_round, app_private.deliverable_awaits, app_private.message_author,
  app_private.message_posted, app_private.message_commented, app_private.decision_taken, app_private.ask_at_delivery,
  app_private.nps_answered, app_private.never_rewritten, app_private.tell_team, app_private.client_name,
  app_private.project_delivered;

delete from public.project_history where kind in ('approval', 'feedback');
alter table public.project_history drop constraint project_history_kind_check;
alter table public.project_history add constraint project_history_kind_check
  check (kind in ('paid', 'milestone_done', 'delivered', 'refunded'));
delete from public.notifications where template in ('message_reply', 'nps_request');
alter table public.notifications drop constraint notifications_template_check;
alter table public.notifications add constraint notifications_template_check check (template in
  ('payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed', 'portal_sign_in',
   'weekly_report', 'quote_sent', 'lead_declined'));

drop trigger deliverables_enqueue_sync on public.deliverables;
create trigger deliverables_enqueue_sync after insert or update on public.deliverables for each row
  execute function app_private.enqueue_on_change('deliverable', 'name', 'category', 'file_url', 'deleted_at');
drop view scoped.deliverables;
alter table public.deliverables
  drop constraint deliverables_approval_check2,
  drop constraint deliverables_business_id_id_key,
  drop column needs_approval, drop column approval, drop column approval_note, drop column decided_at;
create view scoped.deliverables with (security_invoker = true) as
  select * from public.deliverables where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.deliverables to authenticated, service_role;

drop view scoped.projects;
alter table public.projects drop column nps_asked_at;
create view scoped.projects with (security_invoker = true) as
  select * from public.projects where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.projects to authenticated, service_role;

drop index public.notion_comments_comment_idx;
drop view scoped.notion_comments;
delete from public.notion_comments where page_id is null;
alter table public.notion_comments alter column page_id set not null, drop column message_id;
create view scoped.notion_comments with (security_invoker = true) as
  select * from public.notion_comments where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.notion_comments to authenticated, service_role;

delete from supabase_migrations.schema_migrations where version = '20261207000100';
