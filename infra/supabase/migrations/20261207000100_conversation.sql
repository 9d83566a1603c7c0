-- The client conversation: messages both ways between the portal and the project's Notion page, approvals of
-- deliverables, and one question at delivery (NPS).
-- Every client write runs as `authenticated` with the client's claims: the insert policies below are what let a
-- client write a message, a decision or an answer on their own project, and on no other. What follows a write
-- (the project's status, the Notion comment for the team, the history line, the audit row) is done by triggers
-- that run as their owner, in the same transaction.
-- Rollback: infra/supabase/rollbacks/20261207000100_conversation.down.sql

-- Helpers the policies and triggers below share.
create function app_private.project_delivered(p_project uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (select 1 from public.projects p where p.id = p_project and p.status in ('delivered', 'closed'))
$$;

create function app_private.client_name(p_project uuid) returns text
language sql stable security definer
set search_path = ''
as $$
  select coalesce(nullif(btrim(c.name), ''), nullif(btrim(l.name), ''), u.email)
    from public.projects p join public.clients c on c.id = p.client_id join public.users u on u.id = c.user_id
    left join public.leads l on l.id = p.lead_id
   where p.id = p_project
$$;


-- Deliverables that wait for the client's decision: drawings, renders and documents. A new upload of the same
-- file is a new row (a new version), so each version is decided on its own: a new round.
alter table public.deliverables
  add column needs_approval boolean not null default false,
  add column approval text check (approval in ('waiting', 'approved', 'changes_requested')),
  add column approval_note text check (length(approval_note) <= 2000),
  add column decided_at timestamptz,
  add constraint deliverables_business_id_id_key unique (business_id, id),
  add constraint deliverables_approval_check2 check (needs_approval or approval is null);
create or replace view scoped.deliverables with (security_invoker = true) as
  select * from public.deliverables where business_id = (select app_private.business_id())
  with cascaded check option;
drop trigger deliverables_enqueue_sync on public.deliverables;
create trigger deliverables_enqueue_sync after insert or update on public.deliverables for each row
  execute function app_private.enqueue_on_change('deliverable', 'name', 'category', 'file_url', 'deleted_at',
    'approval', 'approval_note');

alter table public.projects add column nps_asked_at timestamptz;  -- when the client was asked, once, at delivery
create or replace view scoped.projects with (security_invoker = true) as
  select * from public.projects where business_id = (select app_private.business_id()) with cascaded check option;

-- A comment for the team may be queued before its project has a page: it goes once the page exists.
alter table public.notion_comments
  alter column page_id drop not null,
  add column message_id uuid;
create or replace view scoped.notion_comments with (security_invoker = true) as
  select * from public.notion_comments where business_id = (select app_private.business_id())
  with cascaded check option;
create index notion_comments_comment_idx on public.notion_comments (comment_id) where comment_id is not null;

-- One row per message. A client's is written in the portal and becomes a comment on the project's Notion page
-- (`notion_comment_id` once posted); the team's is a comment read from that page. An internal one (its text begins
-- with the team's marker) is kept, and never shown to the client.
create table public.messages (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  project_id uuid not null,
  author_kind text not null check (author_kind in ('client', 'team')),
  author_id uuid references public.users (id),  -- the client's user; a team member is named by Notion
  author_name text check (length(author_name) <= 200),
  notion_author_id text check (length(notion_author_id) <= 100),
  body text not null check (length(btrim(body)) between 1 and 4000),
  internal boolean not null default false,
  attachment_key text check (length(attachment_key) <= 1024),
  attachment_name text check (length(attachment_name) between 1 and 200),
  attachment_type text check (attachment_type in ('image/png', 'image/jpeg', 'image/gif', 'image/webp',
                                                  'application/pdf')),
  attachment_size bigint check (attachment_size between 1 and 10485760),
  notion_comment_id text unique check (length(notion_comment_id) <= 100),
  created_at timestamptz not null default now(),
  unique (business_id, id),
  foreign key (business_id, project_id) references public.projects (business_id, id),
  check (author_kind = 'team' or (author_id is not null and not internal)),
  check ((attachment_key is null) = (attachment_name is null) and (attachment_key is null) = (attachment_type is null)
         and (attachment_key is null) = (attachment_size is null))
);
create index messages_project_idx on public.messages (business_id, project_id, created_at);
create index messages_author_idx on public.messages (author_id, created_at);
create view scoped.messages with (security_invoker = true) as
  select * from public.messages where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.messages to authenticated, service_role;

alter table public.messages enable row level security;
create policy messages_select on public.messages for select to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND (app_private.is_team(business_id) OR ((project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids)) AND (NOT internal)))));
create policy messages_insert on public.messages for insert to authenticated
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND (app_private.is_team(business_id) OR ((author_kind = 'client'::text) AND (author_id = auth.uid()) AND (NOT internal) AND (notion_comment_id IS NULL) AND (project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids))))));
create policy messages_update on public.messages for update to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)))
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy messages_delete on public.messages for delete to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));

