-- The client's portal: sign-ins by e-mail link (single use, rate-limited), and reads that run as the client.
-- The reads are security invoker: they run under the caller's role, `authenticated` with the client's JWT claims,
-- so row-level security (20261121000200) is what keeps one client from another, not a where clause written here.
-- Rollback: infra/supabase/rollbacks/20261123001700_client_portal.down.sql

create table public.portal_sign_ins (
  id uuid primary key default gen_random_uuid(),
  email text not null check (length(email) <= 320),
  user_id uuid references public.users (id),  -- null: not a client's address (nothing is sent)
  source_ip text,
  expires_at timestamptz not null,
  used_at timestamptz,
  sent boolean not null default false,
  created_at timestamptz not null default now()
);
create index portal_sign_ins_email_idx on public.portal_sign_ins (email, created_at);
create index portal_sign_ins_source_idx on public.portal_sign_ins (source_ip, created_at);
create index portal_sign_ins_user_idx on public.portal_sign_ins (user_id);
-- Tables only the backend writes: RLS on, the team (or `p_readers`) may read, only an admin may change a row.
-- (notion_properties, notifications and email_suppressions spell the same four policies out: they were applied
-- before this helper existed, and an applied migration is never edited.)
create or replace function app_private.backend_written(p_table text, p_readers text default 'app_private.is_team()')
returns void
language plpgsql
set search_path = ''
as $$
begin
  execute format('alter table public.%I enable row level security', p_table);
  execute format('create policy %I on public.%I for select to authenticated using (%s)',
                 p_table || '_select', p_table, p_readers);
  execute format('create policy %I on public.%I for insert to authenticated with check (app_private.is_admin())',
                 p_table || '_insert', p_table);
  execute format('create policy %I on public.%I for update to authenticated using (app_private.is_admin())'
                 ' with check (app_private.is_admin())', p_table || '_update', p_table);
  execute format('create policy %I on public.%I for delete to authenticated using (app_private.is_admin())',
                 p_table || '_delete', p_table);
end
$$;
revoke execute on function app_private.backend_written from public, anon, authenticated;
grant execute on function app_private.backend_written to service_role;

select app_private.backend_written('portal_sign_ins');

alter table public.notifications drop constraint notifications_template_check;
alter table public.notifications add constraint notifications_template_check check (template in
  ('payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed', 'portal_sign_in'));

-- A sign-in request. Every request within the limits is recorded (known address or not), so the limits count both
-- alike and the answer cannot tell them apart. Returns {id, expires, known, limited}; a known one queues the e-mail.
create or replace function public.start_portal_sign_in(p_email text, p_source_ip text, p_ttl_seconds integer,
                                                       p_per_address integer, p_per_source integer,
                                                       p_send boolean default true) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_email text := lower(btrim(p_email));
  v_user uuid;
  v_limited boolean;
  v_row public.portal_sign_ins;
begin
  select u.id into v_user from public.users u
   where lower(u.email) = v_email and exists (select 1 from public.clients c where c.user_id = u.id);
  v_limited := (select count(*) from public.portal_sign_ins
                 where email = v_email and created_at > now() - interval '15 minutes') >= p_per_address
            or (p_source_ip is not null and (select count(*) from public.portal_sign_ins
                 where source_ip = p_source_ip and created_at > now() - interval '15 minutes') >= p_per_source);
  if v_limited then  -- refused: nothing recorded, nothing sent (the requests already counted keep it refused)
    return jsonb_build_object('id', null, 'expires', null, 'known', v_user is not null, 'limited', true);
  end if;
  insert into public.portal_sign_ins (email, user_id, source_ip, expires_at, sent)
  values (left(v_email, 320), v_user, p_source_ip, now() + make_interval(secs => p_ttl_seconds),
          v_user is not null and p_send)
  returning * into v_row;
  if v_row.sent then
    insert into public.notifications (recipient, template, dedupe_key, subject_id)
    select u.email, 'portal_sign_in', 'portal_sign_in:' || v_row.id, v_row.id from public.users u where u.id = v_user;
  end if;
  return jsonb_build_object('id', v_row.id, 'expires', floor(extract(epoch from v_row.expires_at))::bigint,
                            'known', v_user is not null, 'limited', v_limited);
