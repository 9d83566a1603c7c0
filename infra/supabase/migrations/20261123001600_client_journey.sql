-- The client's journey: what the thanks page may show for a Checkout session, and the e-mails the studio sends.
-- Every message is a row in `notifications` first, written by a trigger in the same transaction as the event it
-- tells of, once per event (a unique dedupe key), and sent from there by the mail outbox. Addresses that bounced
-- or complained (SES events) are kept in `email_suppressions` and get nothing more.
-- Rollback: infra/supabase/rollbacks/20261123001600_client_journey.down.sql

create type public.notification_status as enum ('pending', 'sent', 'failed', 'dead');

create table public.notifications (
  id uuid primary key default gen_random_uuid(),
  recipient text not null check (recipient ~ '^[^@\s]+@[^@\s]+$'),
  template text not null
    check (template in ('payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed')),
  dedupe_key text not null unique,
  project_id uuid references public.projects (id),
  subject_id uuid,  -- the milestone or deliverable the message is about
  status public.notification_status not null default 'pending',
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  claim bigint,
  last_error text,
  subject text,  -- as sent
  body_text text,  -- as sent: what the studio told the client
  body_html text,
  sent_at timestamptz,
  provider_message_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index notifications_due_idx on public.notifications (next_attempt_at) where status = 'pending';
create index notifications_project_idx on public.notifications (project_id);
create trigger notifications_set_updated_at before update on public.notifications for each row
  execute function app_private.set_updated_at();

create table public.email_suppressions (
  email text primary key,
  reason text not null check (reason in ('bounce', 'complaint')),
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

-- RLS: a client reads the messages about their own projects; the team reads all; only admins change them.
alter table public.notifications enable row level security;
create policy notifications_select on public.notifications for select to authenticated
  using (app_private.is_team() or project_id in (select app_private.my_project_ids()));
create policy notifications_insert on public.notifications for insert to authenticated
  with check (app_private.is_admin());
create policy notifications_update on public.notifications for update to authenticated
  using (app_private.is_admin()) with check (app_private.is_admin());
create policy notifications_delete on public.notifications for delete to authenticated using (app_private.is_admin());
alter table public.email_suppressions enable row level security;
create policy email_suppressions_select on public.email_suppressions for select to authenticated
  using (app_private.is_team());
create policy email_suppressions_insert on public.email_suppressions for insert to authenticated
  with check (app_private.is_admin());
create policy email_suppressions_update on public.email_suppressions for update to authenticated
  using (app_private.is_admin()) with check (app_private.is_admin());
create policy email_suppressions_delete on public.email_suppressions for delete to authenticated
  using (app_private.is_admin());

-- The client's address for a project.
create or replace function app_private.project_email(p_project_id uuid) returns text
language sql stable
set search_path = ''
as $$
  select u.email from public.projects p join public.clients c on c.id = p.client_id join public.users u on u.id = c.user_id
   where p.id = p_project_id
$$;

-- The triggers run as their owner (security definer): whoever made the change (the backend, or a team member
-- through the API) queues the message, although only admins may write `notifications` themselves.
create or replace function app_private.notify(p_template text, p_dedupe_key text, p_project_id uuid,
                                              p_subject_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_email text := app_private.project_email(p_project_id);
begin
  if v_email is null then
    return;
  end if;
  insert into public.notifications (recipient, template, dedupe_key, project_id, subject_id)
  values (v_email, p_template, p_dedupe_key, p_project_id, p_subject_id)
  on conflict (dedupe_key) do nothing;
end
$$;

create or replace function app_private.notify_project() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.payment_status = 'paid' and (tg_op = 'INSERT' or old.payment_status is distinct from 'paid') then
    perform app_private.notify('payment_receipt', 'payment_receipt:' || new.id, new.id, null);
  elsif new.payment_status = 'refunded' and tg_op = 'UPDATE' and old.payment_status is distinct from 'refunded' then
    perform app_private.notify('refund_confirmed', 'refund_confirmed:' || new.id, new.id, null);
  end if;
  return null;
end
$$;
create trigger projects_notify after insert or update of payment_status on public.projects
  for each row execute function app_private.notify_project();

create or replace function app_private.notify_milestone() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status = 'completed' and old.status is distinct from 'completed' then
    perform app_private.notify('milestone_completed', 'milestone_completed:' || new.id, new.project_id, new.id);
  end if;
  return null;
end
$$;
create trigger milestones_notify after update of status on public.milestones
  for each row execute function app_private.notify_milestone();

create or replace function app_private.notify_deliverable() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform app_private.notify('deliverable_ready', 'deliverable_ready:' || new.id, new.project_id, new.id);
  return null;
end
$$;
create trigger deliverables_notify after insert on public.deliverables
  for each row execute function app_private.notify_deliverable();

-- The mail outbox: claim due messages (not to suppressed addresses) with a lease.
create sequence public.notification_claim_seq;
create or replace function public.claim_notifications(p_limit integer, p_lease_seconds integer) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_claimed jsonb;
begin
  with due as (
    select n.id from public.notifications n
     where n.status = 'pending' and n.next_attempt_at <= now()
     order by n.next_attempt_at, n.created_at limit p_limit for update skip locked
  ), claimed as (
    update public.notifications n
       set attempts = n.attempts + 1, claim = nextval('public.notification_claim_seq'),
           next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from due where n.id = due.id
    returning n.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', c.id, 'claim', c.claim, 'template', c.template, 'recipient', c.recipient, 'attempts', c.attempts,
           'suppressed', exists (select 1 from public.email_suppressions s where s.email = lower(c.recipient)),
           'context', app_private.notification_context(c.id)) order by c.created_at), '[]'::jsonb)
    into v_claimed from claimed c;
  return v_claimed;
end
$$;

-- What a template needs, read when the message is sent.
create or replace function app_private.notification_context(p_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'client_name', coalesce(l.name, split_part(u.email, '@', 1)),
    'project_id', p.id, 'project_name', p.name, 'tier_name', t.name,
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date,
                                                                'status', m.status) order by m."order"), '[]')
                     from public.milestones m where m.project_id = p.id and m.deleted_at is null),
    'milestone', (select jsonb_build_object('name', m.name, 'completed_at', m.completed_at)
                    from public.milestones m where m.id = n.subject_id),
    'deliverable', (select jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category)
                      from public.deliverables d where d.id = n.subject_id),
    'payment', (select jsonb_build_object('amount', pay.amount, 'amount_refunded', pay.amount_refunded,
                                          'currency', pay.currency)
                  from public.payments pay where pay.project_id = p.id order by pay.created_at desc limit 1))
    from public.notifications n
    join public.projects p on p.id = n.project_id
    join public.clients c on c.id = p.client_id
    join public.users u on u.id = c.user_id
    left join public.leads l on l.id = p.lead_id
    left join public.tiers t on t.id = p.tier
   where n.id = p_id
