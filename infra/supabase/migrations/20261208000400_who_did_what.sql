-- Who did what, and what the team wrote. Team and admin edits made in Supabase itself are audited by one trigger
-- (table, row, operation, changed columns, and the actor from the JWT); a portal sign-in sets `users.last_login` and
-- writes a `login` audit row with its source address. A project page's content below what Atelier writes (the
-- team's brief and notes) is kept as Markdown, searchable; the part the client may see (all but what sits under an
-- "Internal" heading) is the project's `studio_notes`, shown in the portal under "From the studio".
-- Rollback: infra/supabase/rollbacks/20261208000400_who_did_what.down.sql

create function app_private.audit_team_write() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_claims jsonb := nullif(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb;
  v_row jsonb := case when tg_op = 'DELETE' then to_jsonb(old) else to_jsonb(new) end;
  v_changed text[];
  v_business uuid;
begin
  if v_claims is null or coalesce(v_claims->>'role', '') <> 'authenticated' or auth.uid() is null then
    return null;  -- the backend (service_role), or no one signed in
  end if;
  v_business := coalesce((v_row->>'business_id')::uuid, app_private.business_id());
  if not app_private.is_team(v_business) then
    return null;  -- a client's own writes (messages, decisions) are audited where they happen
  end if;
  if tg_op = 'UPDATE' then
    v_changed := array(select n.key from jsonb_each(to_jsonb(new)) n
                        where n.value is distinct from to_jsonb(old) -> n.key and n.key <> 'updated_at'
                        order by n.key);
    if cardinality(v_changed) = 0 then
      return null;
    end if;
  elsif tg_op = 'INSERT' then
    v_changed := array(select n.key from jsonb_each(v_row) n where n.value <> 'null'::jsonb order by n.key);
  end if;
  insert into public.audit_log (business_id, user_id, action, resource_type, resource_id, details)
  values (v_business, (select u.id from public.users u where u.id = auth.uid()), 'supabase.' || lower(tg_op),
          tg_table_name, v_row->>'id',
          jsonb_build_object('table', tg_table_name, 'operation', lower(tg_op), 'changed', to_jsonb(v_changed),
                             'actor', jsonb_build_object('id', auth.uid(), 'email', v_claims->>'email',
                                                         'role', v_claims->>'role')));
  return null;
end
$$;

do $$
declare
  t text;
begin
  foreach t in array array['leads', 'clients', 'projects', 'milestones', 'payments', 'deliverables', 'tiers',
                           'milestone_templates', 'tasks', 'quotes', 'mail_templates', 'notion_source_pages'] loop
    execute format('create trigger %I after insert or update or delete on public.%I for each row '
                   'execute function app_private.audit_team_write()', t || '_audit_team', t);
  end loop;
end
$$;

-- A portal sign-in: the client's last login, and a `login` row with the address it came from.
drop function public.open_portal_session(uuid, integer);
CREATE OR REPLACE FUNCTION public.open_portal_session(p_sign_in_id uuid, p_ttl_seconds integer, p_ip text DEFAULT NULL::text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_user public.users;
  v_session scoped.portal_sessions;
begin
  select u.* into v_user from scoped.portal_sign_ins s join public.users u on u.id = s.user_id
   where s.id = p_sign_in_id and s.used_at is null and s.expires_at > now()
     and u.user_type in ('kaa_client', 'sage_client')
   for update of s;
  if v_user.id is null then
    return null;
  end if;
  update scoped.portal_sign_ins set used_at = now() where id = p_sign_in_id;
  insert into scoped.portal_sessions (user_id, sign_in_id, expires_at)
  values (v_user.id, p_sign_in_id, now() + make_interval(secs => p_ttl_seconds))
  returning * into v_session;
  update public.users set last_login = now() where id = v_user.id;
  insert into scoped.audit_log (user_id, action, resource_type, resource_id, details, ip_address)
  values (v_user.id, 'login', 'user', v_user.id::text, jsonb_build_object('via', 'portal', 'session_id', v_session.id),
          case when p_ip ~ '^[0-9a-fA-F:.]{2,45}$' then p_ip::inet end);
  return jsonb_build_object('session_id', v_session.id, 'user_id', v_user.id, 'email', v_user.email,
                            'expires', floor(extract(epoch from v_session.expires_at))::bigint);
end
$function$;

revoke all on function public.open_portal_session(uuid, integer, text) from public, anon, authenticated;
grant execute on function public.open_portal_session(uuid, integer, text) to service_role;

-- What the team wrote on a project's page, below Atelier's sections.
alter table public.projects add column studio_notes text check (length(studio_notes) <= 100000);
create or replace view scoped.projects with (security_invoker = true) as
  select * from public.projects where business_id = (select app_private.business_id()) with cascaded check option;

create table public.project_notes (
  project_id uuid primary key,
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  markdown text not null default '' check (length(markdown) <= 200000),  -- all of it, "Internal" included
  content_hash text,
  author jsonb check (author is null or jsonb_typeof(author) = 'object'),
  search tsvector generated always as (to_tsvector('english', markdown)) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (business_id, project_id),
  foreign key (business_id, project_id) references public.projects (business_id, id)
);
create index project_notes_search_idx on public.project_notes using gin (search);
create view scoped.project_notes with (security_invoker = true) as
  select * from public.project_notes where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.project_notes to authenticated, service_role;
alter table public.project_notes enable row level security;
create policy project_notes_select on public.project_notes for select to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)));
create policy project_notes_insert on public.project_notes for insert to authenticated
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)));
create policy project_notes_update on public.project_notes for update to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)))
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)));
create policy project_notes_delete on public.project_notes for delete to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create trigger project_notes_set_updated_at before update on public.project_notes
  for each row execute function app_private.set_updated_at();

