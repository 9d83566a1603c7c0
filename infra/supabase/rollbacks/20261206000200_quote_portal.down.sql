-- Undoes 20261206000200_quote_portal.sql.

drop function public.portal_open_quotes;

delete from supabase_migrations.schema_migrations where version = '20261206000200';
