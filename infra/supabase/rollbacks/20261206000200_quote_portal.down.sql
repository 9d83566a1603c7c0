-- Undoes 20261206000200_quote_portal.sql.

drop function public.portal_open_quotes;

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
    'sync', public.report_sync(p_from, p_to));
end
$$;
drop function public.report_held;

delete from supabase_migrations.schema_migrations where version = '20261206000200';
