-- Core schema: the studio's tables, enums, integrity rules and updated_at upkeep.
-- Rollback: infra/supabase/rollbacks/20261121000100_core_schema.down.sql

create schema if not exists app_private;
revoke all on schema app_private from public;

-- Enums (values as in DESIGN.md; `converted` is added to lead_status for paid leads).
create type public.lead_status as enum ('new', 'qualified', 'needs_review', 'converted', 'closed');
create type public.project_status as enum
  ('onboarding', 'in_progress', 'awaiting_feedback', 'revisions', 'delivered', 'closed');
create type public.payment_status as enum ('pending', 'paid', 'refunded');
create type public.milestone_status as enum ('pending', 'in_progress', 'completed');
create type public.payment_state as enum ('pending', 'succeeded', 'failed', 'refunded');
create type public.user_type as enum ('kaa_client', 'sage_client', 'team', 'admin');
create type public.client_status as enum ('onboarding', 'active', 'completed', 'closed');
create type public.project_type as enum (
  'simple_renovation', 'standard_renovation', 'small_addition', 'standard_addition',
  'major_renovation', 'new_build', 'complex_project', 'multiple_properties'
);
create type public.routing_mode as enum ('auto', 'conditional', 'manual');
create type public.deliverable_category as enum
  ('Document', 'Photo', 'Drawing', 'Render', 'Invoice', 'Contract', 'Other');
create type public.outbox_status as enum ('pending', 'done', 'dead');
create type public.sync_entity as enum ('lead', 'client', 'project', 'milestone', 'deliverable');
create type public.inbound_outcome as enum ('applied', 'ignored', 'rejected');

