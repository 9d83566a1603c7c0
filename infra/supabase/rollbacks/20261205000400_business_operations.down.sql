-- Undoes 20261205000400_business_operations.sql.
drop function if exists public.set_business_settings(text, jsonb);
drop function if exists public.add_business(text, text, text, jsonb);
drop function if exists public.business_directory();

delete from supabase_migrations.schema_migrations where version = '20261205000400';
