-- Undoes 20261123001000_operator_reads.sql.
drop function if exists public.find_deliverable(text, text, text);
drop function if exists public.project_state(uuid);
delete from supabase_migrations.schema_migrations where version = '20261123001000';
