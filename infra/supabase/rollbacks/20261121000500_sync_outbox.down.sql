-- Undoes 20261121000500_sync_outbox.sql. Queued rows stay; nothing new is queued afterwards.
drop function if exists public.complete_outbox(jsonb, integer);
drop function if exists public.claim_outbox(integer, integer, uuid);
drop function if exists app_private.sync_record(public.sync_entity, uuid);
drop trigger if exists leads_enqueue_sync on public.leads;
drop trigger if exists clients_enqueue_sync on public.clients;
drop trigger if exists projects_enqueue_sync on public.projects;
drop trigger if exists milestones_enqueue_sync on public.milestones;
drop trigger if exists deliverables_enqueue_sync on public.deliverables;
drop function if exists app_private.enqueue_on_change();
drop function if exists app_private.enqueue_sync(public.sync_entity, uuid);
alter table public.sync_outbox drop column if exists requeued;
delete from supabase_migrations.schema_migrations where version = '20261121000500';
