-- Studios: one deployment serves several businesses. Each row of business data carries its `business_id`; the
-- first business (by `position`) is the default, and today's data moves into it with every id kept.
--
-- How a call knows its business: `app_private.business_id()`. A signed-in user's claims carry `business_id`; the
-- backend's calls carry it as the `x-atelier-business` request header (PostgREST puts request headers in
-- `request.headers`; the psycopg port sets the same setting). With neither, the default business: a deployment
-- with one business never names it.
--
-- The `scoped` schema holds one view per business table: that table's rows of the current business, security
-- invoker, with a check option. The functions read and write through them (next migration), so no function can
-- see or touch another business's rows. Its views are `select *`: a later migration that adds a column to a
-- business table recreates that table's view.
-- Rollback: infra/supabase/rollbacks/20261205000100_businesses.down.sql

create table public.businesses (
  id uuid primary key default gen_random_uuid(),
  position bigint generated always as identity unique,
  slug text not null unique
    check (slug ~ '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$'),
  name text not null check (length(btrim(name)) between 1 and 100),
  domain text unique check (domain ~ '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$'),  -- its custom domain, if any
  legal_name text check (length(legal_name) <= 200),
  contact_email text check (length(contact_email) <= 320),
  address text check (length(address) <= 500),
  currency text not null default 'usd' check (currency ~ '^[a-z]{3}$'),
  time_zone text not null default 'UTC' check (length(time_zone) between 1 and 64),
  brand_colour text not null default '#1f3a5f' check (brand_colour ~ '^#[0-9a-fA-F]{6}$'),
  logo_key text check (length(logo_key) <= 500),
  -- References to secrets, never the secrets: Secrets Manager ARNs in production, dev.json keys locally.
  stripe_secret_key_ref text check (length(stripe_secret_key_ref) <= 2048),
  stripe_webhook_secret_ref text check (length(stripe_webhook_secret_ref) <= 2048),
  notion_token_ref text check (length(notion_token_ref) <= 2048),
  notion_webhook_token_ref text check (length(notion_webhook_token_ref) <= 2048),
  ses_sender text check (length(ses_sender) <= 320),
  -- Its own Notion workspace: the page the databases live under, and (locally only) its emulator's address.
  notion_parent_page_id text check (length(notion_parent_page_id) <= 100),
  notion_base_url text check (length(notion_base_url) <= 500),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.businesses is 'One row per business this deployment serves; the first (by position) is the default.';

create trigger businesses_updated_at before update on public.businesses
  for each row execute function app_private.set_updated_at();

-- Today's single studio becomes the first business.
insert into public.businesses (slug, name) values ('studio', 'The Studio');

create table public.business_members (
  business_id uuid not null references public.businesses (id),
  user_id uuid not null references public.users (id),
  role text not null check (role in ('team', 'admin')),
  created_at timestamptz not null default now(),
  primary key (business_id, user_id)
);
create index business_members_user_idx on public.business_members (user_id);
comment on table public.business_members is 'Who works for which business, and as what: row-level security reads it.';

-- Every team member and admin of the one studio is a member of the first business.
insert into public.business_members (business_id, user_id, role)
select b.id, u.id, u.user_type::text
  from public.users u cross join (select id from public.businesses order by position limit 1) b
 where u.user_type in ('team', 'admin');

create function app_private.default_business() returns uuid
language sql stable security definer
set search_path = ''
as $$
  select b.id from public.businesses b order by b.position limit 1
$$;

create function app_private.business_id() returns uuid
language sql stable
set search_path = ''
as $$
  select coalesce(
    (nullif(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'business_id')::uuid,
    (nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-atelier-business')::uuid,
    app_private.default_business())
$$;
comment on function app_private.business_id() is
  'The business of this call: the claims'' business_id, else the x-atelier-business header, else the default.';

create function app_private.is_team(p_business uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (select 1 from public.business_members m
                  where m.user_id = auth.uid() and m.business_id = p_business)
$$;

create function app_private.is_admin(p_business uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (select 1 from public.business_members m
                  where m.user_id = auth.uid() and m.business_id = p_business and m.role = 'admin')
$$;

-- The argument-less checks now mean: in the business of this call.
create or replace function app_private.is_team() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select app_private.is_team(app_private.business_id())
$$;

create or replace function app_private.is_admin() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select app_private.is_admin(app_private.business_id())
$$;

grant execute on function app_private.default_business(), app_private.business_id(), app_private.is_team(uuid),
  app_private.is_admin(uuid) to anon, authenticated, service_role;

-- A team or admin user with no membership when their transaction commits joins the default business: a
-- deployment with one business adds its team as it always did. To add someone to another business, insert the
-- membership in the same transaction (`atelier business member add`).
create function app_private.join_default_business() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.user_type in ('team', 'admin')
     and not exists (select 1 from public.business_members m where m.user_id = new.id)
     and exists (select 1 from public.users u where u.id = new.id and u.user_type = new.user_type) then
    insert into public.business_members (business_id, user_id, role)
    values (app_private.default_business(), new.id, new.user_type::text)
    on conflict do nothing;
  end if;
  return null;
end
$$;

create constraint trigger users_join_default_business
  after insert or update of user_type on public.users
  deferrable initially deferred
  for each row execute function app_private.join_default_business();

-- business_id on every table that holds business data; existing rows belong to the first business.
do $$
declare
  t text;
begin
  foreach t in array array['audit_log', 'clients', 'deliverables', 'inbound_events', 'leads', 'milestone_templates',
                           'milestones', 'notifications', 'notion_budget', 'notion_comments', 'notion_properties',
                           'notion_webhook_arming', 'payments', 'portal_sessions', 'portal_sign_ins',
                           'project_history', 'projects', 'rate_limit_hits', 'report_links', 'sync_lease',
                           'sync_outbox', 'sync_state', 'tiers'] loop
    execute format('alter table public.%I add column business_id uuid', t);
    execute format('update public.%I set business_id = app_private.default_business()', t);
    execute format('alter table public.%I alter column business_id set default app_private.business_id(),'
                   ' alter column business_id set not null,'
                   ' add constraint %I foreign key (business_id) references public.businesses (id)',
                   t, t || '_business_id_fkey');
    execute format('create index %I on public.%I (business_id)', t || '_business_idx', t);
  end loop;
end
$$;

-- Keys that were one per deployment are one per business.
alter table public.users drop constraint users_tier_fkey;  -- a user may be a client of several businesses
alter table public.users add constraint users_tier_check check (tier between 1 and 4);
alter table public.clients drop constraint clients_tier_fkey;
alter table public.leads drop constraint leads_recommended_tier_fkey;
alter table public.milestone_templates drop constraint milestone_templates_tier_fkey;
alter table public.milestones drop constraint milestones_tier_fkey;
alter table public.payments drop constraint payments_tier_fkey;
alter table public.projects drop constraint projects_tier_fkey;
alter table public.tiers drop constraint tiers_pkey, add primary key (business_id, id);
alter table public.tiers drop constraint tiers_name_key, add constraint tiers_name_key unique (business_id, name);
alter table public.milestone_templates drop constraint milestone_templates_tier_order_key,
  add constraint milestone_templates_tier_order_key unique (business_id, tier, "order");
alter table public.clients drop constraint clients_user_id_key,
  add constraint clients_user_id_key unique (business_id, user_id);
create index clients_user_idx on public.clients (user_id);
alter table public.notion_budget drop constraint notion_budget_pkey, add primary key (business_id, name);
alter table public.sync_lease drop constraint sync_lease_pkey, add primary key (business_id, name);
alter table public.notion_webhook_arming drop constraint notion_webhook_arming_pkey, add primary key (business_id, id);

-- Foreign keys include the business: a project cannot point at another business's client, lead or tier.
alter table public.clients add constraint clients_business_id_id_key unique (business_id, id);
alter table public.leads add constraint leads_business_id_id_key unique (business_id, id);
alter table public.projects add constraint projects_business_id_id_key unique (business_id, id);

alter table public.clients add constraint clients_tier_fkey
  foreign key (business_id, tier) references public.tiers (business_id, id);
alter table public.leads add constraint leads_recommended_tier_fkey
  foreign key (business_id, recommended_tier) references public.tiers (business_id, id);
alter table public.milestone_templates add constraint milestone_templates_tier_fkey
  foreign key (business_id, tier) references public.tiers (business_id, id);
alter table public.milestones add constraint milestones_tier_fkey
  foreign key (business_id, tier) references public.tiers (business_id, id);
alter table public.payments add constraint payments_tier_fkey
  foreign key (business_id, tier) references public.tiers (business_id, id);
alter table public.projects add constraint projects_tier_fkey
  foreign key (business_id, tier) references public.tiers (business_id, id);

alter table public.projects
  drop constraint projects_client_id_fkey,
  add constraint projects_client_id_fkey foreign key (business_id, client_id) references public.clients (business_id, id),
  drop constraint projects_lead_id_fkey,
  add constraint projects_lead_id_fkey foreign key (business_id, lead_id) references public.leads (business_id, id);
alter table public.payments
  drop constraint payments_project_id_fkey,
  add constraint payments_project_id_fkey
    foreign key (business_id, project_id) references public.projects (business_id, id),
  drop constraint payments_lead_id_fkey,
  add constraint payments_lead_id_fkey foreign key (business_id, lead_id) references public.leads (business_id, id);
alter table public.milestones drop constraint milestones_project_id_fkey,
  add constraint milestones_project_id_fkey
    foreign key (business_id, project_id) references public.projects (business_id, id);
alter table public.deliverables drop constraint deliverables_project_id_fkey,
  add constraint deliverables_project_id_fkey
    foreign key (business_id, project_id) references public.projects (business_id, id);
alter table public.notifications drop constraint notifications_project_id_fkey,
  add constraint notifications_project_id_fkey
    foreign key (business_id, project_id) references public.projects (business_id, id);
alter table public.project_history drop constraint project_history_project_id_fkey,
  add constraint project_history_project_id_fkey
    foreign key (business_id, project_id) references public.projects (business_id, id);

-- A project's rows belong to the project's business, and a record's outbox row to the record's, whatever the
-- business of the call that wrote them (a trigger may write them on another's behalf).
create function app_private.take_business_of_parent() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_business uuid;
begin
  if tg_table_name = 'sync_outbox' then
    execute format('select business_id from public.%I where id = $1', app_private.synced_table(new.entity::text))
      into v_business using new.entity_id;
  elsif tg_table_name = 'notion_comments' then
    execute format('select business_id from public.%I where id = $1', app_private.synced_table(new.entity::text))
      into v_business using new.record_id;
  elsif new.project_id is not null then
    select p.business_id into v_business from public.projects p where p.id = new.project_id;
  end if;
  new.business_id := coalesce(v_business, new.business_id);
  return new;
end
$$;

do $$
declare
  t text;
begin
  foreach t in array array['milestones', 'payments', 'deliverables', 'notifications', 'project_history',
                           'sync_outbox', 'notion_comments'] loop
    execute format('create trigger %I before insert on public.%I for each row'
                   ' execute function app_private.take_business_of_parent()', t || '_business', t);
  end loop;
end
$$;

-- The scoped views: this business's rows of each business table.
create schema scoped;
grant usage on schema scoped to anon, authenticated, service_role;

do $$
declare
  t text;
begin
  foreach t in array array['audit_log', 'clients', 'deliverables', 'inbound_events', 'leads', 'milestone_templates',
                           'milestones', 'notifications', 'notion_budget', 'notion_comments', 'notion_properties',
                           'notion_webhook_arming', 'payments', 'portal_sessions', 'portal_sign_ins',
                           'project_history', 'projects', 'rate_limit_hits', 'report_links', 'sync_lease',
                           'sync_outbox', 'sync_state', 'tiers'] loop
    execute format('create view scoped.%I with (security_invoker = true) as select * from public.%I'
                   ' where business_id = (select app_private.business_id()) with cascaded check option', t, t);
    execute format('grant select, insert, update, delete on scoped.%I to authenticated, service_role', t);
  end loop;
end
$$;
grant select on scoped.tiers, scoped.milestone_templates to anon;

alter table public.businesses enable row level security;
alter table public.business_members enable row level security;
