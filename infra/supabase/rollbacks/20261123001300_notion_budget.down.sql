-- Undoes 20261123001300_notion_budget.sql.
drop function if exists public.hold_notion(text, double precision);
drop function if exists public.take_notion_tokens(text, integer, double precision, double precision);
drop table if exists public.notion_budget;
delete from supabase_migrations.schema_migrations where version = '20261123001300';
