-- One Notion request budget for the whole deployment. Notion's limit (about 3 requests/s, with bursts) is per
-- integration, so every function that calls Notion takes its tokens from this one bucket, a few at a time.
-- Rollback: infra/supabase/rollbacks/20261123001300_notion_budget.down.sql

create table public.notion_budget (
  name text primary key,
  tokens double precision not null,
  refilled_at timestamptz not null default clock_timestamp(),
  not_before timestamptz not null default '-infinity',  -- set by Retry-After: nobody sends before this
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.notion_budget enable row level security;
create policy notion_budget_select on public.notion_budget for select to authenticated using (app_private.is_team());
create policy notion_budget_insert on public.notion_budget for insert to authenticated
  with check (app_private.is_admin());
create policy notion_budget_update on public.notion_budget for update to authenticated
  using (app_private.is_admin()) with check (app_private.is_admin());
create policy notion_budget_delete on public.notion_budget for delete to authenticated using (app_private.is_admin());
create trigger notion_budget_updated_at before update on public.notion_budget for each row
  execute function app_private.set_updated_at();

-- Up to p_want tokens from the bucket (refilled at p_rate per second, holding at most p_burst). Returns
-- {granted, wait}: wait is the seconds until the next token (or until Retry-After has passed) when none is granted.
create or replace function public.take_notion_tokens(p_name text, p_want integer, p_rate double precision,
                                                     p_burst double precision) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_row public.notion_budget;
  v_tokens double precision;
  v_granted integer;
begin
  if p_want < 1 or p_rate <= 0 or p_burst < 1 then
    raise exception 'take_notion_tokens: want >= 1, rate > 0 and burst >= 1' using errcode = '22023';
  end if;
  insert into public.notion_budget (name, tokens, refilled_at) values (p_name, p_burst, v_now)
  on conflict (name) do nothing;
  select * into v_row from public.notion_budget where name = p_name for update;
  if v_row.not_before > v_now then
    return jsonb_build_object('granted', 0, 'wait', extract(epoch from v_row.not_before - v_now));
  end if;
  v_tokens := least(p_burst, v_row.tokens + extract(epoch from v_now - v_row.refilled_at) * p_rate);
  v_granted := least(p_want, floor(v_tokens))::integer;
  update public.notion_budget set tokens = v_tokens - v_granted, refilled_at = v_now where name = p_name;
  return jsonb_build_object('granted', v_granted,
                            'wait', case when v_granted = 0 then (1 - v_tokens) / p_rate else 0 end);
end
$$;

-- Notion answered 429 or 529 with Retry-After: every function waits that long.
create or replace function public.hold_notion(p_name text, p_seconds double precision) returns void
language sql
set search_path = ''
as $$
  insert into public.notion_budget as b (name, tokens, not_before)
  values (p_name, 0, clock_timestamp() + make_interval(secs => least(p_seconds, 3600)))
  on conflict (name) do update set not_before = greatest(b.not_before, excluded.not_before)
$$;

revoke execute on function public.take_notion_tokens, public.hold_notion from public, anon, authenticated;
grant execute on function public.take_notion_tokens, public.hold_notion to service_role;
