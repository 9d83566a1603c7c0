-- Undoes 20261123001700_client_portal.sql: notification_context as 20261123001600 made it.
drop function if exists public.portal_project(uuid);
drop function if exists public.portal_projects();
drop function if exists public.use_portal_sign_in(uuid);
drop function if exists public.start_portal_sign_in(text, text, integer, integer, integer, boolean);
delete from public.notifications where template = 'portal_sign_in';
alter table public.notifications drop constraint notifications_template_check;
alter table public.notifications add constraint notifications_template_check check (template in
  ('payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed'));
drop table if exists public.portal_sign_ins;
drop function if exists app_private.backend_written(text, text);
create or replace function app_private.notification_context(p_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'client_name', coalesce(l.name, split_part(u.email, '@', 1)),
    'project_id', p.id, 'project_name', p.name, 'tier_name', t.name,
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date,
                                                                'status', m.status) order by m."order"), '[]')
                     from public.milestones m where m.project_id = p.id and m.deleted_at is null),
    'milestone', (select jsonb_build_object('name', m.name, 'completed_at', m.completed_at)
                    from public.milestones m where m.id = n.subject_id),
    'deliverable', (select jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category)
                      from public.deliverables d where d.id = n.subject_id),
    'payment', (select jsonb_build_object('amount', pay.amount, 'amount_refunded', pay.amount_refunded,
                                          'currency', pay.currency)
                  from public.payments pay where pay.project_id = p.id order by pay.created_at desc limit 1))
    from public.notifications n
    join public.projects p on p.id = n.project_id
    join public.clients c on c.id = p.client_id
    join public.users u on u.id = c.user_id
    left join public.leads l on l.id = p.lead_id
    left join public.tiers t on t.id = p.tier
   where n.id = p_id
$$;
delete from supabase_migrations.schema_migrations where version = '20261123001700';
