-- A page deleted for good in Notion (not just trashed) soft-deletes its record when a push finds it gone.
-- Rollback: infra/supabase/rollbacks/20261121000900_sync_vanished_pages.down.sql

-- Reports a batch of pushes: links pages and hashes on success, backs off (then gives up) on failure,
-- and soft-deletes a record whose page has vanished from Notion.
create or replace function public.complete_outbox(p_results jsonb, p_max_attempts integer) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r jsonb;
  v_row public.sync_outbox;
  v_done integer := 0;
  v_retry integer := 0;
  v_dead integer := 0;
begin
  for r in select * from jsonb_array_elements(p_results) loop
    select * into v_row from public.sync_outbox where id = (r->>'outbox_id')::bigint for update;
    continue when not found or v_row.status <> 'pending';
    if (r->>'ok')::boolean and coalesce((r->>'gone')::boolean, false) then
      -- The page was deleted for good in Notion (confirmed by a read): keep the record, marked deleted.
      execute format('update public.%I set deleted_at = coalesce(deleted_at, now()) where id = $1',
                     v_row.entity || 's') using v_row.entity_id;
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.vanished', v_row.entity::text, v_row.entity_id::text, jsonb_build_object('page_id', r->>'page_id'));
      update public.sync_outbox set status = 'done', done_at = now(), requeued = false, last_error = null
       where id = v_row.id;
      v_done := v_done + 1;
    elsif (r->>'ok')::boolean then
      execute format('update public.%I set notion_page_id = coalesce(notion_page_id, $1), notion_pushed_hash = $2,'
                     ' last_synced_at = now() where id = $3', v_row.entity || 's')
        using r->>'page_id', r->>'pushed_hash', v_row.entity_id;
      if v_row.requeued then
        update public.sync_outbox set requeued = false, next_attempt_at = now(), last_error = null
         where id = v_row.id;
        v_retry := v_retry + 1;
      else
        update public.sync_outbox set status = 'done', done_at = now(), last_error = null where id = v_row.id;
        v_done := v_done + 1;
      end if;
    elsif v_row.attempts >= p_max_attempts and not coalesce((r->>'retry_later')::boolean, false) then
      update public.sync_outbox set status = 'dead', last_error = left(r->>'error', 2000) where id = v_row.id;
      v_dead := v_dead + 1;
    else
      update public.sync_outbox
         set last_error = left(r->>'error', 2000),
             next_attempt_at = now() + make_interval(secs => coalesce((r->>'retry_in')::double precision,
                                                               least(3600, 15 * 2 ^ least(v_row.attempts, 12))))
       where id = v_row.id;
      v_retry := v_retry + 1;
    end if;
  end loop;
  return jsonb_build_object('done', v_done, 'retry', v_retry, 'dead', v_dead);
end
$$;

