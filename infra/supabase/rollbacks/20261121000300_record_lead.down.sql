-- Undoes 20261121000300_record_lead.sql. Drops the stored answers and checkout links of every lead.
drop function if exists public.record_lead_answer(uuid, jsonb, text, text);
drop function if exists public.record_lead(text, text, text, text, text, text, bigint, bigint, integer,
  public.project_type, boolean, boolean, text, smallint, text, text, boolean, text[], jsonb, jsonb, inet);
alter table public.leads
  drop column if exists checkout_url,
  drop column if exists checkout_session_id,
  drop column if exists answer,
  drop column if exists red_flags,
  drop column if exists needs_review,
  drop column if exists confidence,
  drop column if exists request_hash;
delete from supabase_migrations.schema_migrations where version = '20261121000300';
