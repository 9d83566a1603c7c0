-- Portal sessions and report links are rows, so each can be ended on its own (issue 29, item 5): signing out ends
-- the session on the server, `atelier portal revoke EMAIL` ends every session and unused link of a client, and
-- `atelier report revoke` ends report links. Their tokens are signed with keys of their own, never with Supabase's
-- JWT secret; that secret now only signs the minute-long tokens the portal's reads take to PostgREST.
-- Rollback: infra/supabase/rollbacks/20261203000700_revocable_links.down.sql

create table public.portal_sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users (id),
  sign_in_id uuid references public.portal_sign_ins (id),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index portal_sessions_user_idx on public.portal_sessions (user_id);
create index portal_sessions_sign_in_idx on public.portal_sessions (sign_in_id);
select app_private.backend_written('portal_sessions');

-- Opening a link: the sign-in is used (once, before it expires, by a client) and a session begins, in one step.
-- Returns {session_id, user_id, email, expires}, or null.
create or replace function public.open_portal_session(p_sign_in_id uuid, p_ttl_seconds integer) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_user public.users;
  v_session public.portal_sessions;
begin
  select u.* into v_user from public.portal_sign_ins s join public.users u on u.id = s.user_id
   where s.id = p_sign_in_id and s.used_at is null and s.expires_at > now()
     and u.user_type in ('kaa_client', 'sage_client')
   for update of s;
  if v_user.id is null then
    return null;
  end if;
  update public.portal_sign_ins set used_at = now() where id = p_sign_in_id;
  insert into public.portal_sessions (user_id, sign_in_id, expires_at)
  values (v_user.id, p_sign_in_id, now() + make_interval(secs => p_ttl_seconds))
  returning * into v_session;
  return jsonb_build_object('session_id', v_session.id, 'user_id', v_user.id, 'email', v_user.email,
                            'expires', floor(extract(epoch from v_session.expires_at))::bigint);
end
$$;

-- A session still in force: {user_id, email, expires}, or null (unknown, expired, revoked, or no longer a client).
create or replace function public.portal_session(p_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object('user_id', u.id, 'email', u.email,
                            'expires', floor(extract(epoch from s.expires_at))::bigint)
    from public.portal_sessions s join public.users u on u.id = s.user_id
   where s.id = p_id and s.revoked_at is null and s.expires_at > now()
     and u.user_type in ('kaa_client', 'sage_client')
$$;

create or replace function public.revoke_portal_session(p_id uuid) returns boolean
language sql
set search_path = ''
as $$
  with ended as (
    update public.portal_sessions set revoked_at = now() where id = p_id and revoked_at is null returning 1)
  select exists (select 1 from ended)
$$;

-- Everything that lets a client in: their sessions, and the sign-in links not used yet. Returns the counts.
create or replace function public.revoke_portal_access(p_email text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_user uuid;
  v_sessions integer;
  v_links integer;
begin
  select id into v_user from public.users where email = lower(btrim(p_email));
  if v_user is null then
    return jsonb_build_object('known', false, 'sessions', 0, 'links', 0);
  end if;
  update public.portal_sessions set revoked_at = now()
   where user_id = v_user and revoked_at is null and expires_at > now();
  get diagnostics v_sessions = row_count;
  update public.portal_sign_ins set used_at = now()
   where user_id = v_user and used_at is null and expires_at > now();
  get diagnostics v_links = row_count;
  insert into public.audit_log (user_id, action, resource_type, resource_id, details)
  values (v_user, 'portal.revoked', 'user', v_user::text,
          jsonb_build_object('sessions', v_sessions, 'links', v_links));
  return jsonb_build_object('known', true, 'sessions', v_sessions, 'links', v_links);
end
$$;

create table public.report_links (
  id uuid primary key default gen_random_uuid(),
  purpose text not null default 'operator' check (purpose in ('operator', 'weekly')),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
select app_private.backend_written('report_links');

create or replace function public.create_report_link(p_seconds integer, p_purpose text) returns jsonb
language sql
set search_path = ''
as $$
  insert into public.report_links (purpose, expires_at)
  values (p_purpose, now() + make_interval(secs => p_seconds))
  returning jsonb_build_object('id', id, 'expires', floor(extract(epoch from expires_at))::bigint)
$$;

-- Why a report link opens nothing, or null when it is in force.
create or replace function public.report_link_refusal(p_id uuid) returns text
language sql stable
set search_path = ''
as $$
  select case
    when l.id is null then 'unknown'
    when l.revoked_at is not null then 'revoked'
    when l.expires_at <= now() then 'expired'
  end
  from (select 1) one left join public.report_links l on l.id = p_id
$$;

-- Ends one report link, or every link in force (p_id null). Returns how many.
create or replace function public.revoke_report_links(p_id uuid) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.report_links set revoked_at = now()
   where (p_id is null or id = p_id) and revoked_at is null and expires_at > now();
  get diagnostics v_count = row_count;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('report.revoked', 'report_link', coalesce(p_id::text, 'all'), jsonb_build_object('links', v_count));
  return v_count;
end
$$;

-- A deliverable a client may download now: theirs (row-level security decides, as the client), not deleted, and of
-- a project that is not refunded or deleted. Security invoker, called as the client.
create or replace function public.portal_deliverable(p_id uuid) returns jsonb
language sql stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object('id', d.id, 'name', d.name, 'project_id', d.project_id)
    from public.deliverables d join public.projects p on p.id = d.project_id
   where d.id = p_id and d.deleted_at is null and p.deleted_at is null and p.payment_status <> 'refunded'
$$;

revoke execute on function public.open_portal_session, public.portal_session, public.revoke_portal_session,
  public.revoke_portal_access, public.create_report_link, public.report_link_refusal, public.revoke_report_links
  from public, anon, authenticated;
grant execute on function public.open_portal_session, public.portal_session, public.revoke_portal_session,
  public.revoke_portal_access, public.create_report_link, public.report_link_refusal, public.revoke_report_links
  to service_role;
revoke execute on function public.portal_deliverable from public, anon;
grant execute on function public.portal_deliverable to authenticated, service_role;
