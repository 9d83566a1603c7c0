-- A refunded or deleted project's files are no longer shared (issue 29, item 5): the download route refuses every
-- link to them, the team's on Notion pages included, so a link that leaked from an older e-mail dies with them.
-- Rollback: infra/supabase/rollbacks/20261203000800_withdrawn_files.down.sql

create or replace function public.deliverable_file(p_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object('id', d.id, 'project_id', d.project_id, 'name', d.name, 'bucket', d.s3_bucket,
                            'key', d.file_path, 'version_id', d.s3_version_id, 'file_type', d.file_type,
                            'file_size', d.file_size, 'file_url', d.file_url, 'category', d.category,
                            'deleted', d.deleted_at is not null,
                            'withdrawn', p.deleted_at is not null or p.payment_status = 'refunded')
    from public.deliverables d join public.projects p on p.id = d.project_id where d.id = p_id
$$;
