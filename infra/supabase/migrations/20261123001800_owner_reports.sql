-- The owner's reports: the funnel, revenue net of refunds, projects by status, milestones on time, cycle times and
-- sync health for a period, each a function, and `report` that returns them all in one call (one round trip).
-- They run as the caller (security invoker), so row-level security holds, and they answer only the team, admins
-- and the backend: a client who signed in to the portal gets 42501, not the studio's figures.
-- Also: the weekly report e-mail to the owner (a `notifications` row per week, with its period in `details`), and
-- the time Notion sent each webhook delivery, so that the report can tell how long deliveries take to land.
-- Rollback: infra/supabase/rollbacks/20261123001800_owner_reports.down.sql

-- Whether the caller may read reports; raises 42501 when not. Security invoker: is_team reads the caller's user.
create or replace function app_private.report_reader() returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if not (app_private.is_team() or current_user::text in ('service_role', 'postgres', 'supabase_admin')) then
    raise exception 'reports are for the studio''s team and admins' using errcode = '42501';
  end if;
end
$$;

-- The period's bounds in UTC, [from 00:00, the day after `to` 00:00); 22023 for a period that is not one.
create or replace function app_private.report_bounds(p_from date, p_to date) returns tstzrange
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_from is null or p_to is null or p_to < p_from then
    raise exception 'a report period runs from a date to the same or a later date' using errcode = '22023';
  end if;
  if p_to - p_from > 3700 then
    raise exception 'a report period is at most ten years long' using errcode = '22023';
  end if;
  return tstzrange(p_from::timestamp at time zone 'UTC', (p_to + 1)::timestamp at time zone 'UTC', '[)');
end
$$;

-- How a set of durations is spread: how many, the median and a high centile (p_high), to one decimal.
create or replace function app_private.spread(p_values double precision[], p_high double precision) returns jsonb
language sql immutable
set search_path = ''
as $$
  select jsonb_build_object('count', count(v),
                            'median', round((percentile_cont(0.5) within group (order by v))::numeric, 1),
                            'high', round((percentile_cont(p_high) within group (order by v))::numeric, 1))
    from unnest(p_values) v
$$;

-- Leads that arrived in the period, by recommended tier: routed qualified or to review, and how many paid.
create or replace function public.report_funnel(p_from date, p_to date) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  v_range tstzrange := app_private.report_bounds(p_from, p_to);
begin
  perform app_private.report_reader();
  return (
    with counted as (
      select l.recommended_tier as tier, count(*) as leads,
             count(*) filter (where not l.needs_review) as qualified,
             count(*) filter (where l.needs_review) as needs_review,
             count(p.id) as paid
        from public.leads l
        left join public.projects p on p.lead_id = l.id and p.deleted_at is null
       where l.deleted_at is null and l.created_at >= lower(v_range) and l.created_at < upper(v_range)
       group by l.recommended_tier
    )
    select coalesce(jsonb_agg(jsonb_build_object(
             'tier', t.id, 'tier_name', t.name, 'leads', coalesce(c.leads, 0), 'qualified', coalesce(c.qualified, 0),
             'needs_review', coalesce(c.needs_review, 0), 'paid', coalesce(c.paid, 0),
             'conversion', case when coalesce(c.leads, 0) > 0 then round(c.paid::numeric / c.leads, 4) end)
           order by t.id), '[]'::jsonb)
      from public.tiers t left join counted c on c.tier = t.id
  );
end
$$;

-- Payments taken in the period (succeeded, or refunded since), by month of payment, tier and currency: gross, the
-- part refunded, and net. A refund counts against the month of the payment it returns.
create or replace function public.report_revenue(p_from date, p_to date) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  v_range tstzrange := app_private.report_bounds(p_from, p_to);
begin
  perform app_private.report_reader();
  return (
    select coalesce(jsonb_agg(jsonb_build_object(
             'month', r.month, 'tier', r.tier, 'tier_name', t.name, 'currency', r.currency, 'payments', r.payments,
             'refunds', r.refunds, 'gross_cents', r.gross, 'refunded_cents', r.refunded,
             'net_cents', r.gross - r.refunded)
           order by r.month, r.tier nulls last, r.currency), '[]'::jsonb)
      from (
        select to_char(pay.created_at at time zone 'UTC', 'YYYY-MM') as month,
               coalesce(pay.tier, pr.tier) as tier, pay.currency::text as currency, count(*) as payments,
               count(*) filter (where pay.amount_refunded > 0) as refunds,
               sum(pay.amount) as gross, sum(pay.amount_refunded) as refunded
          from public.payments pay
          left join public.projects pr on pr.id = pay.project_id
         where pay.status in ('succeeded', 'refunded')
           and pay.created_at >= lower(v_range) and pay.created_at < upper(v_range)
         group by 1, 2, 3
      ) r
      left join public.tiers t on t.id = r.tier
  );
end
$$;