-- One decision per deliverable version, by its client, never rewritten (a dispute may rest on it).
create table public.approvals (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  project_id uuid not null,
  deliverable_id uuid not null unique,
  version integer not null check (version > 0),
  s3_version_id text,
  file_path text not null,
  decision text not null check (decision in ('approved', 'changes_requested')),
  note text check (length(note) <= 2000),
  user_id uuid not null references public.users (id),
  created_at timestamptz not null default now(),
  unique (business_id, id),
  foreign key (business_id, project_id) references public.projects (business_id, id),
  foreign key (business_id, deliverable_id) references public.deliverables (business_id, id),
  check (decision = 'approved' or length(btrim(note)) > 0)
);
create index approvals_project_idx on public.approvals (business_id, project_id, created_at);
create index approvals_user_idx on public.approvals (user_id);
create index approvals_deliverable_idx on public.approvals (business_id, deliverable_id);
create view scoped.approvals with (security_invoker = true) as
  select * from public.approvals where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.approvals to authenticated, service_role;

alter table public.approvals enable row level security;
create policy approvals_select on public.approvals for select to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND (app_private.is_team(business_id) OR (project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids)))));
create policy approvals_insert on public.approvals for insert to authenticated
    with check (((business_id = ( SELECT app_private.business_id() AS business_id)) AND (user_id = auth.uid()) AND (project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids))));
create policy approvals_update on public.approvals for update to authenticated
    using (false)
    with check (false);
create policy approvals_delete on public.approvals for delete to authenticated
    using (false);

create function app_private.never_rewritten() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception '% rows are never rewritten or deleted: record a new decision instead', tg_table_name
    using errcode = '42501';
end
$$;
create trigger approvals_never_rewritten before update or delete on public.approvals for each row
  execute function app_private.never_rewritten();

-- The one question at delivery: how likely the client is to recommend the studio (0-10), once per project.
create table public.nps_answers (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  project_id uuid not null unique,
  user_id uuid not null references public.users (id),
  score smallint not null check (score between 0 and 10),
  comment text check (length(comment) <= 2000),
  created_at timestamptz not null default now(),
  unique (business_id, id),
  foreign key (business_id, project_id) references public.projects (business_id, id)
);
create index nps_answers_created_idx on public.nps_answers (business_id, created_at);
create index nps_answers_user_idx on public.nps_answers (user_id);
create index nps_answers_project_idx on public.nps_answers (business_id, project_id);
create view scoped.nps_answers with (security_invoker = true) as
  select * from public.nps_answers where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.nps_answers to authenticated, service_role;

alter table public.nps_answers enable row level security;
create policy nps_answers_select on public.nps_answers for select to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND (app_private.is_team(business_id) OR (project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids)))));
create policy nps_answers_insert on public.nps_answers for insert to authenticated
    with check (((business_id = ( SELECT app_private.business_id() AS business_id)) AND (user_id = auth.uid()) AND (project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids)) AND app_private.project_delivered(project_id)));
