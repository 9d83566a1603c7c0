-- Undoes 20261203000100_suppression_words.sql: suppress_email as 20261123001600 made it.
create or replace function public.suppress_email(p_email text, p_reason text, p_details jsonb) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  insert into public.email_suppressions (email, reason, details) values (lower(p_email), p_reason, p_details)
  on conflict (email) do nothing;
  update public.notifications set status = 'failed', last_error = 'the address ' || p_reason || 'd'
   where lower(recipient) = lower(p_email) and status = 'pending';
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

delete from supabase_migrations.schema_migrations where version = '20261203000100';
