-- A file the team drops into a deliverable page's File property becomes a deliverable: copied to the bucket under
-- the project's prefix at once (Notion's file URLs expire within the hour) and recorded as an upload is. Each file
-- is taken once, by the key of its Notion URL (the URL less its signature); a claim left by a run that died is
-- taken again after ten minutes.
-- Rollback: infra/supabase/rollbacks/20261208000500_notion_file_drops.down.sql

create table public.notion_file_drops (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  file_key text not null check (length(file_key) between 1 and 2048),
  page_id text not null check (length(page_id) between 1 and 100),
  deliverable_id uuid,
  claimed_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  unique (business_id, file_key),
  foreign key (business_id, deliverable_id) references public.deliverables (business_id, id)
);
create index notion_file_drops_deliverable_idx on public.notion_file_drops (business_id, deliverable_id);
create view scoped.notion_file_drops with (security_invoker = true) as
  select * from public.notion_file_drops where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.notion_file_drops to authenticated, service_role;
alter table public.notion_file_drops enable row level security;
create policy notion_file_drops_select on public.notion_file_drops for select to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)));
create policy notion_file_drops_insert on public.notion_file_drops for insert to authenticated
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy notion_file_drops_update on public.notion_file_drops for update to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)))
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy notion_file_drops_delete on public.notion_file_drops for delete to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));

-- Where a dropped file goes: the deliverable's project (and its category), or, for a page the team made, the
-- project its Project relation names. Null when neither names a live project.
create function public.file_drop_target(p_deliverable_id uuid, p_project_page_id text) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(
    (select jsonb_build_object('project_id', d.project_id, 'category', d.category)
       from scoped.deliverables d join scoped.projects p on p.id = d.project_id
      where d.id = p_deliverable_id and p.deleted_at is null),
    (select jsonb_build_object('project_id', p.id, 'category', null)
       from scoped.projects p where p.notion_page_id = p_project_page_id and p.deleted_at is null))
$$;
revoke all on function public.file_drop_target(uuid, text) from public, anon, authenticated;
grant execute on function public.file_drop_target(uuid, text) to service_role;

-- One taker per file: true when this caller takes it (a new file, or a claim left for ten minutes).
create function public.claim_file_drop(p_file_key text, p_page_id text) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  insert into scoped.notion_file_drops (file_key, page_id) values (p_file_key, p_page_id)
  on conflict (business_id, file_key) do update set claimed_at = now()
    where notion_file_drops.deliverable_id is null and notion_file_drops.claimed_at < now() - interval '10 minutes';
  return found;
end
$$;
revoke all on function public.claim_file_drop(text, text) from public, anon, authenticated;
grant execute on function public.claim_file_drop(text, text) to service_role;

-- The file taken (its deliverable), or let go for the next look (it could not be copied).
create function public.settle_file_drop(p_file_key text, p_deliverable_id uuid) returns void
language plpgsql
set search_path = ''
as $$
begin
  if p_deliverable_id is null then
    delete from scoped.notion_file_drops where file_key = p_file_key and deliverable_id is null;
  else
    update scoped.notion_file_drops set deliverable_id = p_deliverable_id where file_key = p_file_key;
    insert into scoped.audit_log (action, resource_type, resource_id, details)
    values ('notion.file_dropped', 'deliverable', p_deliverable_id::text,
            jsonb_build_object('page_id', (select page_id from scoped.notion_file_drops where file_key = p_file_key)));
  end if;
end
$$;
revoke all on function public.settle_file_drop(text, uuid) from public, anon, authenticated;
grant execute on function public.settle_file_drop(text, uuid) to service_role;
