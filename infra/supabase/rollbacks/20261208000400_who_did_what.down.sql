-- Undoes 20261208000400_who_did_what.sql.

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
              from scoped.nps_answers a where a.project_id = p.id))
    from scoped.projects p left join scoped.tiers t on t.id = p.tier
   where p.id = p_id and p.deleted_at is null
$function$;

drop function public.search_project_notes(text, integer);
drop function public.record_project_notes(uuid, text, text, text, jsonb);
drop view scoped.project_notes;
drop table public.project_notes;
drop view scoped.projects;
alter table public.projects drop column studio_notes;
create view scoped.projects with (security_invoker = true) as
  select * from public.projects where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.projects to authenticated, service_role;

drop function public.open_portal_session(uuid, integer, text);
CREATE OR REPLACE FUNCTION public.open_portal_session(p_sign_in_id uuid, p_ttl_seconds integer)
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
  return jsonb_build_object('session_id', v_session.id, 'user_id', v_user.id, 'email', v_user.email,
                            'expires', floor(extract(epoch from v_session.expires_at))::bigint);
end
$function$;

revoke all on function public.open_portal_session(uuid, integer) from public, anon, authenticated;
grant execute on function public.open_portal_session(uuid, integer) to service_role;

do $$
declare
  t text;
begin
  foreach t in array array['leads', 'clients', 'projects', 'milestones', 'payments', 'deliverables', 'tiers',
                           'milestone_templates', 'tasks', 'quotes', 'mail_templates', 'notion_source_pages'] loop
    execute format('drop trigger %I on public.%I', t || '_audit_team', t);
  end loop;
end
$$;
drop function app_private.audit_team_write();

delete from supabase_migrations.schema_migrations where version = '20261208000400';
