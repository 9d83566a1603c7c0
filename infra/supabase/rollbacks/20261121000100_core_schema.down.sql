-- Undoes 20261121000100_core_schema.sql. Destroys every row in these tables: take a backup first.
drop table if exists public.sync_state, public.sync_outbox, public.inbound_events, public.audit_log,
  public.deliverables, public.payments, public.milestones, public.projects, public.clients,
  public.leads, public.users, public.milestone_templates, public.tiers cascade;
drop type if exists public.inbound_outcome, public.sync_entity, public.outbox_status,
  public.deliverable_category, public.routing_mode, public.project_type, public.client_status,
  public.user_type, public.payment_state, public.milestone_status, public.payment_status,
  public.project_status, public.lead_status;
drop function if exists app_private.set_updated_at();
drop schema if exists app_private;
delete from supabase_migrations.schema_migrations where version = '20261121000100';
