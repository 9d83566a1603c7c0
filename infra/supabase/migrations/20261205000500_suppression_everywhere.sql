-- A bounce or a complaint is about the address, whoever sent to it: SES reports it once, and every business's
-- pending messages to that address stop, not only the default business's (the deployment-wide suppression list
-- already held for all of them).
-- Rollback: infra/supabase/rollbacks/20261205000500_suppression_everywhere.down.sql

create or replace function public.suppress_email(p_email text, p_reason text, p_details jsonb) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  insert into public.email_suppressions (email, reason, details) values (lower(p_email), p_reason, p_details)
  on conflict (email) do nothing;
  update public.notifications
     set status = 'failed',
         last_error = 'the address ' || case p_reason when 'bounce' then 'bounced' when 'complaint' then 'complained'
                                                        else p_reason end
   where lower(recipient) = lower(p_email) and status = 'pending';
  get diagnostics v_count = row_count;
  return v_count;
end
$$;