$$;

-- p_results: [{id, claim, ok, subject?, text?, html?, message_id?, error?, retry_in?, suppressed?}]
create or replace function public.complete_notifications(p_results jsonb, p_max_attempts integer) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r jsonb;
  v_row public.notifications;
  v_sent integer := 0;
  v_retry integer := 0;
  v_dead integer := 0;
  v_failed integer := 0;
begin
  for r in select * from jsonb_array_elements(p_results) loop
    select * into v_row from public.notifications where id = (r->>'id')::uuid for update;
    continue when not found or v_row.status <> 'pending' or v_row.claim is distinct from (r->>'claim')::bigint;
    if (r->>'ok')::boolean then
      update public.notifications set status = 'sent', sent_at = now(), subject = r->>'subject',
             body_text = r->>'text', body_html = r->>'html', provider_message_id = r->>'message_id',
             last_error = null where id = v_row.id;
      v_sent := v_sent + 1;
    elsif coalesce((r->>'suppressed')::boolean, false) then
      update public.notifications set status = 'failed', last_error = left(r->>'error', 2000) where id = v_row.id;
      v_failed := v_failed + 1;
    elsif v_row.attempts >= p_max_attempts then
      update public.notifications set status = 'dead', last_error = left(r->>'error', 2000) where id = v_row.id;
      v_dead := v_dead + 1;
    else
      update public.notifications set last_error = left(r->>'error', 2000),
             next_attempt_at = now() + make_interval(secs => coalesce((r->>'retry_in')::double precision,
                                                                      least(3600, 30 * 2 ^ least(v_row.attempts, 10))))
       where id = v_row.id;
      v_retry := v_retry + 1;
    end if;
  end loop;
  return jsonb_build_object('sent', v_sent, 'retry', v_retry, 'dead', v_dead, 'failed', v_failed);