end
$$;

-- Opening a link: once, before it expires. Returns {user_id, email}, or null.
create or replace function public.use_portal_sign_in(p_id uuid) returns jsonb
language sql
set search_path = ''
as $$
  with used as (
    update public.portal_sign_ins s set used_at = now()
     where s.id = p_id and s.used_at is null and s.expires_at > now() and s.user_id is not null
    returning s.user_id)
  select jsonb_build_object('user_id', u.id, 'email', u.email) from used join public.users u on u.id = used.user_id
$$;

-- What a template needs: the project's facts where the message is about one, the sign-in where it is one.
create or replace function app_private.notification_context(p_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'client_name', coalesce(l.name, split_part(n.recipient, '@', 1)),
    'project_id', p.id, 'project_name', p.name, 'tier_name', t.name,
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date,
                                                                'status', m.status) order by m."order"), '[]')
                     from public.milestones m where m.project_id = p.id and m.deleted_at is null),
    'milestone', (select jsonb_build_object('name', m.name, 'completed_at', m.completed_at)
                    from public.milestones m where m.id = n.subject_id),
    'deliverable', (select jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category)
                      from public.deliverables d where d.id = n.subject_id),
    'sign_in', (select jsonb_build_object('id', s.id, 'expires', floor(extract(epoch from s.expires_at))::bigint)
                  from public.portal_sign_ins s where s.id = n.subject_id),
    'payment', (select jsonb_build_object('amount', pay.amount, 'amount_refunded', pay.amount_refunded,
                                          'currency', pay.currency)
                  from public.payments pay where pay.project_id = p.id order by pay.created_at desc limit 1))
    from public.notifications n
    left join public.projects p on p.id = n.project_id
    left join public.leads l on l.id = p.lead_id
    left join public.tiers t on t.id = p.tier
   where n.id = p_id
$$;

-- The portal's reads, as the client (security invoker: row-level security filters every table they touch).
create or replace function public.portal_projects() returns jsonb
language sql stable
security invoker
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', p.id, 'name', p.name, 'status', p.status, 'payment_status', p.payment_status,
           'tier_name', t.name, 'created_at', p.created_at,
           'milestones_done', (select count(*) from public.milestones m where m.project_id = p.id
                                and m.status = 'completed' and m.deleted_at is null),
           'milestones', (select count(*) from public.milestones m where m.project_id = p.id and m.deleted_at is null))
         order by p.created_at desc), '[]'::jsonb)
    from public.projects p left join public.tiers t on t.id = p.tier
   where p.deleted_at is null
$$;

create or replace function public.portal_project(p_id uuid) returns jsonb
language sql stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p.id, 'name', p.name, 'status', p.status, 'payment_status', p.payment_status, 'tier_name', t.name,
    'created_at', p.created_at,
    'payments', (select coalesce(jsonb_agg(jsonb_build_object('amount', x.amount, 'amount_refunded', x.amount_refunded,
                                                               'currency', x.currency, 'status', x.status,
                                                               'paid_at', x.created_at) order by x.created_at), '[]')
                   from public.payments x where x.project_id = p.id),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'order', m."order", 'status', m.status,
                                                                 'due_date', m.due_date, 'completed_at', m.completed_at)
                                             order by m."order"), '[]')
                     from public.milestones m where m.project_id = p.id and m.deleted_at is null),
    'deliverables', (select coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category,
                                                                   'file_type', d.file_type, 'file_size', d.file_size,
                                                                   'uploaded_at', d.created_at)
                                               order by d.created_at desc), '[]')
                       from public.deliverables d where d.project_id = p.id and d.deleted_at is null))
    from public.projects p left join public.tiers t on t.id = p.tier
   where p.id = p_id and p.deleted_at is null
$$;

revoke execute on function app_private.notification_context from public, anon, authenticated;
grant execute on function app_private.notification_context to service_role;
revoke execute on function public.start_portal_sign_in, public.use_portal_sign_in from public, anon, authenticated;
grant execute on function public.start_portal_sign_in, public.use_portal_sign_in to service_role;
revoke execute on function public.portal_projects, public.portal_project from public, anon;
grant execute on function public.portal_projects, public.portal_project to authenticated, service_role;