create or replace function app_private.set_updated_at() returns trigger
language plpgsql
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- Service tiers, seeded by seed.sql.
create table public.tiers (
  id smallint primary key check (id between 1 and 4),
  name text not null unique check (length(btrim(name)) > 0),
  description text not null default '',
  min_budget_cents bigint not null check (min_budget_cents >= 0),
  max_budget_cents bigint check (max_budget_cents is null or max_budget_cents > min_budget_cents),
  routing public.routing_mode not null,
  price_cents bigint not null check (price_cents > 0),
  currency char(3) not null default 'usd' check (currency ~ '^[a-z]{3}$'),
  stripe_product_id text,
  stripe_price_id text,
  features jsonb not null default '[]'::jsonb check (jsonb_typeof(features) = 'array'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.milestone_templates (
  id uuid primary key default gen_random_uuid(),
  tier smallint not null references public.tiers (id),
  name text not null check (length(btrim(name)) > 0),
  "order" integer not null check ("order" > 0),
  due_offset_days integer not null check (due_offset_days >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tier, "order")
);

create table public.users (
  id uuid primary key default gen_random_uuid(),
  email text not null unique check (email = lower(btrim(email)) and email like '%_@_%'),
  address text,
  password_hash text,
  user_type public.user_type not null default 'kaa_client',
  tier smallint references public.tiers (id),
  last_login timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index users_tier_idx on public.users (tier);

create table public.leads (
  id uuid primary key default gen_random_uuid(),
  submission_key text not null unique check (length(submission_key) between 8 and 200),
  email text not null check (email = lower(btrim(email)) and email like '%_@_%'),
  name text not null check (length(btrim(name)) > 0),
  project_address text,
  budget_range text,
  budget_min_cents bigint check (budget_min_cents >= 0),
  budget_max_cents bigint check (budget_max_cents >= budget_min_cents),
  timeline text,
  timeline_weeks integer check (timeline_weeks > 0),
  project_type public.project_type not null,
  has_survey boolean not null default false,
  has_drawings boolean not null default false,
  notes text,
  recommended_tier smallint not null references public.tiers (id),
  routing_reason text not null,
  routing jsonb not null default '{}'::jsonb,
  status public.lead_status not null default 'new',
  notion_page_id text unique,
  notion_pushed_hash text,
  notion_pulled_hash text,
  last_synced_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index leads_recommended_tier_idx on public.leads (recommended_tier);
create index leads_email_idx on public.leads (email);

create table public.clients (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null unique references public.users (id),
  tier smallint not null references public.tiers (id),
  status public.client_status not null default 'onboarding',
  project_address text,
  notion_page_id text unique,
  notion_pushed_hash text,
  notion_pulled_hash text,
  last_synced_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index clients_tier_idx on public.clients (tier);

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id),
  -- One project per lead: the guard that makes fulfilment exactly-once.
  lead_id uuid unique references public.leads (id),
  tier smallint not null references public.tiers (id),
  status public.project_status not null default 'onboarding',
  name text not null check (length(btrim(name)) > 0),
  payment_status public.payment_status not null default 'pending',
  needs_review boolean not null default false,
  review_reason text,
  notion_page_id text unique,
  notion_pushed_hash text,
  notion_pulled_hash text,
  last_synced_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index projects_client_id_idx on public.projects (client_id);
create index projects_tier_idx on public.projects (tier);

create table public.milestones (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id),
  tier smallint not null references public.tiers (id),
  name text not null check (length(btrim(name)) > 0),
  "order" integer not null check ("order" > 0),
  status public.milestone_status not null default 'pending',
  due_date date,
  completed_at timestamptz,
  notion_page_id text unique,
  notion_pushed_hash text,
  notion_pulled_hash text,
  last_synced_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, "order")
);
create index milestones_tier_idx on public.milestones (tier);

create table public.payments (
  id uuid primary key default gen_random_uuid(),
  project_id uuid references public.projects (id),
  lead_id uuid references public.leads (id),
  stripe_payment_intent_id text not null unique check (stripe_payment_intent_id like 'pi\_%'),
  stripe_checkout_session_id text unique,
  stripe_customer_id text,
  amount bigint not null check (amount > 0),
  amount_refunded bigint not null default 0 check (amount_refunded >= 0 and amount_refunded <= amount),
  currency char(3) not null default 'usd' check (currency ~ '^[a-z]{3}$'),
  status public.payment_state not null default 'pending',
  tier smallint references public.tiers (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index payments_project_id_idx on public.payments (project_id);
create index payments_lead_id_idx on public.payments (lead_id);
create index payments_tier_idx on public.payments (tier);

create table public.deliverables (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id),
  name text not null check (length(btrim(name)) > 0),
  file_path text not null,
  file_url text,
  file_size bigint not null check (file_size >= 0),
  file_type text not null default 'application/octet-stream',
  category public.deliverable_category not null default 'Other',
  description text,
  uploaded_by text,
  s3_bucket text not null,
  s3_version_id text,
  version integer not null default 1 check (version > 0),
  notion_page_id text unique,
  notion_pushed_hash text,
  notion_pulled_hash text,
  last_synced_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (s3_bucket, file_path, version)
);
create index deliverables_project_id_idx on public.deliverables (project_id);

create table public.audit_log (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references public.users (id),
  action text not null check (length(action) > 0),
  resource_type text not null,
  resource_id text,
  details jsonb not null default '{}'::jsonb,
  ip_address inet,
  created_at timestamptz not null default now()
);
create index audit_log_user_id_idx on public.audit_log (user_id);
create index audit_log_resource_idx on public.audit_log (resource_type, resource_id);

-- Every inbound delivery (Stripe event, S3 record, form submission, webhook) once, by the source's own id.
create table public.inbound_events (
  id uuid primary key default gen_random_uuid(),
  source text not null check (source in ('stripe', 's3', 'intake', 'supabase', 'notion')),
  event_id text not null check (length(event_id) > 0),
  event_type text not null,
  outcome public.inbound_outcome not null default 'applied',
  reason text,
  created_at timestamptz not null default now(),
  unique (source, event_id)
);

-- Postgres -> Notion work queue; claimed with FOR UPDATE SKIP LOCKED.
create table public.sync_outbox (
  id bigint generated always as identity primary key,
  entity public.sync_entity not null,
  entity_id uuid not null,
  status public.outbox_status not null default 'pending',
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  done_at timestamptz
);
-- At most one pending row per record: repeated changes coalesce into one push.
create unique index sync_outbox_one_pending_idx on public.sync_outbox (entity, entity_id)
  where status = 'pending';
create index sync_outbox_due_idx on public.sync_outbox (next_attempt_at) where status = 'pending';

-- Notion -> Postgres poll watermarks, one per data source.
create table public.sync_state (
  data_source_id text primary key,
  entity public.sync_entity not null,
  watermark timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

do $$
declare
  t text;
begin
  foreach t in array array['tiers', 'milestone_templates', 'users', 'leads', 'clients', 'projects',
                           'milestones', 'payments', 'deliverables', 'sync_outbox', 'sync_state']
  loop
    execute format(
      'create trigger %I before update on public.%I for each row execute function app_private.set_updated_at()',
      t || '_set_updated_at', t);
  end loop;
end
$$;
