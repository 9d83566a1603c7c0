-- Undoes 20261208000600_task_list.sql.

drop function public.task_list(text, boolean, integer);

delete from supabase_migrations.schema_migrations where version = '20261208000600';
