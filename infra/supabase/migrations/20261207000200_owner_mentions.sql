-- A comment about a client's action mentions the project's owner (the person the team set on the project's page):
-- the comment's row says so, and the poster reads the page's Owner when it posts.
-- A team's reply takes its place in the thread when Atelier reads it: Notion rounds a comment's time to the
-- minute, which put a reply before the message it answered.
-- Rollback: infra/supabase/rollbacks/20261207000200_owner_mentions.down.sql

alter table public.notion_comments add column mention_owner boolean not null default false;
create or replace view scoped.notion_comments with (security_invoker = true) as
  select * from public.notion_comments where business_id = (select app_private.business_id())
  with cascaded check option;

create or replace function app_private.tell_team(p_project uuid, p_body text, p_message uuid default null) returns void
language sql security definer
set search_path = ''
as $$
  insert into public.notion_comments (business_id, entity, record_id, page_id, body, message_id, mention_owner)
  select p.business_id, 'project', p.id, p.notion_page_id, left(p_body, 2000), p_message, true
    from public.projects p where p.id = p_project
$$;

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
    returning n.id, n.page_id, n.body, n.attempts, n.created_at, n.mention_owner
  )
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'page_id', page_id, 'body', body, 'attempts', attempts,
                                               'mention', mention_owner)
                            order by created_at), '[]'::jsonb)
    from claimed
$function$;

CREATE OR REPLACE FUNCTION public.record_team_comment(p_page_id text, p_comment_id text, p_author_id text, p_author_name text, p_body text, p_created_at timestamp with time zone, p_marker text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_project uuid;
  v_internal boolean;
  v_id uuid;
  v_marker text := lower(btrim(coalesce(p_marker, '')));
begin
  if exists (select 1 from scoped.notion_comments where comment_id = p_comment_id) then
    return jsonb_build_object('action', 'ours');
  end if;
  select id into v_project from scoped.projects
   where replace(notion_page_id, '-', '') = replace(p_page_id, '-', '') and deleted_at is null;
  if v_project is null then
    return jsonb_build_object('action', 'not ours');
  elsif length(btrim(coalesce(p_body, ''))) = 0 then
    return jsonb_build_object('action', 'empty');
  end if;
  v_internal := v_marker <> '' and left(lower(btrim(p_body)), length(v_marker)) = v_marker;
  insert into scoped.messages (project_id, author_kind, author_name, notion_author_id, body, internal,
                               notion_comment_id, created_at)
  values (v_project, 'team', left(coalesce(nullif(btrim(p_author_name), ''), 'The studio'), 200), left(p_author_id, 100),
          left(btrim(p_body), 4000), v_internal, p_comment_id, clock_timestamp())
  on conflict (notion_comment_id) do nothing
  returning id into v_id;
  if v_id is null then
    return jsonb_build_object('action', 'duplicate');
  end if;
  if not v_internal then
    perform app_private.notify('message_reply', 'message_reply:' || v_id, v_project, v_id);
  end if;
  insert into scoped.audit_log (action, resource_type, resource_id, details)
  values ('message.' || case when v_internal then 'internal' else 'reply' end, 'message', v_id::text,
          jsonb_build_object('project_id', v_project, 'comment_id', p_comment_id, 'notion_author_id', p_author_id));
  return jsonb_build_object('action', case when v_internal then 'internal' else 'stored' end, 'id', v_id,
                            'project_id', v_project);
end
$function$;
