-- The mail outbox sends and completes one message at a time, and checks its deadline before each send; the rows it
-- claimed and had no time for are handed back at once, their attempt returned (issue 29, item 15).
-- Rollback: infra/supabase/rollbacks/20261203000500_mail_release.down.sql

-- p_claims: [{id, claim}]. Only a row still under that claim is released: one another run took since is left alone.
create or replace function public.release_notifications(p_claims jsonb) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.notifications n
     set attempts = greatest(n.attempts - 1, 0), next_attempt_at = now()
    from jsonb_array_elements(p_claims) r
   where n.id = (r->>'id')::uuid and n.claim = (r->>'claim')::bigint and n.status = 'pending';
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
revoke execute on function public.release_notifications from public, anon, authenticated;
grant execute on function public.release_notifications to service_role;
