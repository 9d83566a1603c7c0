-- The client portal shows a signed-in client's open quotes (a returning client quoted for new work), with their
-- link. Read with the service role for the address the portal has signed in: a quote is the team's row, and RLS
-- keeps it theirs.
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
