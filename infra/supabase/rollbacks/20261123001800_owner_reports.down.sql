-- Undoes 20261123001800_owner_reports.sql: notification_context and record_notion_event as 20261123001700 and
-- 20261123001500 made them.
drop function if exists public.report(date, date);
drop function if exists public.report_funnel(date, date);
drop function if exists public.report_revenue(date, date);
drop function if exists public.report_projects(date, date);
drop function if exists public.report_milestones(date, date);
drop function if exists public.report_cycle_times(date, date);
drop function if exists public.report_sync(date, date);
drop function if exists app_private.report_bounds(date, date);
drop function if exists app_private.report_reader();
drop function if exists app_private.spread(double precision[], double precision);
drop index if exists public.leads_created_at_idx;
drop index if exists public.payments_created_at_idx;
drop index if exists public.projects_created_at_idx;
drop index if exists public.milestones_due_date_idx;
drop index if exists public.milestones_project_id_idx;
drop function if exists public.queue_weekly_report(text, date);
delete from public.notifications where template = 'weekly_report';
alter table public.notifications drop constraint notifications_template_check;
alter table public.notifications add constraint notifications_template_check check (template in
  ('payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed', 'portal_sign_in'));

-- What a template needs: the project's facts where the message is about one, the sign-in where it is one.
create or replace function app_private.notification_context(p_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'client_name', coalesce(l.name, split_part(n.recipient, '@', 1)),
    'project_id', p.id, 'project_name', p.name, 'tier_name', t.name,
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date,
                                                                'status', m.status) order by m."order"), '[]')
                     from public.milestones m where m.project_id = p.id and m.deleted_at is null),
    'milestone', (select jsonb_build_object('name', m.name, 'completed_at', m.completed_at)
                    from public.milestones m where m.id = n.subject_id),
    'deliverable', (select jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category)
                      from public.deliverables d where d.id = n.subject_id),
    'sign_in', (select jsonb_build_object('id', s.id, 'expires', floor(extract(epoch from s.expires_at))::bigint)
                  from public.portal_sign_ins s where s.id = n.subject_id),
    'payment', (select jsonb_build_object('amount', pay.amount, 'amount_refunded', pay.amount_refunded,
                                          'currency', pay.currency)
                  from public.payments pay where pay.project_id = p.id order by pay.created_at desc limit 1))
    from public.notifications n
    left join public.projects p on p.id = n.project_id
    left join public.leads l on l.id = p.lead_id
    left join public.tiers t on t.id = p.tier
   where n.id = p_id
$$;

revoke execute on function app_private.notification_context from public, anon, authenticated;
grant execute on function app_private.notification_context to service_role;
alter table public.notifications drop column if exists details;
drop function if exists public.record_notion_event(text, text, text, boolean, timestamptz);
-- Records a delivery; false when its id was seen already. p_applied false: acknowledged and ignored (a type
-- Atelier does not act on).
create or replace function public.record_notion_event(p_event_id text, p_event_type text, p_entity_id text,
                                                      p_applied boolean) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  insert into public.inbound_events (source, event_id, event_type, outcome, payload)
  values ('notion', p_event_id, p_event_type,
          case when p_applied then 'applied'::public.inbound_outcome else 'ignored'::public.inbound_outcome end,
          jsonb_build_object('entity_id', p_entity_id))
  on conflict (source, event_id) do nothing;
  return found;
end
$$;

revoke execute on function public.record_notion_event from public, anon, authenticated;
grant execute on function public.record_notion_event to service_role;
delete from supabase_migrations.schema_migrations where version = '20261123001800';
