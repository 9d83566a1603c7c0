-- Undoes 20261205000500_suppression_everywhere.sql: the function as 20261205000200 left it.

CREATE OR REPLACE FUNCTION public.suppress_email(p_email text, p_reason text, p_details jsonb)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_count integer;
begin
  insert into public.email_suppressions (email, reason, details) values (lower(p_email), p_reason, p_details)
  on conflict (email) do nothing;
  update scoped.notifications
     set status = 'failed',
         last_error = 'the address ' || case p_reason when 'bounce' then 'bounced' when 'complaint' then 'complained'
                                                        else p_reason end
   where lower(recipient) = lower(p_email) and status = 'pending';
  get diagnostics v_count = row_count;
  return v_count;
end
$function$;

delete from supabase_migrations.schema_migrations where version = '20261205000500';