end
$$;

-- An SES bounce or complaint: the address gets nothing more, and what waits for it is marked failed.
create or replace function public.suppress_email(p_email text, p_reason text, p_details jsonb) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  insert into public.email_suppressions (email, reason, details) values (lower(p_email), p_reason, p_details)
  on conflict (email) do nothing;
  update public.notifications set status = 'failed', last_error = 'the address ' || p_reason || 'd'
   where lower(recipient) = lower(p_email) and status = 'pending';
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

create or replace function public.notification_rows(p_status text, p_limit integer) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(to_jsonb(r) order by r.created_at desc), '[]'::jsonb) from (
    select id, recipient, template, dedupe_key, status, attempts, subject, sent_at, provider_message_id, last_error,
           created_at, body_html
      from public.notifications where p_status is null or status::text = p_status
     order by created_at desc limit p_limit) r
$$;

-- The thanks page: what one Checkout session led to, and nothing else. `state`: unknown (no such session),
-- waiting (the payment's webhook has not arrived yet), paid, failed, refunded.
create or replace function public.checkout_outcome(p_session_id text) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_lead public.leads;
  v_payment public.payments;
  v_project public.projects;
begin
  select * into v_lead from public.leads where checkout_session_id = p_session_id;
  if not found then
    return jsonb_build_object('state', 'unknown');
  end if;
  select * into v_payment from public.payments where stripe_checkout_session_id = p_session_id;
  if not found then
    return jsonb_build_object('state', 'waiting', 'first_name', split_part(btrim(v_lead.name), ' ', 1));
  end if;
  select * into v_project from public.projects where id = v_payment.project_id;
  return jsonb_build_object(
    'state', case when v_payment.status = 'failed' then 'failed' when v_payment.status = 'refunded' then 'refunded'
                  when v_payment.status = 'pending' or v_project.id is null then 'waiting' else 'paid' end,
    'first_name', split_part(btrim(v_lead.name), ' ', 1),
    'amount', v_payment.amount, 'currency', v_payment.currency,
    'project_name', v_project.name,
    'tier_name', (select name from public.tiers where id = v_project.tier),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date)
                                             order by m."order"), '[]'::jsonb)
                     from (select * from public.milestones where project_id = v_project.id and deleted_at is null
                            order by "order" limit 3) m));
end
$$;

revoke execute on function app_private.project_email, app_private.notify, app_private.notify_project,
  app_private.notify_milestone, app_private.notify_deliverable, app_private.notification_context
  from public, anon, authenticated;
grant execute on function app_private.project_email, app_private.notify, app_private.notify_project,
  app_private.notify_milestone, app_private.notify_deliverable, app_private.notification_context to service_role;
revoke execute on function public.claim_notifications, public.complete_notifications, public.suppress_email,
  public.notification_rows, public.checkout_outcome from public, anon, authenticated;
grant execute on function public.claim_notifications, public.complete_notifications, public.suppress_email,
  public.notification_rows, public.checkout_outcome to service_role;
