-- Undoes 20261206000300_operator_lists.sql.

drop function public.operator_list, public.operator_show;

delete from supabase_migrations.schema_migrations where version = '20261206000300';
