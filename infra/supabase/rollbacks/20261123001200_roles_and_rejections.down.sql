-- Undoes 20261123001200_roles_and_rejections.sql.
drop trigger if exists inbound_events_replace_rejected on public.inbound_events;
drop function if exists app_private.replace_rejected_event();
drop function if exists public.rejected_stripe_events();
drop function if exists public.reject_stripe_event(text, text, text, jsonb);
alter table public.inbound_events drop column if exists payload;
grant truncate, trigger, references on all tables in schema public to anon, authenticated;
alter default privileges in schema public grant truncate, trigger, references on tables to anon, authenticated;
drop trigger if exists users_guard_user_type on public.users;
drop function if exists app_private.guard_user_type();
delete from supabase_migrations.schema_migrations where version = '20261123001200';