-- Projects that started (were paid for) in the period, by the status they have now; every status, zeros too.
create or replace function public.report_projects(p_from date, p_to date) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  v_range tstzrange := app_private.report_bounds(p_from, p_to);
begin
  perform app_private.report_reader();
  return (
    select jsonb_agg(jsonb_build_object('status', s.status, 'projects', (
             select count(*) from public.projects p
              where p.status = s.status and p.deleted_at is null
                and p.created_at >= lower(v_range) and p.created_at < upper(v_range)))
           order by s.ord)
      from unnest(enum_range(null::public.project_status)) with ordinality as s(status, ord)
  );
end
$$;

-- Milestones due in the period: done on or before the due date, done after it, past due and not done, and still
-- to come. The on-time rate is over those done.
create or replace function public.report_milestones(p_from date, p_to date) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  v_range tstzrange := app_private.report_bounds(p_from, p_to);
  v_today date := (now() at time zone 'UTC')::date;
begin
  perform app_private.report_reader();
  return (
    select jsonb_build_object(
             'due', count(*),
             'on_time', count(*) filter (where m.completed_at is not null
                                         and (m.completed_at at time zone 'UTC')::date <= m.due_date),
             'late', count(*) filter (where m.completed_at is not null
                                      and (m.completed_at at time zone 'UTC')::date > m.due_date),
             'overdue', count(*) filter (where m.completed_at is null and m.due_date < v_today),
             'upcoming', count(*) filter (where m.completed_at is null and m.due_date >= v_today),
             'on_time_rate', round((count(*) filter (where (m.completed_at at time zone 'UTC')::date <= m.due_date))::numeric
                                   / nullif(count(m.completed_at), 0), 4))
      from public.milestones m
     where m.deleted_at is null and m.due_date >= p_from and m.due_date <= p_to
  );
end
$$;

-- Days from the intake form to payment (projects paid in the period), and from payment to delivery (projects whose
-- last milestone was completed in the period: delivered is when every milestone is done). Median and 90th centile.
create or replace function public.report_cycle_times(p_from date, p_to date) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  v_range tstzrange := app_private.report_bounds(p_from, p_to);
begin
  perform app_private.report_reader();
  return (
    with paid as (
      select (extract(epoch from p.created_at - l.created_at) / 86400.0)::double precision as days
        from public.projects p join public.leads l on l.id = p.lead_id
       where p.deleted_at is null and p.created_at >= lower(v_range) and p.created_at < upper(v_range)
    ), delivered as (
      select (extract(epoch from d.delivered_at - p.created_at) / 86400.0)::double precision as days
        from public.projects p
        join lateral (
          select max(m.completed_at) as delivered_at from public.milestones m
           where m.project_id = p.id and m.deleted_at is null
          having count(*) > 0 and count(*) = count(m.completed_at)
        ) d on true
       where p.deleted_at is null and d.delivered_at >= lower(v_range) and d.delivered_at < upper(v_range)
    )
    select jsonb_build_object(
      'intake_to_payment', (select app_private.spread(array_agg(days), 0.9) from paid),
      'payment_to_delivery', (select app_private.spread(array_agg(days), 0.9) from delivered))
  );
end
$$;

-- The sync as it stands now: outbox depth, dead rows, the oldest pending row's age, the last poll that moved a
-- watermark, and how long Notion's webhook deliveries in the period took to arrive (where Notion said when it sent).
create or replace function public.report_sync(p_from date, p_to date) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  v_range tstzrange := app_private.report_bounds(p_from, p_to);
begin
  perform app_private.report_reader();
  return (
    with latency as (
      select extract(epoch from e.created_at - (e.payload ->> 'sent_at')::timestamptz)::double precision as seconds
        from public.inbound_events e
       where e.source = 'notion' and e.payload ? 'sent_at'
         and e.created_at >= lower(v_range) and e.created_at < upper(v_range)
    )
    select jsonb_build_object(
      'outbox_depth', (select count(*) from public.sync_outbox where status = 'pending'),
      'dead', (select count(*) from public.sync_outbox where status = 'dead'),
      'oldest_pending_seconds', (select coalesce(round(extract(epoch from now() - min(created_at))::numeric), 0)
                                   from public.sync_outbox where status = 'pending'),
      'last_poll_at', (select max(updated_at) from public.sync_state),
      'webhook_latency', (select app_private.spread(array_agg(seconds), 0.95) from latency),
      'mail_pending', (select count(*) from public.notifications where status = 'pending'),
      'mail_dead', (select count(*) from public.notifications where status = 'dead'))
  );
end
$$;

