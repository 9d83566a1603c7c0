-- Undoes 20261123002000_team_workspace.sql: apply_notion_changes as 20261121000600 made it.
drop function if exists public.adopt_notion_client(text, text, text, text, text, boolean);
drop function if exists public.adopt_notion_page(text, text, text, text, boolean);
drop function if exists public.adopted_record(text, uuid);
drop function if exists public.mark_pushed(text, uuid, text);
drop trigger if exists payments_project_history on public.payments;
drop trigger if exists milestones_project_history on public.milestones;
drop trigger if exists projects_project_history on public.projects;
drop function if exists app_private.history_of_payment();
drop function if exists app_private.history_of_milestone();
drop function if exists app_private.history_of_project();
drop function if exists public.claim_project_history(integer, integer);
drop function if exists public.complete_project_history(uuid[]);
drop function if exists public.project_brief(uuid);
drop function if exists app_private.note_history(uuid, text, text, text);
drop function if exists app_private.money_text(bigint, text);
drop table if exists public.project_history;
drop function if exists public.claim_notion_comments(integer, integer);
drop function if exists public.complete_notion_comments(jsonb, integer);
-- p_changes: {"changes": [{id, values?: {column: value}, pulled_hash?, trashed?: bool,
--                            lost?: {property: value}, repush?: [property]}]}
create or replace function public.apply_notion_changes(p_entity text, p_data_source_id text, p_changes jsonb,
                                                       p_watermark timestamptz) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  c jsonb;
  v_table text := app_private.synced_table(p_entity);
  v_old jsonb;
  v_new jsonb;
  v_before jsonb;
  v_after jsonb;
  v_applied integer := 0;
  v_deleted integer := 0;
  v_restored integer := 0;
  v_overridden integer := 0;
begin
  for c in select * from jsonb_array_elements(coalesce(p_changes->'changes', '[]'::jsonb)) loop
    execute format('select to_jsonb(t) from public.%I t where id = $1 for update', v_table)
      into v_old using (c->>'id')::uuid;
    continue when v_old is null;

    if (c->>'trashed')::boolean is true and v_old->>'deleted_at' is null then
      execute format('update public.%I set deleted_at = now() where id = $1', v_table) using (c->>'id')::uuid;
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.deleted', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id'));
      v_deleted := v_deleted + 1;
    elsif (c->>'trashed')::boolean is false and v_old->>'deleted_at' is not null then
      execute format('update public.%I set deleted_at = null where id = $1', v_table) using (c->>'id')::uuid;
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.restored', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id'));
      v_restored := v_restored + 1;
    end if;

    if c ? 'values' and c->>'pulled_hash' is distinct from v_old->>'notion_pulled_hash' then
      if p_entity = 'project' then
        update public.projects set status = coalesce((c->'values'->>'status')::public.project_status, status),
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      elsif p_entity = 'milestone' then
        update public.milestones
           set status = coalesce((c->'values'->>'status')::public.milestone_status, status),
               completed_at = case
                 when c->'values' ? 'completed_at' and c->'values'->>'completed_at' is not null
                   then (c->'values'->>'completed_at')::timestamptz
                 when coalesce(c->'values'->>'status', status::text) = 'completed'
                   then coalesce(completed_at, now())
                 else null end,
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      end if;
      execute format('select to_jsonb(t) from public.%I t where id = $1', v_table) into v_new
        using (c->>'id')::uuid;
      v_before := (select jsonb_object_agg(k, v_old->k) from jsonb_object_keys(c->'values') k);
      v_after := (select jsonb_object_agg(k, v_new->k) from jsonb_object_keys(c->'values') k);
      if v_after is distinct from v_before then
        -- The owner's value wins; the one it replaced is kept here.
        insert into public.audit_log (action, resource_type, resource_id, details)
        values ('notion.changed', p_entity, c->>'id', jsonb_build_object('new', v_after, 'old', v_before));
        v_applied := v_applied + 1;
      end if;
    end if;

    if jsonb_array_length(coalesce(c->'repush', '[]'::jsonb)) > 0 then
      -- A person changed a field Postgres owns: Postgres wins, Notion's value is kept in the audit log,
      -- and forgetting what we pushed for it sends our value again.
      execute format('update public.%I set notion_pushed_hash = ((coalesce(notion_pushed_hash, ''{}'')::jsonb)'
                     ' - $2)::text where id = $1', v_table)
        using (c->>'id')::uuid, array(select jsonb_array_elements_text(c->'repush'));
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.overridden', p_entity, c->>'id', jsonb_build_object('notion_values', c->'lost'));
      perform app_private.enqueue_sync(p_entity::public.sync_entity, (c->>'id')::uuid);
      v_overridden := v_overridden + 1;
    end if;
  end loop;

  insert into public.sync_state as s (data_source_id, entity, watermark)
  values (p_data_source_id, p_entity::public.sync_entity, p_watermark)
  on conflict (data_source_id) do update
    set watermark = greatest(s.watermark, excluded.watermark)
    where s.watermark is distinct from greatest(s.watermark, excluded.watermark);

  return jsonb_build_object('applied', v_applied, 'deleted', v_deleted, 'restored', v_restored,
                            'overridden', v_overridden);
end
$$;
create or replace function public.link_notion_page(p_entity text, p_id uuid, p_page_id text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_linked text;
begin
  execute format('update public.%I set notion_page_id = coalesce(notion_page_id, $2) where id = $1'
                 ' returning notion_page_id', app_private.synced_table(p_entity))
    into v_linked using p_id, p_page_id;
  if v_linked is distinct from p_page_id then
    raise exception '% % is already linked to page %', p_entity, p_id, v_linked using errcode = '23505';
  end if;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('notion.imported', p_entity, p_id::text, jsonb_build_object('page_id', p_page_id));
  return jsonb_build_object('linked', v_linked);
end
$$;

drop table if exists public.notion_comments;
-- Leads typed into Notion without a project type get the commonest one back before the column is required again.
update public.leads set project_type = 'standard_renovation' where project_type is null;
alter table public.leads alter column project_type set not null;
drop type if exists public.comment_status;
delete from supabase_migrations.schema_migrations where version = '20261123002000';
