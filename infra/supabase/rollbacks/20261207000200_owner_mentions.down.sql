-- Undoes 20261207000200_owner_mentions.sql.

CREATE OR REPLACE FUNCTION public.claim_notion_comments(p_limit integer, p_lease_seconds integer)
 RETURNS jsonb
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with due as (
    select n.id from scoped.notion_comments n
     where n.status = 'pending' and n.next_attempt_at <= now()
       and (n.page_id is not null
            or exists (select 1 from scoped.projects p where n.entity = 'project' and p.id = n.record_id
                          and p.notion_page_id is not null))
     order by n.created_at limit p_limit for update skip locked
  ), claimed as (
    update scoped.notion_comments n
       set attempts = n.attempts + 1, next_attempt_at = now() + make_interval(secs => p_lease_seconds),
           page_id = coalesce(n.page_id, (select p.notion_page_id from scoped.projects p
                                           where n.entity = 'project' and p.id = n.record_id))
      from due where n.id = due.id
    returning n.id, n.page_id, n.body, n.attempts, n.created_at
  )
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'page_id', page_id, 'body', body, 'attempts', attempts)
                            order by created_at), '[]'::jsonb)
    from claimed
$function$;

CREATE OR REPLACE FUNCTION app_private.tell_team(p_project uuid, p_body text, p_message uuid DEFAULT NULL::uuid)
 RETURNS void
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO ''
AS $function$
  insert into public.notion_comments (business_id, entity, record_id, page_id, body, message_id)
  select p.business_id, 'project', p.id, p.notion_page_id, left(p_body, 2000), p_message
    from public.projects p where p.id = p_project
$function$;

drop view scoped.notion_comments;
alter table public.notion_comments drop column mention_owner;
create view scoped.notion_comments with (security_invoker = true) as
  select * from public.notion_comments where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.notion_comments to authenticated, service_role;

delete from supabase_migrations.schema_migrations where version = '20261207000200';
