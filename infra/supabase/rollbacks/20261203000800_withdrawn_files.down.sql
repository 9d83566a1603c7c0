-- Undoes 20261203000800_withdrawn_files.sql: deliverable_file as 20261122000900 made it.
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

delete from supabase_migrations.schema_migrations where version = '20261203000800';
