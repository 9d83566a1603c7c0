-- Undoes 20261205000100_businesses.sql. Only while one business exists: the rows of any other would lose their owner.
do $$
begin
  if (select count(*) from public.businesses) > 1 then
    raise exception 'more than one business: move or remove the others before rolling back';
  end if;
end
$$;

drop schema scoped cascade;
do $$
declare
  t text;
begin
  foreach t in array array['milestones', 'payments', 'deliverables', 'notifications', 'project_history',
                           'sync_outbox', 'notion_comments'] loop
    execute format('drop trigger %I on public.%I', t || '_business', t);
  end loop;
end
$$;
drop function app_private.take_business_of_parent();

alter table public.projects drop constraint projects_client_id_fkey, drop constraint projects_lead_id_fkey,
  add constraint projects_client_id_fkey foreign key (client_id) references public.clients (id),
  add constraint projects_lead_id_fkey foreign key (lead_id) references public.leads (id);
alter table public.payments drop constraint payments_project_id_fkey, drop constraint payments_lead_id_fkey,
  add constraint payments_project_id_fkey foreign key (project_id) references public.projects (id),
  add constraint payments_lead_id_fkey foreign key (lead_id) references public.leads (id);
alter table public.milestones drop constraint milestones_project_id_fkey,
  add constraint milestones_project_id_fkey foreign key (project_id) references public.projects (id);
alter table public.deliverables drop constraint deliverables_project_id_fkey,
  add constraint deliverables_project_id_fkey foreign key (project_id) references public.projects (id);
alter table public.notifications drop constraint notifications_project_id_fkey,
  add constraint notifications_project_id_fkey foreign key (project_id) references public.projects (id);
alter table public.project_history drop constraint project_history_project_id_fkey,
  add constraint project_history_project_id_fkey foreign key (project_id) references public.projects (id);
alter table public.clients drop constraint clients_tier_fkey;
alter table public.leads drop constraint leads_recommended_tier_fkey;
alter table public.milestone_templates drop constraint milestone_templates_tier_fkey;
alter table public.milestones drop constraint milestones_tier_fkey;
alter table public.payments drop constraint payments_tier_fkey;
alter table public.projects drop constraint projects_tier_fkey;
alter table public.clients drop constraint clients_business_id_id_key;
alter table public.leads drop constraint leads_business_id_id_key;
alter table public.projects drop constraint projects_business_id_id_key;

alter table public.tiers drop constraint tiers_pkey, add primary key (id);
alter table public.tiers drop constraint tiers_name_key, add constraint tiers_name_key unique (name);
alter table public.milestone_templates drop constraint milestone_templates_tier_order_key,
  add constraint milestone_templates_tier_order_key unique (tier, "order");
drop index public.clients_user_idx;
alter table public.clients drop constraint clients_user_id_key, add constraint clients_user_id_key unique (user_id);
alter table public.notion_budget drop constraint notion_budget_pkey, add primary key (name);
alter table public.sync_lease drop constraint sync_lease_pkey, add primary key (name);
alter table public.notion_webhook_arming drop constraint notion_webhook_arming_pkey, add primary key (id);
alter table public.users drop constraint users_tier_check,
  add constraint users_tier_fkey foreign key (tier) references public.tiers (id);
alter table public.clients add constraint clients_tier_fkey foreign key (tier) references public.tiers (id);
alter table public.leads add constraint leads_recommended_tier_fkey foreign key (recommended_tier) references public.tiers (id);
alter table public.milestone_templates add constraint milestone_templates_tier_fkey foreign key (tier) references public.tiers (id);
alter table public.milestones add constraint milestones_tier_fkey foreign key (tier) references public.tiers (id);
alter table public.payments add constraint payments_tier_fkey foreign key (tier) references public.tiers (id);
alter table public.projects add constraint projects_tier_fkey foreign key (tier) references public.tiers (id);

do $$
declare
  t text;
begin
  foreach t in array array['audit_log', 'clients', 'deliverables', 'inbound_events', 'leads', 'milestone_templates',
                           'milestones', 'notifications', 'notion_budget', 'notion_comments', 'notion_properties',
                           'notion_webhook_arming', 'payments', 'portal_sessions', 'portal_sign_ins',
                           'project_history', 'projects', 'rate_limit_hits', 'report_links', 'sync_lease',
                           'sync_outbox', 'sync_state', 'tiers'] loop
    execute format('alter table public.%I drop column business_id', t);
  end loop;
end
$$;

drop trigger users_join_default_business on public.users;
drop function app_private.join_default_business();
create or replace function app_private.is_team() returns boolean
language sql stable security definer set search_path = ''
as $$ select coalesce(app_private.current_user_type() in ('team', 'admin'), false) $$;
create or replace function app_private.is_admin() returns boolean
language sql stable security definer set search_path = ''
as $$ select coalesce(app_private.current_user_type() = 'admin', false) $$;
drop function app_private.is_team(uuid);
drop function app_private.is_admin(uuid);
drop function app_private.business_id();
drop function app_private.default_business();
drop table public.business_members;
drop table public.businesses;

delete from supabase_migrations.schema_migrations where version = '20261205000100';
