-- Undoes 20261121000200_row_level_security.sql: drops every policy and turns RLS off again.
do $$
declare
  t text;
  p record;
begin
  foreach t in array array['tiers', 'milestone_templates', 'users', 'clients', 'projects', 'milestones',
                           'deliverables', 'payments', 'leads', 'audit_log', 'inbound_events',
                           'sync_outbox', 'sync_state']
  loop
    for p in select policyname from pg_policies where schemaname = 'public' and tablename = t loop
      execute format('drop policy %I on public.%I', p.policyname, t);
    end loop;
    execute format('alter table public.%I disable row level security', t);
  end loop;
end
$$;
drop function if exists app_private.my_project_ids(), app_private.my_client_ids(), app_private.is_admin(),
  app_private.is_team(), app_private.current_user_type();
delete from supabase_migrations.schema_migrations where version = '20261121000200';