create policy nps_answers_update on public.nps_answers for update to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)))
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy nps_answers_delete on public.nps_answers for delete to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));

alter table public.project_history drop constraint project_history_kind_check;
alter table public.project_history add constraint project_history_kind_check
  check (kind in ('paid', 'milestone_done', 'delivered', 'refunded', 'approval', 'feedback'));

alter table public.notifications drop constraint notifications_template_check;
alter table public.notifications add constraint notifications_template_check check (template in
  ('payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed', 'portal_sign_in',
   'weekly_report', 'quote_sent', 'lead_declined', 'message_reply', 'nps_request'));

revoke execute on function app_private.project_delivered from public, anon;
grant execute on function app_private.project_delivered to authenticated, service_role;  -- read by a policy
revoke execute on function app_private.client_name from public, anon, authenticated;
grant execute on function app_private.client_name to service_role;

-- A comment for the team on the project's Notion page (posted from the `notion_comments` outbox).
create function app_private.tell_team(p_project uuid, p_body text, p_message uuid default null) returns void
language sql security definer
set search_path = ''
as $$
  insert into public.notion_comments (business_id, entity, record_id, page_id, body, message_id)
  select p.business_id, 'project', p.id, p.notion_page_id, left(p_body, 2000), p_message
    from public.projects p where p.id = p_project
$$;

revoke execute on function app_private.tell_team from public, anon, authenticated;
grant execute on function app_private.tell_team to service_role;

-- A drawing, a render or a document waits for the client's decision; its upload puts the project in
-- "awaiting feedback" (unless the work is delivered or closed).
create function app_private.deliverable_round() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.needs_approval := new.category in ('Drawing', 'Render', 'Document');
  new.approval := case when new.needs_approval then 'waiting' end;
  return new;
end
$$;
create trigger deliverables_round before insert on public.deliverables for each row
  execute function app_private.deliverable_round();

create function app_private.deliverable_awaits() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.needs_approval then
    update public.projects set status = 'awaiting_feedback'
     where id = new.project_id and status in ('onboarding', 'in_progress', 'revisions');
  end if;
  return new;
end
$$;
create trigger deliverables_awaits after insert on public.deliverables for each row
  execute function app_private.deliverable_awaits();

-- A client's message: its author's name, then (after the insert the policy allowed) a comment for the team.
create function app_private.message_author() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.author_kind = 'client' then
    new.author_name := left(app_private.client_name(new.project_id), 200);
    new.created_at := now();
  end if;
  return new;
end
$$;
create trigger messages_author before insert on public.messages for each row
  execute function app_private.message_author();

create function app_private.message_posted() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.author_kind = 'client' then
    perform app_private.tell_team(new.project_id,
      format('%s wrote in the portal: %s', coalesce(new.author_name, 'The client'), new.body)
      || coalesce(format(E'\n(Attached: %s, %s. Open the project in the portal, or the deliverables bucket at %s.)',
                         new.attachment_name, pg_size_pretty(new.attachment_size), new.attachment_key), ''),
      new.id);
    insert into public.audit_log (business_id, user_id, action, resource_type, resource_id, details)
    values (new.business_id, new.author_id, 'message.posted', 'message', new.id::text,
            jsonb_build_object('project_id', new.project_id, 'attachment', new.attachment_name,
                               'length', length(new.body)));
  end if;
  return new;
end
$$;
create trigger messages_posted after insert on public.messages for each row
  execute function app_private.message_posted();

-- A client's message, once its comment is on the page: the comment's id, so the poll never reads it back as a reply.
create function app_private.message_commented() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.message_id is not null and new.comment_id is not null and old.comment_id is null then
    update public.messages set notion_comment_id = new.comment_id
     where id = new.message_id and notion_comment_id is null;
  end if;
  return new;