-- The whole report for a period, in one call.
create or replace function public.report(p_from date, p_to date) returns jsonb
language plpgsql stable
security invoker
set search_path = ''
as $$
begin
  perform app_private.report_reader();
  return jsonb_build_object(
    'period', jsonb_build_object('from', p_from, 'to', p_to),
    'generated_at', now(),
    'funnel', public.report_funnel(p_from, p_to),
    'revenue', public.report_revenue(p_from, p_to),
    'projects', public.report_projects(p_from, p_to),
    'milestones', public.report_milestones(p_from, p_to),
    'cycle_times', public.report_cycle_times(p_from, p_to),
    'sync', public.report_sync(p_from, p_to));
end
$$;

create index if not exists leads_created_at_idx on public.leads (created_at);
create index if not exists payments_created_at_idx on public.payments (created_at);
create index if not exists projects_created_at_idx on public.projects (created_at);
create index if not exists milestones_due_date_idx on public.milestones (due_date);
create index if not exists milestones_project_id_idx on public.milestones (project_id);

revoke execute on function app_private.report_reader, app_private.report_bounds, app_private.spread,
  public.report_funnel,
  public.report_revenue, public.report_projects, public.report_milestones, public.report_cycle_times,
  public.report_sync, public.report from public, anon;
grant execute on function app_private.report_reader, app_private.report_bounds, app_private.spread,
  public.report_funnel,
  public.report_revenue, public.report_projects, public.report_milestones, public.report_cycle_times,
  public.report_sync, public.report to authenticated, service_role;

-- The weekly report e-mail: one row per week (its dedupe key), the period in `details`, sent by the mail outbox.
alter table public.notifications add column details jsonb not null default '{}'::jsonb
  check (jsonb_typeof(details) = 'object');
alter table public.notifications drop constraint notifications_template_check;
alter table public.notifications add constraint notifications_template_check check (template in
  ('payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed', 'portal_sign_in',
   'weekly_report'));

-- Queues the report for the week that starts on p_week_start (a Monday), once however often it is asked.
create or replace function public.queue_weekly_report(p_recipient text, p_week_start date) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_id uuid;
begin
  if p_week_start is null or extract(isodow from p_week_start) <> 1 then
    raise exception 'a report week starts on a Monday, not %', p_week_start using errcode = '22023';
  end if;
  insert into public.notifications (recipient, template, dedupe_key, details)
  values (lower(btrim(p_recipient)), 'weekly_report', 'weekly_report:' || p_week_start,
          jsonb_build_object('from', p_week_start, 'to', p_week_start + 6))
  on conflict (dedupe_key) do nothing
  returning id into v_id;
  return jsonb_build_object('queued', v_id is not null, 'id', v_id, 'from', p_week_start, 'to', p_week_start + 6);
end
$$;

revoke execute on function public.queue_weekly_report from public, anon, authenticated;
grant execute on function public.queue_weekly_report to service_role;

-- What a template needs, now with the row's own details (the weekly report's period).
create or replace function app_private.notification_context(p_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'client_name', coalesce(l.name, split_part(n.recipient, '@', 1)),
    'project_id', p.id, 'project_name', p.name, 'tier_name', t.name,
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date,
                                                                'status', m.status) order by m."order"), '[]')
                     from public.milestones m where m.project_id = p.id and m.deleted_at is null),
    'milestone', (select jsonb_build_object('name', m.name, 'completed_at', m.completed_at)
                    from public.milestones m where m.id = n.subject_id),
    'deliverable', (select jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category)
                      from public.deliverables d where d.id = n.subject_id),
    'sign_in', (select jsonb_build_object('id', s.id, 'expires', floor(extract(epoch from s.expires_at))::bigint)
                  from public.portal_sign_ins s where s.id = n.subject_id),
    'payment', (select jsonb_build_object('amount', pay.amount, 'amount_refunded', pay.amount_refunded,
                                          'currency', pay.currency)
                  from public.payments pay where pay.project_id = p.id order by pay.created_at desc limit 1),
    'details', n.details)
    from public.notifications n
    left join public.projects p on p.id = n.project_id
    left join public.leads l on l.id = p.lead_id
    left join public.tiers t on t.id = p.tier
   where n.id = p_id
$$;

revoke execute on function app_private.notification_context from public, anon, authenticated;
grant execute on function app_private.notification_context to service_role;

-- Webhook deliveries keep when Notion sent them (the event's `timestamp`), for the report's latency.
drop function if exists public.record_notion_event(text, text, text, boolean);
create or replace function public.record_notion_event(p_event_id text, p_event_type text, p_entity_id text,
                                                      p_applied boolean, p_sent_at timestamptz default null)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  insert into public.inbound_events (source, event_id, event_type, outcome, payload)
  values ('notion', p_event_id, p_event_type,
          case when p_applied then 'applied'::public.inbound_outcome else 'ignored'::public.inbound_outcome end,
          jsonb_strip_nulls(jsonb_build_object('entity_id', p_entity_id, 'sent_at', p_sent_at)))
  on conflict (source, event_id) do nothing;
  return found;
end
$$;

revoke execute on function public.record_notion_event from public, anon, authenticated;
grant execute on function public.record_notion_event to service_role;
