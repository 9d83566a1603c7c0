-- Projects in Notion show what was paid (net of refunds, in the currency's main unit) and when: the owner's
-- "amount paid by month" chart in Notion groups by the date and sums the amount. A payment that changes (a refund,
-- say) queues its project for Notion. Leads show the routing's confidence and red flags.
-- Rollback: infra/supabase/rollbacks/20261123001900_project_amount.down.sql

-- What Notion shows of one record (now with a project's amount paid and the day it was paid), by the mapping's column names; relations as lists of page ids.
create or replace function app_private.sync_record(p_entity public.sync_entity, p_id uuid) returns jsonb
language sql stable
as $$
  select case p_entity
    when 'lead' then (
      select jsonb_build_object('name', l.name, 'email', l.email, 'tier_name', t.name, 'status', l.status,
        'budget_range', l.budget_range, 'timeline_weeks', l.timeline_weeks, 'project_type', l.project_type,
        'needs_review', l.needs_review, 'routing_reason', l.routing_reason, 'confidence', l.confidence,
        'red_flags', to_jsonb(l.red_flags), 'notion_page_id', l.notion_page_id,
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
        'amount_paid', (select round(coalesce(sum(pay.amount - pay.amount_refunded), 0) / 100.0, 2)
                          from public.payments pay where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')),
        'paid_on', (select min(pay.created_at)::date from public.payments pay
                     where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')),
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

create or replace function app_private.enqueue_project_of_payment() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.project_id is not null then
    perform app_private.enqueue_sync('project', new.project_id);
  end if;
  return new;
end
$$;

create trigger payments_enqueue_project_sync after insert or update of amount, amount_refunded, status, project_id
  on public.payments for each row execute function app_private.enqueue_project_of_payment();

revoke execute on function app_private.sync_record, app_private.enqueue_project_of_payment
  from public, anon, authenticated;
grant execute on function app_private.sync_record to service_role;