end
$$;
create trigger notion_comments_message after update of comment_id on public.notion_comments for each row
  execute function app_private.message_commented();

-- A decision: the deliverable shows it, the project's status follows it, the team hears of it, the history
-- and the audit log keep it.
create function app_private.decision_taken() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_name text;
  v_who text := coalesce(app_private.client_name(new.project_id), 'The client');
  v_open integer;
begin
  update public.deliverables set approval = new.decision, approval_note = new.note, decided_at = new.created_at
   where id = new.deliverable_id and project_id = new.project_id and needs_approval returning name into v_name;
  if not found then
    raise exception 'deliverable % of project % asks for no decision', new.deliverable_id, new.project_id
      using errcode = '22023';
  end if;
  if new.decision = 'changes_requested' then
    update public.projects set status = 'revisions'
     where id = new.project_id and status in ('onboarding', 'in_progress', 'awaiting_feedback');
  else
    select count(*) into v_open from public.deliverables d
     where d.project_id = new.project_id and d.deleted_at is null and d.needs_approval
       and d.approval is distinct from 'approved'
       and d.version = (select max(o.version) from public.deliverables o
                         where o.s3_bucket = d.s3_bucket and o.file_path = d.file_path and o.deleted_at is null);
    if v_open = 0 then
      update public.projects set status = 'in_progress'
       where id = new.project_id and status in ('awaiting_feedback', 'revisions');
    end if;
  end if;
  perform app_private.note_history(new.project_id, 'approval',
    case new.decision when 'approved' then format('Approved by %s: %s', v_who, v_name)
                      else format('Changes asked by %s on %s: %s', v_who, v_name, new.note) end,
    'approval:' || new.id);
  perform app_private.tell_team(new.project_id,
    case new.decision when 'approved' then format('%s approved %s in the portal.', v_who, v_name)
                      else format('%s asked for changes on %s: %s', v_who, v_name, new.note) end);
  insert into public.audit_log (business_id, user_id, action, resource_type, resource_id, details)
  values (new.business_id, new.user_id, 'deliverable.' || new.decision, 'deliverable', new.deliverable_id::text,
          jsonb_build_object('approval_id', new.id, 'project_id', new.project_id, 'version', new.version,
                             's3_version_id', new.s3_version_id, 'note', new.note));
  return new;
end
$$;
create trigger approvals_taken after insert on public.approvals for each row
  execute function app_private.decision_taken();

-- Delivered: the client is asked once, by e-mail and in the portal.
create function app_private.ask_at_delivery() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.status = 'delivered' and old.status is distinct from 'delivered' and new.nps_asked_at is null
     and new.deleted_at is null then
    new.nps_asked_at := now();
    perform app_private.notify('nps_request', 'nps_request:' || new.id, new.id, new.id);
  end if;
  return new;
end
$$;
create trigger projects_ask_at_delivery before update of status on public.projects for each row
  execute function app_private.ask_at_delivery();

create function app_private.nps_answered() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_who text := coalesce(app_private.client_name(new.project_id), 'The client');
begin
  perform app_private.enqueue_sync('project', new.project_id);  -- the score shows on the project's page
  perform app_private.note_history(new.project_id, 'feedback',
    format('%s scored the studio %s of 10', v_who, new.score), 'feedback:' || new.id);
  perform app_private.tell_team(new.project_id,
    format('%s answered the delivery question: %s of 10%s', v_who, new.score,
           coalesce(format(', "%s"', new.comment), '.')));
  insert into public.audit_log (business_id, user_id, action, resource_type, resource_id, details)
  values (new.business_id, new.user_id, 'feedback.answered', 'project', new.project_id::text,
          jsonb_build_object('score', new.score));
  return new;
end
$$;
create trigger nps_answers_answered after insert on public.nps_answers for each row
  execute function app_private.nps_answered();

-- The portal's writes. Each runs as the signed-in client (security invoker): the insert policies decide.

