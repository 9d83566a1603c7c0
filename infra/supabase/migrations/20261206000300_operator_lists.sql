-- The operator's reads (`atelier lead|project|client list|show`): newest first, this business's rows only, with
-- what each record holds and where it is in Notion. The service role only; never the API roles.
-- Rollback: infra/supabase/rollbacks/20261206000300_operator_lists.down.sql

create function public.operator_list(p_kind text, p_status text, p_limit integer) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_limit integer := greatest(1, least(coalesce(p_limit, 50), 1000));
begin
  if p_kind = 'lead' then
    return (select coalesce(jsonb_agg(r order by r->>'created_at' desc), '[]'::jsonb) from (
      select jsonb_build_object('id', l.id, 'name', l.name, 'email', l.email, 'status', l.status,
                                'tier', coalesce(l.team_tier, l.recommended_tier), 'tier_name', t.name,
                                'needs_review', l.needs_review, 'budget', l.budget_range,
                                'quote', (select q.status from scoped.quotes q where q.lead_id = l.id
                                           order by q.created_at desc limit 1),
                                'notion_page_id', l.notion_page_id, 'created_at', l.created_at) as r
        from scoped.leads l join scoped.tiers t on t.id = coalesce(l.team_tier, l.recommended_tier)
       where l.deleted_at is null and (p_status is null or l.status::text = p_status)
       order by l.created_at desc limit v_limit) x);
  elsif p_kind = 'project' then
    return (select coalesce(jsonb_agg(r order by r->>'created_at' desc), '[]'::jsonb) from (
      select jsonb_build_object('id', p.id, 'name', p.name, 'status', p.status, 'tier', p.tier,
                                'tier_name', t.name, 'payment_status', p.payment_status,
                                'needs_review', p.needs_review, 'client', coalesce(c.name, u.email),
                                'email', u.email,
                                'milestones', (select count(*) from scoped.milestones m
                                                where m.project_id = p.id and m.deleted_at is null),
                                'milestones_done', (select count(*) from scoped.milestones m
                                                     where m.project_id = p.id and m.deleted_at is null
                                                       and m.status = 'completed'),
                                'notion_page_id', p.notion_page_id, 'created_at', p.created_at) as r
        from scoped.projects p join scoped.tiers t on t.id = p.tier
        join scoped.clients c on c.id = p.client_id join public.users u on u.id = c.user_id
       where p.deleted_at is null and (p_status is null or p.status::text = p_status)
       order by p.created_at desc limit v_limit) x);
  elsif p_kind = 'client' then
    return (select coalesce(jsonb_agg(r order by r->>'created_at' desc), '[]'::jsonb) from (
      select jsonb_build_object('id', c.id, 'name', c.name, 'email', u.email, 'status', c.status,
                                'tier', c.tier, 'phone', c.phone, 'company', c.company,
                                'projects', (select count(*) from scoped.projects p
                                              where p.client_id = c.id and p.deleted_at is null),
                                'notion_page_id', c.notion_page_id, 'created_at', c.created_at) as r
        from scoped.clients c join public.users u on u.id = c.user_id
       where c.deleted_at is null and (p_status is null or c.status::text = p_status)
       order by c.created_at desc limit v_limit) x);
  end if;
  raise exception 'no such kind of record: % (lead, project or client)', p_kind using errcode = '22023';
end
$$;

create function public.operator_show(p_kind text, p_id uuid) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_kind = 'lead' then
    return (select to_jsonb(l) - 'notion_pushed_hash' - 'notion_pulled_hash' - 'request_hash' - 'submission_key'
                   || jsonb_build_object(
                        'tier_name', (select name from scoped.tiers where id = coalesce(l.team_tier,
                                                                                          l.recommended_tier)),
                        'quotes', (select coalesce(jsonb_agg(jsonb_build_object(
                                     'id', q.id, 'status', q.status, 'amount', q.amount, 'currency', q.currency,
                                     'tier', q.tier, 'checkout_session_id', q.checkout_session_id,
                                     'expires_at', q.expires_at, 'created_at', q.created_at)
                                     order by q.created_at), '[]'::jsonb)
                                     from scoped.quotes q where q.lead_id = l.id),
                        'project_id', (select p.id from scoped.projects p where p.lead_id = l.id))
              from scoped.leads l where l.id = p_id);
  elsif p_kind = 'project' then
    return (select to_jsonb(p) - 'notion_pushed_hash' - 'notion_pulled_hash'
                   || jsonb_build_object(
                        'tier_name', (select name from scoped.tiers where id = p.tier),
                        'client', (select jsonb_build_object('id', c.id, 'name', c.name, 'email', u.email)
                                     from scoped.clients c join public.users u on u.id = c.user_id
                                    where c.id = p.client_id),
                        'milestones', (select coalesce(jsonb_agg(jsonb_build_object(
                                         'name', m.name, 'order', m."order", 'status', m.status,
                                         'due_date', m.due_date, 'completed_at', m.completed_at)
                                         order by m."order"), '[]'::jsonb)
                                         from scoped.milestones m where m.project_id = p.id and m.deleted_at is null),
                        'payments', (select coalesce(jsonb_agg(jsonb_build_object(
                                       'id', pay.id, 'status', pay.status, 'amount', pay.amount,
                                       'amount_refunded', pay.amount_refunded, 'currency', pay.currency,
                                       'created_at', pay.created_at) order by pay.created_at), '[]'::jsonb)
                                       from scoped.payments pay where pay.project_id = p.id),
                        'deliverables', (select coalesce(jsonb_agg(jsonb_build_object(
                                           'id', d.id, 'name', d.name, 'category', d.category,
                                           'size', d.file_size, 'created_at', d.created_at)
                                           order by d.created_at), '[]'::jsonb)
                                           from scoped.deliverables d
                                          where d.project_id = p.id and d.deleted_at is null),
                        'messages', (select coalesce(jsonb_agg(jsonb_build_object(
                                       'template', n.template, 'status', n.status, 'recipient', n.recipient,
                                       'sent_at', n.sent_at, 'subject', n.subject) order by n.created_at),
                                       '[]'::jsonb)
                                       from scoped.notifications n where n.project_id = p.id))
              from scoped.projects p where p.id = p_id);
  elsif p_kind = 'client' then
    return (select to_jsonb(c) - 'notion_pushed_hash' - 'notion_pulled_hash'
                   || jsonb_build_object(
                        'email', (select email from public.users where id = c.user_id),
                        'projects', (select coalesce(jsonb_agg(jsonb_build_object(
                                       'id', p.id, 'name', p.name, 'status', p.status, 'tier', p.tier,
                                       'payment_status', p.payment_status) order by p.created_at), '[]'::jsonb)
                                       from scoped.projects p where p.client_id = c.id and p.deleted_at is null))
              from scoped.clients c where c.id = p_id);
  end if;
  raise exception 'no such kind of record: % (lead, project or client)', p_kind using errcode = '22023';
end
$$;

revoke execute on function public.operator_list, public.operator_show from public, anon, authenticated;
grant execute on function public.operator_list, public.operator_show to service_role;
