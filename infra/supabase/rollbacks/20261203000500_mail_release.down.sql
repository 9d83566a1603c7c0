-- Undoes 20261203000500_mail_release.sql.
drop function if exists public.release_notifications(jsonb);

delete from supabase_migrations.schema_migrations where version = '20261203000500';
