-- Row Level Security: who may read and write which rows, one policy per table and operation.
-- Rollback: infra/supabase/rollbacks/20261121000200_row_level_security.down.sql
--
-- The rules (DESIGN.md):
--   * anon reads only the public catalogue (tiers, milestone templates);
--   * a client (kaa_client, sage_client) reads only their own user row, client row, and the projects,
--     milestones, deliverables and payments that belong to them; they write nothing directly;
--   * team reads, inserts and updates everything; the audit log is append-only for them;
--   * admin has full access, including the hard deletes that nothing else may do;
--   * service_role (the backend) bypasses RLS.

-- The helpers read public.users as their owner: a policy that queried users under RLS would recurse.
create or replace function app_private.current_user_type() returns public.user_type
language sql stable security definer set search_path = ''
as $$
  select u.user_type from public.users u where u.id = auth.uid()
$$;

create or replace function app_private.is_team() returns boolean
language sql stable security definer set search_path = ''
as $$
  select coalesce(app_private.current_user_type() in ('team', 'admin'), false)
$$;

create or replace function app_private.is_admin() returns boolean
language sql stable security definer set search_path = ''
as $$
  select coalesce(app_private.current_user_type() = 'admin', false)
$$;

create or replace function app_private.my_client_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select c.id from public.clients c where c.user_id = auth.uid()
$$;

create or replace function app_private.my_project_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select p.id from public.projects p
  join public.clients c on c.id = p.client_id
  where c.user_id = auth.uid()
$$;

grant usage on schema app_private to anon, authenticated, service_role;
revoke all on all functions in schema app_private from public;
grant execute on function app_private.current_user_type(), app_private.is_team(), app_private.is_admin(),
  app_private.my_client_ids(), app_private.my_project_ids() to anon, authenticated, service_role;

-- Each table: who may read it (beyond the team), then the write rules.
do $$
declare
  rule record;
begin
  for rule in
    select * from (values
      -- table,               roles that may read,      read rule for non-team readers,                  update rule
      ('tiers',               'anon, authenticated',    'true',                                           'app_private.is_team()'),
      ('milestone_templates', 'anon, authenticated',    'true',                                           'app_private.is_team()'),
      ('users',               'authenticated',          'id = auth.uid()',                                'app_private.is_team()'),
      ('clients',             'authenticated',          'user_id = auth.uid()',                           'app_private.is_team()'),
      ('projects',            'authenticated',          'id in (select app_private.my_project_ids())',    'app_private.is_team()'),
      ('milestones',          'authenticated',          'project_id in (select app_private.my_project_ids())', 'app_private.is_team()'),
      ('deliverables',        'authenticated',          'project_id in (select app_private.my_project_ids())', 'app_private.is_team()'),
      ('payments',            'authenticated',          'project_id in (select app_private.my_project_ids())', 'app_private.is_team()'),
      ('leads',               'authenticated',          'false',                                          'app_private.is_team()'),
      ('audit_log',           'authenticated',          'false',                                          'app_private.is_admin()'),
      ('inbound_events',      'authenticated',          'false',                                          'app_private.is_team()'),
      ('sync_outbox',         'authenticated',          'false',                                          'app_private.is_team()'),
      ('sync_state',          'authenticated',          'false',                                          'app_private.is_team()')
    ) as r(tbl, readers, own_rows, update_rule)
  loop
    execute format('alter table public.%I enable row level security', rule.tbl);
    execute format('create policy %I on public.%I for select to %s using (app_private.is_team() or (%s))',
                   rule.tbl || '_select', rule.tbl, rule.readers, rule.own_rows);
    execute format('create policy %I on public.%I for insert to authenticated with check (app_private.is_team())',
                   rule.tbl || '_insert', rule.tbl);
    execute format('create policy %I on public.%I for update to authenticated using (%s) with check (%s)',
                   rule.tbl || '_update', rule.tbl, rule.update_rule, rule.update_rule);
    execute format('create policy %I on public.%I for delete to authenticated using (app_private.is_admin())',
                   rule.tbl || '_delete', rule.tbl);
  end loop;
end
$$;
