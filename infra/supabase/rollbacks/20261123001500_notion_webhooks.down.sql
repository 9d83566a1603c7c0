-- Undoes 20261123001500_notion_webhooks.sql.
drop function if exists public.notion_data_sources();
drop function if exists public.forget_notion_event(text);
drop function if exists public.record_notion_event(text, text, text, boolean);
delete from supabase_migrations.schema_migrations where version = '20261123001500';
