-- First-time import: link a record to the Notion page it was made from.
-- Rollback: infra/supabase/rollbacks/20261121000800_notion_import.down.sql

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

revoke execute on function public.link_notion_page from public, anon, authenticated;
grant execute on function public.link_notion_page to service_role;
