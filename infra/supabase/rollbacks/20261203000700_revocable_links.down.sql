-- Undoes 20261203000700_revocable_links.sql.
drop function if exists public.portal_deliverable(uuid);
drop function if exists public.revoke_report_links(uuid);
drop function if exists public.report_link_refusal(uuid);
drop function if exists public.create_report_link(integer, text);
drop table if exists public.report_links;
drop function if exists public.revoke_portal_access(text);
drop function if exists public.revoke_portal_session(uuid);
drop function if exists public.portal_session(uuid);
drop function if exists public.open_portal_session(uuid, integer);
drop table if exists public.portal_sessions;

delete from supabase_migrations.schema_migrations where version = '20261203000700';
