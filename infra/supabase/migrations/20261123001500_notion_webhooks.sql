-- Notion webhooks: each delivery is applied once, by its event id, in the inbound ledger (source 'notion'); and the
-- studio's data sources found by id, so that renaming a database in Notion loses nothing.
-- Rollback: infra/supabase/rollbacks/20261123001500_notion_webhooks.down.sql

-- Records a delivery; false when its id was seen already. p_applied false: acknowledged and ignored (a type
-- Atelier does not act on).
create or replace function public.record_notion_event(p_event_id text, p_event_type text, p_entity_id text,
                                                      p_applied boolean) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  insert into public.inbound_events (source, event_id, event_type, outcome, payload)
  values ('notion', p_event_id, p_event_type,
          case when p_applied then 'applied'::public.inbound_outcome else 'ignored'::public.inbound_outcome end,
          jsonb_build_object('entity_id', p_entity_id))
  on conflict (source, event_id) do nothing;
  return found;
end
$$;

-- A delivery that could not be applied (Notion did not answer): forgotten, so that Notion's retry is applied.
create or replace function public.forget_notion_event(p_event_id text) returns boolean
language sql
set search_path = ''
as $$
  with gone as (delete from public.inbound_events where source = 'notion' and event_id = p_event_id returning 1)
  select exists (select 1 from gone)
$$;

revoke execute on function public.record_notion_event, public.forget_notion_event from public, anon, authenticated;
grant execute on function public.record_notion_event, public.forget_notion_event to service_role;

-- The data source each entity's property ids were learnt from: how setup and the local stack find the studio's
-- databases after the team renamed them (a title search would miss them, and setup would make new ones).
create or replace function public.notion_data_sources() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_object_agg(entity, data_source_id), '{}'::jsonb) from (
    select distinct on (entity) entity::text, data_source_id from public.notion_properties
     order by entity, updated_at desc) d
$$;

revoke execute on function public.notion_data_sources from public, anon, authenticated;
grant execute on function public.notion_data_sources to service_role;
