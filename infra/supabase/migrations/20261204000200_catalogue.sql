-- The catalogue in one read: the tiers (names, budget bands, prices, routing) and each tier's milestones, as the
-- seed writes them. Routing and the Notion options read it from here; nothing in the code names a tier.
-- Rollback: infra/supabase/rollbacks/20261204000200_catalogue.down.sql

create function public.catalogue() returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'tiers', coalesce((
      select jsonb_agg(jsonb_build_object('id', t.id, 'name', t.name, 'min_budget_cents', t.min_budget_cents,
                                          'max_budget_cents', t.max_budget_cents, 'routing', t.routing,
                                          'price_cents', t.price_cents, 'currency', t.currency) order by t.id)
        from public.tiers t), '[]'::jsonb),
    'milestones', coalesce((
      select jsonb_object_agg(m.tier, m.names)
        from (select tier, jsonb_agg(name order by "order") as names
                from public.milestone_templates group by tier) m), '{}'::jsonb))
$$;

revoke all on function public.catalogue() from public, anon, authenticated;
grant execute on function public.catalogue() to service_role;
