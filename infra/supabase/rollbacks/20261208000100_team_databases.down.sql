-- Rollback: undoes 20261208000100_team_databases.sql.
-- Postgres cannot drop a value from an enum. Once the migrations after it are rolled back nothing holds 'task',
-- 'service' or 'message', and migrating again adds them `if not exists`: the values are left in place, unused.

delete from supabase_migrations.schema_migrations where version = '20261208000100';
