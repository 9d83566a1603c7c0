-- Undoes 20261208000500_notion_file_drops.sql. The deliverables the dropped files became stay (they are uploads).

drop function public.settle_file_drop(text, uuid);
drop function public.claim_file_drop(text, text);
drop function public.file_drop_target(uuid, text);
drop view scoped.notion_file_drops;
drop table public.notion_file_drops;

delete from supabase_migrations.schema_migrations where version = '20261208000500';
