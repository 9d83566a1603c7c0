-- The client portal shows a signed-in client's open quotes (a returning client quoted for new work), with their
-- link. Read with the service role for the address the portal has signed in: a quote is the team's row, and RLS
-- keeps it theirs. The owner's report lists the payments held for the owner (a declined lead's late payment, a
-- replaced quote's, a second payment), whatever their date, until each is refunded or decided.
-- Rollback: infra/supabase/rollbacks/20261206000200_quote_portal.down.sql

create function public.portal_open_quotes(p_email text) returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'token', q.link_token, 'tier_name', t.name, 'amount', q.amount, 'currency', q.currency,
           'state', case when q.status = 'sent' and q.checkout_session_id is not null and q.expires_at <= now()
                         then 'expired' else q.status end,
           'expires_at', q.expires_at) order by q.created_at desc), '[]'::jsonb)
    from scoped.quotes q
    join scoped.leads l on l.id = q.lead_id
    join scoped.tiers t on t.id = q.tier
   where l.email = lower(btrim(p_email)) and q.status in ('sent', 'expired') and l.deleted_at is null
     and not exists (select 1 from scoped.projects p where p.lead_id = l.id)
$$;
revoke execute on function public.portal_open_quotes from public, anon, authenticated;
grant execute on function public.portal_open_quotes to service_role;

create function public.report_held(p_from date, p_to date) returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  perform app_private.report_reader();
  return (
    select coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'at', p.created_at, 'amount', p.amount,
                                                 'currency', p.currency, 'reason', p.review_reason,
                                                 'lead_id', p.lead_id) order by p.created_at), '[]'::jsonb)
      from scoped.payments p
     where p.review_reason is not null and p.project_id is null and p.status = 'succeeded');
end
$$;
revoke execute on function public.report_held from public, anon;
grant execute on function public.report_held to authenticated, service_role;

create or replace function public.report(p_from date, p_to date) returns jsonb
language plpgsql stable
security invoker
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
    'held', public.report_held(p_from, p_to));
end
$$;
