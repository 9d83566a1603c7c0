-- The Notion webhook's handshake must be armed: `atelier notion webhook arm` opens a short window in which one
-- handshake is accepted, and outside it an unauthenticated handshake is refused and nothing is kept. Without it the
-- first stranger to post a handshake after a deploy would choose the key every delivery is checked with.
-- Rollback: infra/supabase/rollbacks/20261203000300_notion_webhook_arming.down.sql

create table public.notion_webhook_arming (
  id boolean primary key default true check (id),  -- one row: one window at a time, for the whole deployment
  armed_until timestamptz,  -- null: closed (never opened, or one handshake was taken)
  armed_at timestamptz not null default now(),
  taken_at timestamptz,
  created_at timestamptz not null default now()
);
select app_private.backend_written('notion_webhook_arming');

-- Opens the window for p_seconds (replacing any open one); returns {armed_until}.
create or replace function public.arm_notion_webhook(p_seconds integer) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_until timestamptz;
begin
  if p_seconds is null or p_seconds not between 1 and 3600 then
    raise exception 'the window lasts from 1 second to an hour, not % seconds', p_seconds using errcode = '22023';
  end if;
  insert into public.notion_webhook_arming as a (id, armed_until, armed_at, taken_at)
  values (true, now() + make_interval(secs => p_seconds), now(), null)
  on conflict (id) do update set armed_until = excluded.armed_until, armed_at = now(), taken_at = null
  returning armed_until into v_until;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('notion.webhook_armed', 'notion_webhook', 'handshake', jsonb_build_object('seconds', p_seconds));
  return jsonb_build_object('armed_until', v_until);
end
$$;

-- One handshake takes the open window, and closes it: true if it was open.
create or replace function public.take_notion_webhook_arming() returns boolean
language sql
set search_path = ''
as $$
  with taken as (
    update public.notion_webhook_arming set armed_until = null, taken_at = now()
     where id and armed_until > now()
    returning 1)
  select exists (select 1 from taken)
$$;

revoke execute on function public.arm_notion_webhook, public.take_notion_webhook_arming from public, anon, authenticated;
grant execute on function public.arm_notion_webhook, public.take_notion_webhook_arming to service_role;
