-- Deliverables: an S3 upload recorded once per S3 event, and the file's whereabouts for downloads and Notion.
-- Rollback: infra/supabase/rollbacks/20261122000900_deliverables.down.sql

-- The S3 event that recorded the row (bucket/key#version or sequencer): a redelivery finds it.
alter table public.deliverables add column s3_event_id text unique;

-- Records one S3 ObjectCreated event: the deliverable, its audit row and (by trigger) its outbox row.
-- A redelivered event changes nothing. An upload for an unknown or deleted project is kept as an orphan
-- entry in the audit log. A new upload to a key already recorded is the next version of that file.
create or replace function public.record_deliverable(
  p_event_id text, p_id uuid, p_bucket text, p_key text, p_version_id text, p_project_id uuid,
  p_name text, p_category text, p_size bigint, p_type text, p_uploaded_by text, p_file_url text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_project public.projects;
  v_version integer;
  v_id uuid;
  v_orphan text;  -- why the upload has no project to belong to
begin
  insert into public.inbound_events (source, event_id, event_type, outcome)
  values ('s3', p_event_id, 'ObjectCreated', 'applied')
  on conflict (source, event_id) do nothing;
  if not found then
    select id into v_id from public.deliverables where s3_event_id = p_event_id;
    return jsonb_build_object('outcome', 'duplicate', 'deliverable_id', v_id);
  end if;

  -- One upload at a time per project, so that versions of one key are numbered in turn.
  select * into v_project from public.projects where id = p_project_id for update;
  v_orphan := case when v_project.id is null then 'unknown project'
                   when v_project.deleted_at is not null then 'deleted project' end;
  if v_orphan is not null then
    update public.inbound_events set outcome = 'rejected', reason = v_orphan
     where source = 's3' and event_id = p_event_id;
    insert into public.audit_log (action, resource_type, resource_id, details)
    values ('deliverable.orphan', 'deliverable', p_key,
            jsonb_build_object('bucket', p_bucket, 'key', p_key, 'version_id', p_version_id,
                               'project_id', p_project_id, 'size', p_size, 'uploaded_by', p_uploaded_by,
                               'reason', v_orphan));
    return jsonb_build_object('outcome', 'orphan', 'reason', v_orphan);
  end if;

  select coalesce(max(version), 0) + 1 into v_version
    from public.deliverables where s3_bucket = p_bucket and file_path = p_key;
  insert into public.deliverables (id, project_id, name, file_path, file_url, file_size, file_type, category,
                                   uploaded_by, s3_bucket, s3_version_id, version, s3_event_id)
  values (p_id, p_project_id,
          case when v_version > 1 then p_name || ' (v' || v_version || ')' else p_name end,
          p_key, p_file_url, p_size, coalesce(nullif(p_type, ''), 'application/octet-stream'),
          p_category::public.deliverable_category, nullif(p_uploaded_by, ''), p_bucket, p_version_id,
          v_version, p_event_id);
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('deliverable.uploaded', 'deliverable', p_id::text,
          jsonb_build_object('project_id', p_project_id, 'key', p_key, 'version', v_version,
                             'version_id', p_version_id, 'size', p_size, 'uploaded_by', p_uploaded_by));
  return jsonb_build_object('outcome', 'applied', 'deliverable_id', p_id, 'version', v_version,
                            'project_id', p_project_id);
end
$$;

-- Where a deliverable's file is: for the download route and the Notion showcase page. Null when unknown.
create or replace function public.deliverable_file(p_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object('id', d.id, 'project_id', d.project_id, 'name', d.name, 'bucket', d.s3_bucket,
                            'key', d.file_path, 'version_id', d.s3_version_id, 'file_type', d.file_type,
                            'file_size', d.file_size, 'file_url', d.file_url, 'category', d.category,
                            'deleted', d.deleted_at is not null)
    from public.deliverables d where d.id = p_id
$$;

revoke execute on function public.record_deliverable, public.deliverable_file from public, anon, authenticated;
grant execute on function public.record_deliverable, public.deliverable_file to service_role;
