-- Limits per caller, in Postgres, so that they hold across every Lambda at once (issue 29: items 4, 6 and 16).
-- Each limit is a sliding window over `rate_limit_hits`. A key is counted and written under its own advisory lock,
-- so twenty concurrent requests for one key see each other's hits: no read-then-write race.
-- Rollback: infra/supabase/rollbacks/20261203000400_rate_limits.down.sql

create table public.rate_limit_hits (
  id bigint generated always as identity primary key,
  bucket text not null check (length(bucket) between 1 and 64),
  key text not null check (length(key) between 1 and 400),
  hit_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
create index rate_limit_hits_key_idx on public.rate_limit_hits (bucket, key, hit_at);
select app_private.backend_written('rate_limit_hits');

-- p_limits: [{bucket, key, limit, seconds}, ...]. All or nothing: the request is counted against every limit it is
-- within, or refused by the first it is over, and then nothing is written. A limit of 0 is off; a null key is skipped.
-- Returns {allowed, bucket, retry_after}: retry_after is the seconds until the oldest counted hit leaves the window.
create or replace function public.take_rate_limits(p_limits jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_limit jsonb;
  v_count integer;
  v_oldest timestamptz;
begin
  if jsonb_typeof(p_limits) is distinct from 'array' then
    raise exception 'p_limits is a list of {bucket, key, limit, seconds}' using errcode = '22023';
  end if;
  -- Locks in one order (bucket, key) for every caller: two requests sharing keys never wait on each other in a cycle.
  for v_limit in
    select l from jsonb_array_elements(p_limits) l
     where (l->>'limit')::integer > 0 and coalesce(l->>'key', '') <> ''
     order by l->>'bucket', l->>'key'
  loop
    perform pg_advisory_xact_lock(hashtextextended('rate:' || (v_limit->>'bucket') || ':' || (v_limit->>'key'), 0));
    select count(*), min(hit_at) into v_count, v_oldest from public.rate_limit_hits
     where bucket = v_limit->>'bucket' and key = v_limit->>'key'
       and hit_at > now() - make_interval(secs => (v_limit->>'seconds')::integer);
    if v_count >= (v_limit->>'limit')::integer then
      -- At most the window: a hit another caller made while this one waited for the lock is newer than now().
      return jsonb_build_object('allowed', false, 'bucket', v_limit->>'bucket', 'retry_after',
        least((v_limit->>'seconds')::integer,
              greatest(1, ceil(extract(epoch from v_oldest + make_interval(secs => (v_limit->>'seconds')::integer)
                                                  - now())))::integer));
    end if;
  end loop;
  insert into public.rate_limit_hits (bucket, key)
  select l->>'bucket', left(l->>'key', 400) from jsonb_array_elements(p_limits) l
   where (l->>'limit')::integer > 0 and coalesce(l->>'key', '') <> '';
  -- What has left every window is of no more use: kept for a day, for the operator to look at.
  delete from public.rate_limit_hits h
   where h.id in (select id from public.rate_limit_hits where hit_at < now() - interval '1 day' limit 100);
  return jsonb_build_object('allowed', true, 'bucket', null, 'retry_after', 0);
end
$$;
revoke execute on function public.take_rate_limits from public, anon, authenticated;
grant execute on function public.take_rate_limits to service_role;

-- Portal sign-ins: a link made by the operator (`atelier portal link`) is not a client's request and counts against
-- no limit; the per-address and per-source counts are taken under a lock on each, so concurrent requests see each
-- other; a limited request is refused with the seconds until it may try again.
alter table public.portal_sign_ins add column by_operator boolean not null default false;

create or replace function public.start_portal_sign_in(p_email text, p_source_ip text, p_ttl_seconds integer,
                                                       p_per_address integer, p_per_source integer,
                                                       p_send boolean default true) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_email text := lower(btrim(p_email));
  v_user uuid;
  v_oldest timestamptz;
  v_count integer;
  v_limited boolean;
  v_row public.portal_sign_ins;
  v_window constant interval := interval '15 minutes';
begin
  select u.id into v_user from public.users u
   where lower(u.email) = v_email and u.user_type in ('kaa_client', 'sage_client')
     and exists (select 1 from public.clients c where c.user_id = u.id and c.deleted_at is null);
  if p_send then  -- a client's request: counted, under a lock per address, then per source
    perform pg_advisory_xact_lock(hashtextextended('portal_sign_in:address:' || v_email, 0));
    select count(*), min(created_at) into v_count, v_oldest from public.portal_sign_ins
     where email = v_email and not by_operator and created_at > now() - v_window;
    v_limited := v_count >= p_per_address;
    if not v_limited and p_source_ip is not null then
      perform pg_advisory_xact_lock(hashtextextended('portal_sign_in:source:' || p_source_ip, 0));
      select count(*), min(created_at) into v_count, v_oldest from public.portal_sign_ins
       where source_ip = p_source_ip and not by_operator and created_at > now() - v_window;
      v_limited := v_count >= p_per_source;
    end if;
    if v_limited then  -- refused: nothing recorded, nothing sent
      return jsonb_build_object('id', null, 'expires', null, 'known', v_user is not null, 'limited', true,
        'retry_after', least(extract(epoch from v_window)::integer,
                             greatest(1, ceil(extract(epoch from v_oldest + v_window - now())))::integer));
    end if;
  end if;
  insert into public.portal_sign_ins (email, user_id, source_ip, expires_at, sent, by_operator)
  values (left(v_email, 320), v_user, p_source_ip, now() + make_interval(secs => p_ttl_seconds),
          v_user is not null and p_send, not p_send)
  returning * into v_row;
  if v_row.sent then
    insert into public.notifications (recipient, template, dedupe_key, subject_id)
    select u.email, 'portal_sign_in', 'portal_sign_in:' || v_row.id, v_row.id from public.users u where u.id = v_user;
  end if;
  return jsonb_build_object('id', v_row.id, 'expires', floor(extract(epoch from v_row.expires_at))::bigint,
                            'known', v_user is not null, 'limited', false, 'retry_after', 0);
end
$$;