create function public.portal_post_message(p_project_id uuid, p_body text, p_attachment jsonb default null,
                                           p_id uuid default null) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_hour integer;
  v_minute integer;
  v_oldest timestamptz;
  v_id uuid;
begin
  if length(btrim(coalesce(p_body, ''))) = 0 or length(p_body) > 1800 then
    raise exception 'a message is 1 to 1800 characters' using errcode = '22023';
  end if;
  select count(*), count(*) filter (where created_at > now() - interval '1 minute'), min(created_at)
    into v_hour, v_minute, v_oldest
    from scoped.messages where author_id = auth.uid() and created_at > now() - interval '1 hour';
  if v_minute >= 5 then
    return jsonb_build_object('limited', true, 'retry_after', 60);
  elsif v_hour >= 30 then
    return jsonb_build_object('limited', true, 'retry_after',
                              greatest(1, ceil(extract(epoch from v_oldest + interval '1 hour' - now())))::integer);
  end if;
  insert into scoped.messages (id, project_id, author_kind, author_id, body, attachment_key, attachment_name,
                               attachment_type, attachment_size)
  values (coalesce(p_id, gen_random_uuid()), p_project_id, 'client', auth.uid(), btrim(p_body),
          p_attachment->>'key', p_attachment->>'name', p_attachment->>'type', (p_attachment->>'size')::bigint)
  returning id into v_id;
  return jsonb_build_object('limited', false, 'id', v_id);
end
$$;

