-- Roles that protect themselves, privileges RLS cannot police, and Stripe events that can never apply.
-- Rollback: infra/supabase/rollbacks/20261123001200_roles_and_rejections.down.sql

-- Only an admin may set a user_type other than a client's, or change anyone's; nobody changes their own.
-- A trigger, because a policy cannot compare a column with its old value. Writes by the service role and by
-- the functions' owners (payments making a client) are the server's own and pass.
create or replace function app_private.guard_user_type() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user not in ('anon', 'authenticated') then
    return new;
  end if;
  if tg_op = 'INSERT' then
    if new.user_type in ('team', 'admin') and not app_private.is_admin() then
      raise exception 'only an admin can create a % user', new.user_type using errcode = '42501';
    end if;
  elsif new.user_type is distinct from old.user_type then
    if old.id = auth.uid() then
      raise exception 'nobody can change their own user_type' using errcode = '42501';
    end if;
    if not app_private.is_admin() then
      raise exception 'only an admin can change a user_type' using errcode = '42501';
    end if;
  end if;
  return new;
end
$$;

create trigger users_guard_user_type before insert or update on public.users for each row
  execute function app_private.guard_user_type();

-- RLS does not apply to TRUNCATE, and TRIGGER and REFERENCES are no business of a browser's roles.
revoke truncate, trigger, references on all tables in schema public from anon, authenticated;
alter default privileges in schema public revoke truncate, trigger, references on tables from anon, authenticated;

-- A signed Stripe event that can never apply (an amount that is not an amount, a refund larger than the
-- charge): recorded as rejected with its reason and the event itself, so that `atelier stripe replay --rejected`
-- can apply it once the cause is fixed. Stripe is answered 2xx and stops retrying.
alter table public.inbound_events add column payload jsonb;

create or replace function public.reject_stripe_event(p_event_id text, p_event_type text, p_reason text,
                                                      p_payload jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  insert into public.inbound_events as e (source, event_id, event_type, outcome, reason, payload)
  values ('stripe', p_event_id, coalesce(p_event_type, ''), 'rejected', left(p_reason, 500), p_payload)
  on conflict (source, event_id) do update set reason = excluded.reason, payload = excluded.payload
    where e.outcome = 'rejected';
  if not found then
    return jsonb_build_object('outcome', 'duplicate');
  end if;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('stripe.rejected', 'stripe_event', p_event_id, jsonb_build_object('reason', left(p_reason, 500)));
  return jsonb_build_object('outcome', 'rejected', 'reason', left(p_reason, 500));
end
$$;

-- The events recorded as rejected, oldest first, for `atelier stripe replay --rejected`.
create or replace function public.rejected_stripe_events() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(payload order by created_at), '[]'::jsonb) from public.inbound_events
   where source = 'stripe' and outcome = 'rejected' and payload is not null
$$;

-- A rejected Stripe event applies once replayed: when apply_stripe_event records it again, its rejected ledger row
-- makes way, in the same transaction (so a replay that fails leaves the rejection where it was).
create or replace function app_private.replace_rejected_event() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  delete from public.inbound_events
   where new.source = 'stripe' and source = 'stripe' and event_id = new.event_id and outcome = 'rejected'
     and new.outcome <> 'rejected';
  return new;
end
$$;

create trigger inbound_events_replace_rejected before insert on public.inbound_events for each row
  execute function app_private.replace_rejected_event();

revoke execute on function public.reject_stripe_event, public.rejected_stripe_events from public, anon, authenticated;
grant execute on function public.reject_stripe_event, public.rejected_stripe_events to service_role;
revoke execute on function app_private.guard_user_type, app_private.replace_rejected_event
  from public, anon, authenticated;
