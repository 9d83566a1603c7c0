-- Reads the operator's CLI needs, as functions behind the rpc port (the CLI sends no SQL of its own).
-- Rollback: infra/supabase/rollbacks/20261123001000_operator_reads.down.sql

-- Whether a project can take a deliverable: 'live', 'deleted' or 'missing'.
create or replace function public.project_state(p_id uuid) returns text
language sql stable
set search_path = ''
as $$
  select coalesce((select case when p.deleted_at is null then 'live' else 'deleted' end
                     from public.projects p where p.id = p_id), 'missing')
$$;

-- The deliverable an upload became, once S3's event has been handled: the newest version of that object.
create or replace function public.find_deliverable(p_bucket text, p_key text, p_version_id text) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object('id', d.id, 'version', d.version, 'file_url', d.file_url)
    from public.deliverables d
   where d.s3_bucket = p_bucket and d.file_path = p_key and d.s3_version_id is not distinct from p_version_id
   order by d.version desc
   limit 1
$$;

revoke execute on function public.project_state, public.find_deliverable from public, anon, authenticated;
grant execute on function public.project_state, public.find_deliverable to service_role;
