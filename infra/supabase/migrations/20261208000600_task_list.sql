-- `atelier task list`: the team's tasks as the operator reads them, soonest due first (the open ones before the
-- done ones), with what each is about and whether it is overdue.
-- Rollback: infra/supabase/rollbacks/20261208000600_task_list.down.sql

create function public.task_list(p_status text, p_overdue boolean, p_limit integer) returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  if p_status is not null and p_status not in ('open', 'in_progress', 'done') then
    raise exception 'a task is open, in_progress or done, not %', p_status using errcode = '22023';
  end if;
  return (
    select coalesce(jsonb_agg(to_jsonb(r) order by r.done, r.due_date nulls last, r.created_at), '[]'::jsonb) from (
      select k.id, k.title, k.kind, k.status, k.status = 'done' as done, k.due_date, k.completed_at, k.assignee_id,
             k.project_id, p.name as project_name, k.lead_id, l.name as lead_name, k.notion_page_id, k.created_at,
             k.status <> 'done' and k.due_date < app_private.business_today(k.business_id) as overdue
        from scoped.tasks k left join scoped.projects p on p.id = k.project_id
        left join scoped.leads l on l.id = k.lead_id
       where k.deleted_at is null and (p_status is null or k.status = p_status)
         and (not coalesce(p_overdue, false)
              or (k.status <> 'done' and k.due_date < app_private.business_today(k.business_id)))
       order by k.status = 'done', k.due_date nulls last, k.created_at
       limit greatest(least(p_limit, 1000), 1)) r);
end
$$;
revoke all on function public.task_list(text, boolean, integer) from public, anon, authenticated;
grant execute on function public.task_list(text, boolean, integer) to service_role;
