-- Undoes 20261203000300_notion_webhook_arming.sql.
drop function if exists public.take_notion_webhook_arming();
drop function if exists public.arm_notion_webhook(integer);
drop table if exists public.notion_webhook_arming;

delete from supabase_migrations.schema_migrations where version = '20261203000300';