create function public.record_project_notes(p_project_id uuid, p_markdown text, p_public text, p_hash text,
                                            p_author jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_old text;
begin
  if not exists (select 1 from scoped.projects p where p.id = p_project_id) then
    raise exception 'no project %', p_project_id using errcode = 'P0002';
  end if;
  select n.content_hash into v_old from scoped.project_notes n where n.project_id = p_project_id for update;
  if v_old is not distinct from p_hash or (v_old is null and btrim(coalesce(p_markdown, '')) = '') then
    return jsonb_build_object('changed', false);
  end if;
  insert into scoped.project_notes (project_id, markdown, content_hash, author)
  values (p_project_id, left(coalesce(p_markdown, ''), 200000), p_hash, p_author)
  on conflict (project_id) do update set markdown = excluded.markdown, content_hash = excluded.content_hash,
                                         author = excluded.author;
  update scoped.projects set studio_notes = nullif(left(btrim(coalesce(p_public, '')), 100000), '')
   where id = p_project_id;
  insert into scoped.audit_log (action, resource_type, resource_id, details)
  values ('notion.content', 'project', p_project_id::text,
          jsonb_build_object('characters', length(coalesce(p_markdown, '')), 'author', p_author));
  return jsonb_build_object('changed', true);
end
$$;
revoke all on function public.record_project_notes(uuid, text, text, text, jsonb) from public, anon, authenticated;
grant execute on function public.record_project_notes(uuid, text, text, text, jsonb) to service_role;

-- The team's notes, found by words (Postgres' full-text search): the projects whose notes match, best first.
create function public.search_project_notes(p_query text, p_limit integer default 20) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('project_id', r.project_id, 'name', r.name, 'rank', r.rank,
                                               'excerpt', r.excerpt) order by r.rank desc), '[]'::jsonb)
    from (select n.project_id, p.name, ts_rank(n.search, q) as rank,
                 ts_headline('english', n.markdown, q, 'MaxWords=20, MinWords=8') as excerpt
            from scoped.project_notes n join scoped.projects p on p.id = n.project_id,
                 websearch_to_tsquery('english', p_query) q
           where n.search @@ q order by rank desc limit greatest(least(p_limit, 100), 1)) r
$$;
revoke all on function public.search_project_notes(text, integer) from public, anon, authenticated;
grant execute on function public.search_project_notes(text, integer) to service_role;

-- The portal's project page shows what the studio wrote for the client.
CREATE OR REPLACE FUNCTION public.portal_project(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'id', p.id, 'name', p.name, 'status', p.status, 'payment_status', p.payment_status, 'tier_name', t.name,
    'created_at', p.created_at,
    'payments', (select coalesce(jsonb_agg(jsonb_build_object('amount', x.amount, 'amount_refunded', x.amount_refunded,
                                                               'currency', x.currency, 'status', x.status,
                                                               'paid_at', x.created_at) order by x.created_at), '[]')
                   from scoped.payments x where x.project_id = p.id),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'order', m."order", 'status', m.status,
                                                                 'due_date', m.due_date, 'completed_at', m.completed_at)
                                             order by m."order"), '[]')
                     from scoped.milestones m where m.project_id = p.id and m.deleted_at is null),
    'deliverables', (select coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category,
                                                                   'file_type', d.file_type, 'file_size', d.file_size,
                                                                   'uploaded_at', d.created_at, 'version', d.version,
                                                                   'needs_approval', d.needs_approval,
                                                                   'approval', d.approval,
                                                                   'approval_note', d.approval_note,
                                                                   'latest', not exists (
                                                                     select 1 from scoped.deliverables o
                                                                      where o.s3_bucket = d.s3_bucket
                                                                        and o.file_path = d.file_path
                                                                        and o.version > d.version
                                                                        and o.deleted_at is null))
                                               order by d.created_at desc), '[]')
                       from scoped.deliverables d where d.project_id = p.id and d.deleted_at is null),
    'messages', (select coalesce(jsonb_agg(jsonb_build_object('id', m.id, 'author_kind', m.author_kind,
                                                               'author_name', m.author_name, 'body', m.body,
                                                               'attachment_name', m.attachment_name,
                                                               'attachment_type', m.attachment_type,
                                                               'attachment_size', m.attachment_size,
                                                               'created_at', m.created_at)
                                           order by m.created_at, m.id), '[]')
                   from scoped.messages m where m.project_id = p.id and not m.internal),
    'nps_asked', p.nps_asked_at is not null or p.status in ('delivered', 'closed'),
    'nps', (select jsonb_build_object('score', a.score, 'comment', a.comment)
              from scoped.nps_answers a where a.project_id = p.id),
    'studio_notes', p.studio_notes)
    from scoped.projects p left join scoped.tiers t on t.id = p.tier
   where p.id = p_id and p.deleted_at is null
$function$;
