-- Undoes 20261204000200_catalogue.sql.
drop function if exists public.catalogue();

delete from supabase_migrations.schema_migrations where version = '20261204000200';
