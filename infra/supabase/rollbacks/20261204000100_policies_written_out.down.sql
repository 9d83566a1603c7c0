-- Undoes 20261204000100_policies_written_out.sql: that migration dropped and made again every policy exactly as it
-- found it, so the policies stay as they are; only its record goes.
delete from supabase_migrations.schema_migrations where version = '20261204000100';
