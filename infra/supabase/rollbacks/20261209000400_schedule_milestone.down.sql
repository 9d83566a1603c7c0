-- Undoes 20261209000400_schedule_milestone.sql.

drop view scoped.payment_schedule;
alter table public.payment_schedule drop column milestone;
create view scoped.payment_schedule with (security_invoker = true) as
  select * from public.payment_schedule where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.payment_schedule to authenticated, service_role;

delete from supabase_migrations.schema_migrations where version = '20261209000400';
