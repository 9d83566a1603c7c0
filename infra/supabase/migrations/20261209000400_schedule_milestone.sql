-- An instalment's milestone by name, as `milestone` (the design's word; `label` stays the column the code writes):
-- "At booking" for the deposit, else the milestone's name.
-- Rollback: infra/supabase/rollbacks/20261209000400_schedule_milestone.down.sql

alter table public.payment_schedule add column milestone text generated always as (label) stored;
create or replace view scoped.payment_schedule with (security_invoker = true) as
  select * from public.payment_schedule where business_id = (select app_private.business_id())
  with cascaded check option;