create function public.portal_decide(p_deliverable_id uuid, p_decision text, p_note text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_d scoped.deliverables;
  v_id uuid;
begin
  if p_decision not in ('approved', 'changes_requested') then
    raise exception 'a decision is approved or changes_requested' using errcode = '22023';
  end if;
  if p_decision = 'changes_requested' and length(btrim(coalesce(p_note, ''))) = 0 then
    raise exception 'say what should change' using errcode = '22023';
  end if;
  select * into v_d from scoped.deliverables where id = p_deliverable_id and deleted_at is null;
  if v_d.id is null then
    return jsonb_build_object('outcome', 'not_found');
  elsif not v_d.needs_approval then
    return jsonb_build_object('outcome', 'not_asked', 'project_id', v_d.project_id);
  elsif exists (select 1 from scoped.deliverables o where o.s3_bucket = v_d.s3_bucket and o.file_path = v_d.file_path
                   and o.version > v_d.version and o.deleted_at is null) then
    return jsonb_build_object('outcome', 'superseded', 'project_id', v_d.project_id);
  end if;
  insert into scoped.approvals (project_id, deliverable_id, version, s3_version_id, file_path, decision, note, user_id)
  values (v_d.project_id, v_d.id, v_d.version, v_d.s3_version_id, v_d.file_path, p_decision,
          nullif(btrim(coalesce(p_note, '')), ''), auth.uid())
  on conflict (deliverable_id) do nothing
  returning id into v_id;
  return jsonb_build_object('outcome', case when v_id is null then 'already' else 'recorded' end,
                            'id', v_id, 'project_id', v_d.project_id);
end
$$;

create function public.portal_answer_nps(p_project_id uuid, p_score integer, p_comment text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_id uuid;
begin
  if p_score is null or p_score not between 0 and 10 then
    raise exception 'the score is a whole number from 0 to 10' using errcode = '22023';
  end if;
  insert into scoped.nps_answers (project_id, user_id, score, comment)
  values (p_project_id, auth.uid(), p_score, nullif(btrim(coalesce(p_comment, '')), ''))
  on conflict (project_id) do nothing
  returning id into v_id;
  return jsonb_build_object('outcome', case when v_id is null then 'already' else 'recorded' end);
end
$$;

-- A message's attachment, for its client (or the team): where it is, to send them there for a few minutes.
create function public.portal_attachment(p_message_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object('key', m.attachment_key, 'name', m.attachment_name, 'type', m.attachment_type)
    from scoped.messages m where m.id = p_message_id and m.attachment_key is not null
$$;

revoke execute on function public.portal_post_message, public.portal_decide, public.portal_answer_nps,
  public.portal_attachment from public, anon;
grant execute on function public.portal_post_message, public.portal_decide, public.portal_answer_nps,
  public.portal_attachment to authenticated, service_role;

-- A comment read from a project's page (the `comment.created` webhook, or the poll): a reply for the client, or
-- an internal note (its text begins with the marker), or one of Atelier's own, skipped. Applied once per comment.
create function public.record_team_comment(p_page_id text, p_comment_id text, p_author_id text, p_author_name text,
                                           p_body text, p_created_at timestamptz, p_marker text) returns jsonb
language plpgsql
set search_path = ''
as $$
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
          left(btrim(p_body), 4000), v_internal, p_comment_id, coalesce(p_created_at, now()))
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
$$;

-- A page's comments as read, in one call: each stored once; the counts of what each became.
create function public.record_team_comments(p_page_id text, p_comments jsonb, p_marker text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  c jsonb;
  v_action text;
  v_stored integer := 0;
  v_internal integer := 0;
begin
  for c in select * from jsonb_array_elements(coalesce(p_comments, '[]'::jsonb)) loop
    if exists (select 1 from scoped.messages where notion_comment_id = c->>'id') then
      continue;
    end if;
    v_action := public.record_team_comment(p_page_id, c->>'id', c->>'author_id', c->>'author_name', c->>'body',
                                           (c->>'created_at')::timestamptz, p_marker)->>'action';
    if v_action = 'stored' then v_stored := v_stored + 1;
    elsif v_action = 'internal' then v_internal := v_internal + 1;
    end if;
  end loop;
  return jsonb_build_object('stored', v_stored, 'internal', v_internal);
end
$$;

-- The pages the poll reads comments on: where a reply is awaited (a recent message, or a decision pending).
create function public.comment_pages(p_limit integer) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('project_id', x.id, 'page_id', x.notion_page_id)), '[]'::jsonb)
    from (select p.id, p.notion_page_id
            from scoped.projects p
           where p.notion_page_id is not null and p.deleted_at is null
             and (p.status in ('awaiting_feedback', 'revisions')
                  or exists (select 1 from scoped.messages m where m.project_id = p.id
                                and m.created_at > now() - interval '14 days'))
           order by (select max(m.created_at) from scoped.messages m where m.project_id = p.id) desc nulls last,
                    p.updated_at desc
           limit p_limit) x
$$;

revoke execute on function public.record_team_comment, public.record_team_comments, public.comment_pages
  from public, anon, authenticated;
grant execute on function public.record_team_comment, public.record_team_comments, public.comment_pages
  to service_role;

-- A comment for the team waits for its page; the claim finds the page when it exists.
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

-- The owner's report: NPS per tier and per month (promoters 9-10 less detractors 0-6, in points of 100).
create function public.report_nps(p_from date, p_to date) returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_range tstzrange := app_private.report_bounds(p_from, p_to);
begin
  perform app_private.report_reader();
  return (
    select coalesce(jsonb_agg(jsonb_build_object('month', x.month, 'tier_name', x.tier_name, 'answers', x.answers,
                                                 'promoters', x.promoters, 'detractors', x.detractors,
                                                 'nps', round(100.0 * (x.promoters - x.detractors) / x.answers))
                              order by x.month, x.tier_name), '[]'::jsonb)
      from (select date_trunc('month', a.created_at)::date as month, t.name as tier_name, count(*) as answers,
                   count(*) filter (where a.score >= 9) as promoters, count(*) filter (where a.score <= 6) as detractors
              from scoped.nps_answers a join scoped.projects p on p.id = a.project_id
              join scoped.tiers t on t.id = p.tier
             where a.created_at <@ v_range
             group by 1, 2) x);
end
$$;
revoke execute on function public.report_nps from public, anon;
grant execute on function public.report_nps to authenticated, service_role;

create or replace function public.report(p_from date, p_to date) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform app_private.report_reader();
  return jsonb_build_object(
    'period', jsonb_build_object('from', p_from, 'to', p_to),
    'generated_at', now(),
    'funnel', public.report_funnel(p_from, p_to),
    'revenue', public.report_revenue(p_from, p_to),
    'projects', public.report_projects(p_from, p_to),
    'milestones', public.report_milestones(p_from, p_to),
    'cycle_times', public.report_cycle_times(p_from, p_to),
    'sync', public.report_sync(p_from, p_to),
    'held', public.report_held(p_from, p_to),
    'nps', public.report_nps(p_from, p_to));
end
$$;

-- The portal's project page: the thread (never an internal note), each file's decision, and the question at
-- delivery while it is unanswered.
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

CREATE OR REPLACE FUNCTION app_private.sync_record(p_entity sync_entity, p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
AS $function$
  select case p_entity
    when 'lead' then (
      select jsonb_build_object('name', l.name, 'email', l.email, 'tier_name', t.name, 'status', l.status,
        'budget_range', l.budget_range, 'timeline_weeks', l.timeline_weeks, 'project_type', l.project_type,
        'needs_review', l.needs_review, 'routing_reason', l.routing_reason, 'confidence', l.confidence,
        'red_flags', to_jsonb(l.red_flags), 'notion_page_id', l.notion_page_id,
        'quote', round(l.quote_amount / 100.0, 2), 'quote_note', l.quote_note,
        'quote_state', (select case q.status
            when 'sent' then format('Sent %s: %s, %s; %s', to_char(q.created_at, 'FMDD Mon'),
                                    app_private.money_words(q.amount, q.currency), qt.name,
                                    case when q.checkout_session_id is null then 'its payment page is opening'
                                         else format('the link pays until %s UTC',
                                                     to_char(q.expires_at at time zone 'UTC', 'FMDD Mon HH24:MI')) end)
            when 'paid' then format('Paid %s: %s, %s', to_char(q.paid_at, 'FMDD Mon'),
                                    app_private.money_words(q.amount, q.currency), qt.name)
            when 'expired' then format('Expired %s: the client''s link offers a fresh one',
                                       to_char(q.updated_at, 'FMDD Mon'))
            else initcap(q.status) || ' ' || to_char(q.updated_at, 'FMDD Mon') end
          from scoped.quotes q join scoped.tiers qt on qt.id = q.tier
         where q.lead_id = l.id order by q.created_at desc limit 1),
        'pushed', l.notion_pushed_hash, 'deleted', l.deleted_at is not null)
      from scoped.leads l join scoped.tiers t on t.id = coalesce(l.team_tier, l.recommended_tier) where l.id = p_id)
    when 'client' then (
      select jsonb_build_object('name', coalesce(c.name, (select name from scoped.leads where email = u.email
                                                          order by created_at desc limit 1), u.email),
        'email', u.email, 'tier_name', t.name, 'status', c.status, 'project_address', c.project_address,
        'phone', c.phone, 'company', c.company,
        'notion_page_id', c.notion_page_id, 'pushed', c.notion_pushed_hash, 'deleted', c.deleted_at is not null)
      from scoped.clients c join public.users u on u.id = c.user_id join scoped.tiers t on t.id = c.tier
      where c.id = p_id)
    when 'project' then (
      select jsonb_build_object('name', p.name, 'tier_name', t.name,
        'client_page', case when c.notion_page_id is null then '[]'::jsonb else jsonb_build_array(c.notion_page_id) end,
        'waiting_for', case when c.notion_page_id is null then 'client' end, 'parent_id', c.id,
        'status', p.status, 'payment_status', p.payment_status, 'needs_review', p.needs_review,
        'nps', (select a.score from scoped.nps_answers a where a.project_id = p.id),
        'client_feedback', (select a.comment from scoped.nps_answers a where a.project_id = p.id),
        'amount_paid', (select round(coalesce(sum(pay.amount - pay.amount_refunded), 0) / 100.0, 2)
                          from scoped.payments pay where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')),
        'paid_on', (select min(pay.created_at)::date from scoped.payments pay
                     where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')),
        'notion_page_id', p.notion_page_id, 'pushed', p.notion_pushed_hash, 'deleted', p.deleted_at is not null)
      from scoped.projects p join scoped.clients c on c.id = p.client_id join scoped.tiers t on t.id = p.tier
      where p.id = p_id)
    when 'milestone' then (
      select jsonb_build_object('name', m.name,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'waiting_for', case when p.notion_page_id is null then 'project' end, 'parent_id', p.id,
        'order', m."order", 'due_date', m.due_date, 'status', m.status, 'completed_at', m.completed_at,
        'notion_page_id', m.notion_page_id, 'pushed', m.notion_pushed_hash, 'deleted', m.deleted_at is not null)
      from scoped.milestones m join scoped.projects p on p.id = m.project_id where m.id = p_id)
    when 'deliverable' then (
      select jsonb_build_object('name', d.name,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'waiting_for', case when p.notion_page_id is null then 'project' end, 'parent_id', p.id,
        'category', d.category, 'uploaded_on', d.created_at::date, 'file_url', d.file_url,
        'approval', d.approval, 'approval_note', d.approval_note,
        'notion_page_id', d.notion_page_id, 'pushed', d.notion_pushed_hash, 'deleted', d.deleted_at is not null)
      from scoped.deliverables d join scoped.projects p on p.id = d.project_id where d.id = p_id)
  end
$function$;

CREATE OR REPLACE FUNCTION app_private.notification_context(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'client_name', coalesce(l.name, ql.name, split_part(n.recipient, '@', 1)),
    'project_id', p.id, 'project_name', p.name, 'tier_name', coalesce(t.name, qt.name),
    'quote', (select jsonb_build_object('id', q.id, 'token', q.link_token, 'amount', q.amount,
                                        'currency', q.currency, 'note', q.note, 'status', q.status,
                                        'expires_at', q.expires_at, 'features', qt.features,
                                        'description', qt.description)
               where q.id is not null),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date,
                                                                'status', m.status) order by m."order"), '[]')
                     from scoped.milestones m where m.project_id = p.id and m.deleted_at is null),
    'milestone', (select jsonb_build_object('name', m.name, 'completed_at', m.completed_at)
                    from scoped.milestones m where m.id = n.subject_id),
    'deliverable', (select jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category)
                      from scoped.deliverables d where d.id = n.subject_id),
    'sign_in', (select jsonb_build_object('id', s.id, 'expires', floor(extract(epoch from s.expires_at))::bigint)
                  from scoped.portal_sign_ins s where s.id = n.subject_id),
    'payment', (select jsonb_build_object('amount', pay.amount, 'amount_refunded', pay.amount_refunded,
                                          'currency', pay.currency)
                  from scoped.payments pay where pay.project_id = p.id order by pay.created_at desc limit 1),
    'message', (select jsonb_build_object('id', msg.id, 'body', msg.body, 'author_name', msg.author_name)
                  from scoped.messages msg where msg.id = n.subject_id and n.template = 'message_reply'),
    'details', n.details)
    from scoped.notifications n
    left join scoped.projects p on p.id = n.project_id
    left join scoped.leads l on l.id = p.lead_id
    left join scoped.tiers t on t.id = p.tier
    left join scoped.quotes q on n.template = 'quote_sent' and q.id = n.subject_id
    left join scoped.tiers qt on qt.id = q.tier
    left join scoped.leads ql on ql.id = coalesce(q.lead_id, case when n.template = 'lead_declined'
                                                                  then n.subject_id end)
   where n.id = p_id
$function$;
