-- Undoes 20261121000800_notion_import.sql. Links already made stay.
drop function if exists public.link_notion_page(text, uuid, text);
delete from supabase_migrations.schema_migrations where version = '20261121000800';
