-- Money as studios take it: a payment schedule per tier (a share at booking, a share at chosen milestones), stored
-- per project when it is paid and never rewritten after; an instalment falls due when its milestone is done, and is
-- invoiced through Stripe; invoices' and disputes' events go through the inbound ledger, once each, in any order;
-- a project carries its total, what is paid, the balance due and what is disputed; receipts and invoices are numbered
-- from one sequence per business and kind, without gaps.
-- Rollback: infra/supabase/rollbacks/20261209000100_payment_schedules.down.sql

-- The catalogue's schedule: the share paid at booking (the deposit), and a share per milestone that carries one.
alter table public.tiers add column deposit_percent numeric(5, 2) not null default 100
  check (deposit_percent > 0 and deposit_percent <= 100);
alter table public.milestone_templates add column invoice_percent numeric(5, 2)
  check (invoice_percent > 0 and invoice_percent < 100);
create or replace view scoped.tiers with (security_invoker = true) as
  select * from public.tiers where business_id = (select app_private.business_id()) with cascaded check option;
create or replace view scoped.milestone_templates with (security_invoker = true) as
  select * from public.milestone_templates where business_id = (select app_private.business_id()) with cascaded check option;

-- What a project of this tier pays at booking, of a total (a tier's price, or a quote): what the milestones' shares
-- leave (each share rounded to the cent, so the parts always add up to the total).
create function app_private.due_at_booking(p_tier smallint, p_total bigint) returns bigint
language sql stable
set search_path = ''
as $$
  select p_total - coalesce((select sum(round(p_total * mt.invoice_percent / 100))::bigint
                               from scoped.milestone_templates mt
                              where mt.tier = p_tier and mt.invoice_percent is not null), 0)
$$;
revoke all on function app_private.due_at_booking(smallint, bigint) from public, anon, authenticated;
grant execute on function app_private.due_at_booking(smallint, bigint) to service_role;

-- Numbers without gaps: one counter per business and kind, taken in the transaction that uses the number (a
-- rollback gives it back; concurrent takers wait on the counter's row).
create table public.document_counters (
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  kind text not null check (kind in ('receipt', 'invoice')),
  last_number bigint not null default 0 check (last_number >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (business_id, kind)
);
select app_private.backend_written('document_counters');
create view scoped.document_counters with (security_invoker = true) as
  select * from public.document_counters where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.document_counters to authenticated, service_role;

create function app_private.next_document_number(p_business uuid, p_kind text) returns text
language plpgsql security definer
set search_path = ''
as $$
declare
  v_n bigint;
begin
  insert into public.document_counters as c (business_id, kind, last_number) values (p_business, p_kind, 1)
  on conflict (business_id, kind) do update set last_number = c.last_number + 1, updated_at = now()
  returning c.last_number into v_n;
  return case p_kind when 'invoice' then 'INV-' else 'RCT-' end || lpad(v_n::text, 5, '0');
end
$$;
revoke all on function app_private.next_document_number(uuid, text) from public, anon, authenticated;
grant execute on function app_private.next_document_number(uuid, text) to service_role;

-- Every payment that succeeds has a receipt number.
alter table public.payments add column receipt_number text check (length(receipt_number) <= 40);
create unique index payments_receipt_number_key on public.payments (business_id, receipt_number);
create or replace view scoped.payments with (security_invoker = true) as
  select * from public.payments where business_id = (select app_private.business_id()) with cascaded check option;
create function app_private.number_receipt() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.receipt_number is null and new.status in ('succeeded', 'refunded') then
    new.receipt_number := app_private.next_document_number(new.business_id, 'receipt');
  end if;
  return new;
end
$$;
create trigger payments_receipt_number before insert or update of status on public.payments
  for each row execute function app_private.number_receipt();

-- A project's money: its total (what was sold: the tier's price or the quote), what is paid (net of refunds), the
-- balance due and what is disputed, kept by the tables' triggers, and pushed to Notion with the project.
alter table public.projects
  add column amount_total bigint not null default 0 check (amount_total >= 0),
  add column amount_paid bigint not null default 0,
  add column balance_due bigint not null default 0 check (balance_due >= 0),
  add column disputed_amount bigint not null default 0 check (disputed_amount >= 0);
create or replace view scoped.projects with (security_invoker = true) as
  select * from public.projects where business_id = (select app_private.business_id()) with cascaded check option;

create table public.payment_schedule (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  project_id uuid not null,
  milestone_id uuid,  -- none: at booking
  label text not null check (length(btrim(label)) between 1 and 200),
  position integer not null check (position >= 0),
  share numeric(5, 2) not null check (share > 0 and share <= 100),
  amount bigint not null check (amount >= 0),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  -- scheduled: waits for its milestone; due: its milestone is done, the invoice is being sent; open: sent, unpaid;
  -- paid; void and uncollectible: as Stripe marks them.
  status text not null default 'scheduled'
    check (status in ('scheduled', 'due', 'open', 'paid', 'void', 'uncollectible')),
  number text check (length(number) <= 40),  -- the studio's invoice number, once invoiced
  receipt_number text check (length(receipt_number) <= 40),  -- once an invoice is paid
  payment_id uuid,  -- the payment that paid it at booking
  stripe_invoice_id text unique check (stripe_invoice_id ~ '^in_[A-Za-z0-9_]{1,200}$'),
  hosted_invoice_url text check (length(hosted_invoice_url) <= 2000),
  due_date date,
  amount_paid bigint not null default 0 check (amount_paid >= 0),
  failures integer not null default 0 check (failures >= 0),
  last_failure_at timestamptz,
  paid_at timestamptz,
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_error text check (length(last_error) <= 500),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (business_id, id),
  unique (project_id, position),
  unique (business_id, number),
  unique (business_id, receipt_number),
  foreign key (business_id, project_id) references public.projects (business_id, id),
  foreign key (milestone_id) references public.milestones (id),
  foreign key (payment_id) references public.payments (id)
);
create index payment_schedule_milestone_idx on public.payment_schedule (milestone_id);
create index payment_schedule_payment_idx on public.payment_schedule (payment_id);
create index payment_schedule_due_idx on public.payment_schedule (business_id, next_attempt_at) where status = 'due';
create view scoped.payment_schedule with (security_invoker = true) as
  select * from public.payment_schedule where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.payment_schedule to authenticated, service_role;
alter table public.payment_schedule enable row level security;
create policy payment_schedule_select on public.payment_schedule for select to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND (app_private.is_team(business_id) OR (project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids)))));
create policy payment_schedule_insert on public.payment_schedule for insert to authenticated
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy payment_schedule_update on public.payment_schedule for update to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)))
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy payment_schedule_delete on public.payment_schedule for delete to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create trigger payment_schedule_set_updated_at before update on public.payment_schedule
  for each row execute function app_private.set_updated_at();

create table public.disputes (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  payment_id uuid not null references public.payments (id),
  project_id uuid,
  stripe_dispute_id text not null unique check (stripe_dispute_id ~ '^(dp|du)_[A-Za-z0-9_]{1,200}$'),
  stripe_charge_id text check (length(stripe_charge_id) <= 255),
  amount bigint not null check (amount >= 0),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  reason text check (length(reason) <= 100),
  status text not null check (status in ('warning_needs_response', 'warning_under_review', 'warning_closed',
                                         'needs_response', 'under_review', 'won', 'lost')),
  evidence_due_by timestamptz,
  opened_at timestamptz not null default now(),
  closed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (business_id, id),
  foreign key (business_id, project_id) references public.projects (business_id, id)
);
create index disputes_project_idx on public.disputes (business_id, project_id);
create index disputes_payment_idx on public.disputes (payment_id);
select app_private.backend_written('disputes');
create view scoped.disputes with (security_invoker = true) as
  select * from public.disputes where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.disputes to authenticated, service_role;
create trigger disputes_set_updated_at before update on public.disputes
  for each row execute function app_private.set_updated_at();

create function app_private.dispute_open(p_status text) returns boolean
language sql immutable
set search_path = ''
as $$ select p_status not in ('won', 'lost', 'warning_closed') $$;
revoke all on function app_private.dispute_open(text) from public, anon, authenticated;
grant execute on function app_private.dispute_open(text) to service_role;

-- The project's money, from its rows: refreshed whenever a payment, an instalment or a dispute changes.
create function app_private.refresh_money(p_project uuid) returns void
language sql security definer
set search_path = ''
as $$
  update public.projects p
     set amount_paid = m.paid, balance_due = greatest(p.amount_total - m.paid, 0), disputed_amount = m.disputed
    from (select coalesce((select sum(x.amount - x.amount_refunded) from public.payments x
                            where x.project_id = p_project and x.status in ('succeeded', 'refunded')), 0)
                 + coalesce((select sum(s.amount_paid) from public.payment_schedule s
                              where s.project_id = p_project and s.stripe_invoice_id is not null
                                and s.status = 'paid'), 0) as paid,
                 coalesce((select sum(d.amount) from public.disputes d
                            where d.project_id = p_project and d.status <> 'won' and d.status <> 'warning_closed'), 0)
                   as disputed) m
   where p.id = p_project
     and (p.amount_paid, p.balance_due, p.disputed_amount)
         is distinct from (m.paid, greatest(p.amount_total - m.paid, 0), m.disputed)
$$;
revoke all on function app_private.refresh_money(uuid) from public, anon, authenticated;
grant execute on function app_private.refresh_money(uuid) to service_role;

create function app_private.money_changed() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.project_id is not null then
    perform app_private.refresh_money(new.project_id);
  end if;
  return new;
end
$$;
create trigger payments_money after insert or update of amount, amount_refunded, status, project_id on public.payments
  for each row execute function app_private.money_changed();
create trigger payment_schedule_money after insert or update of status, amount_paid on public.payment_schedule
  for each row execute function app_private.money_changed();
create trigger disputes_money after insert or update of status, amount, project_id on public.disputes
  for each row execute function app_private.money_changed();

-- The projects paid before schedules: their total is what they were paid.
update public.projects p
   set amount_total = coalesce((select sum(x.amount) from public.payments x
                                 where x.project_id = p.id and x.status in ('succeeded', 'refunded')), 0);
select app_private.refresh_money(p.id) from public.projects p;
do $$
declare
  v_id uuid;
begin
  for v_id in select x.id from public.payments x where x.status in ('succeeded', 'refunded') and x.receipt_number is null
               order by x.created_at, x.id loop
    update public.payments x set receipt_number = app_private.next_document_number(x.business_id, 'receipt')
     where x.id = v_id;
  end loop;
end
$$;

drop trigger projects_enqueue_sync on public.projects;
create trigger projects_enqueue_sync after insert or update on public.projects
  for each row execute function app_private.enqueue_on_change('project', 'name', 'tier', 'client_id', 'status',
    'payment_status', 'needs_review', 'deleted_at', 'amount_paid', 'balance_due', 'disputed_amount');

-- Tasks and History lines for money.
alter table public.tasks drop constraint tasks_kind_check;
alter table public.tasks add constraint tasks_kind_check check (kind in ('contact_client', 'review_quote',
  'prepare_kickoff', 'collect_invoice', 'answer_dispute', 'team'));
alter table public.project_history drop constraint project_history_kind_check;
alter table public.project_history add constraint project_history_kind_check check (kind in ('paid',
  'milestone_done', 'delivered', 'refunded', 'approval', 'feedback', 'team_edit', 'invoice', 'dispute'));

-- A paid project's schedule, as the catalogue holds it when it is paid: at booking (paid by this payment), then
-- each milestone that carries a share. A payment of the whole total (or more) leaves nothing to invoice.
create function app_private.make_payment_schedule(p_project uuid, p_tier smallint, p_total bigint, p_paid bigint,
                                                  p_currency text, p_payment uuid) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_business uuid := (select p.business_id from public.projects p where p.id = p_project);
  v_due bigint := app_private.due_at_booking(p_tier, p_total);
begin
  update public.projects set amount_total = greatest(p_total, p_paid) where id = p_project;
  if p_paid >= p_total or v_due >= p_total then
    insert into public.payment_schedule (business_id, project_id, label, position, share, amount, currency, status,
                                         payment_id, paid_at, amount_paid)
    values (v_business, p_project, 'At booking', 0, 100, p_paid, lower(p_currency), 'paid', p_payment, now(), p_paid)
    on conflict (project_id, position) do nothing;
    return;
  end if;
  insert into public.payment_schedule (business_id, project_id, label, position, share, amount, currency, status,
                                       payment_id, paid_at, amount_paid)
  select v_business, p_project, 'At booking', 0, t.deposit_percent, p_paid, lower(p_currency), 'paid', p_payment,
         now(), p_paid
    from public.tiers t where t.business_id = v_business and t.id = p_tier
  on conflict (project_id, position) do nothing;
  insert into public.payment_schedule (business_id, project_id, milestone_id, label, position, share, amount,
                                       currency)
  select v_business, p_project, m.id, m.name, mt."order", mt.invoice_percent,
         round(p_total * mt.invoice_percent / 100)::bigint, lower(p_currency)
    from public.milestone_templates mt
    join public.milestones m on m.project_id = p_project and m."order" = mt."order"
   where mt.business_id = v_business and mt.tier = p_tier and mt.invoice_percent is not null
  on conflict (project_id, position) do nothing;
end
$$;
revoke all on function app_private.make_payment_schedule(uuid, smallint, bigint, bigint, text, uuid)
  from public, anon, authenticated;
grant execute on function app_private.make_payment_schedule(uuid, smallint, bigint, bigint, text, uuid) to service_role;

-- A milestone done (in Notion, the portal's team, or SQL) makes its instalment due, once: numbered now, invoiced by
-- the invoice desk (`invoices_to_send`). Undone and done again, it is not invoiced twice.
create function app_private.instalment_of_milestone() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_row public.payment_schedule;
begin
  if new.status = 'completed' and old.status is distinct from 'completed' then
    for v_row in select * from public.payment_schedule s where s.milestone_id = new.id and s.status = 'scheduled'
                  for update loop
      update public.payment_schedule
         set status = 'due', number = app_private.next_document_number(v_row.business_id, 'invoice'),
             next_attempt_at = now()
       where id = v_row.id;
      perform app_private.note_history(new.project_id, 'invoice',
        format('Instalment due: %s for %s (%s%%)', app_private.money_words(v_row.amount, v_row.currency), new.name,
               trim(trailing '.' from trim(trailing '0' from v_row.share::text))),
        'instalment_due:' || v_row.id);
    end loop;
  end if;
  return new;
end
$$;
create trigger milestones_instalment after update of status on public.milestones
  for each row execute function app_private.instalment_of_milestone();

-- The invoice desk's work: the instalments due, with what Stripe needs to invoice them.
create function public.invoices_to_send(p_limit integer) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(x order by x->>'number'), '[]'::jsonb) from (
    select jsonb_build_object('id', s.id, 'project_id', s.project_id, 'number', s.number, 'label', s.label,
             'share', s.share, 'amount', s.amount, 'currency', s.currency, 'stripe_invoice_id', s.stripe_invoice_id,
             'project_name', p.name, 'email', u.email, 'client_name', c.name,
             'customer_id', (select x.stripe_customer_id from scoped.payments x
                              where x.project_id = p.id and x.stripe_customer_id is not null
                              order by x.created_at limit 1)) as x
      from scoped.payment_schedule s
      join scoped.projects p on p.id = s.project_id
      join scoped.clients c on c.id = p.client_id
      join public.users u on u.id = c.user_id
     where s.status = 'due' and s.next_attempt_at <= now()
     order by s.number
     limit greatest(1, least(coalesce(p_limit, 25), 100))) y
$$;
revoke all on function public.invoices_to_send(integer) from public, anon, authenticated;
grant execute on function public.invoices_to_send(integer) to service_role;

-- The draft's id is kept before anything can pay it, so that every event about it finds its instalment.
create function public.invoice_created(p_id uuid, p_invoice_id text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_row scoped.payment_schedule;
begin
  update scoped.payment_schedule set stripe_invoice_id = p_invoice_id
   where id = p_id and (stripe_invoice_id is null or stripe_invoice_id = p_invoice_id)
  returning * into v_row;
  if v_row.id is null then
    raise exception 'instalment % is invoiced as another invoice already', p_id using errcode = '23505';
  end if;
  return jsonb_build_object('id', v_row.id, 'status', v_row.status);
end
$$;
revoke all on function public.invoice_created(uuid, text) from public, anon, authenticated;
grant execute on function public.invoice_created(uuid, text) to service_role;

create function public.invoice_sent(p_id uuid, p_invoice_id text, p_url text, p_due_date date) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_row scoped.payment_schedule;
begin
  update scoped.payment_schedule
     set status = case when status = 'due' then 'open' else status end,
         hosted_invoice_url = left(p_url, 2000), due_date = coalesce(p_due_date, due_date), last_error = null
   where id = p_id and stripe_invoice_id = p_invoice_id
  returning * into v_row;
  if v_row.id is null then
    raise exception 'instalment % has no invoice %', p_id, p_invoice_id using errcode = 'P0002';
  end if;
  insert into scoped.audit_log (action, resource_type, resource_id, details)
  values ('invoice.sent', 'project', v_row.project_id::text,
          jsonb_build_object('schedule_id', v_row.id, 'invoice', p_invoice_id, 'number', v_row.number,
                             'amount', v_row.amount, 'due_date', v_row.due_date));
  perform app_private.note_history(v_row.project_id, 'invoice',
    format('Invoice %s sent: %s, due %s', v_row.number, app_private.money_words(v_row.amount, v_row.currency),
           to_char(v_row.due_date, 'FMDD Mon YYYY')), 'invoice_sent:' || v_row.id);
  return jsonb_build_object('id', v_row.id, 'status', v_row.status);
end
$$;
revoke all on function public.invoice_sent(uuid, text, text, date) from public, anon, authenticated;
grant execute on function public.invoice_sent(uuid, text, text, date) to service_role;

-- Stripe could not take the invoice now: it waits, with backoff (a minute, doubling, at most a day).
create function public.invoice_waits(p_id uuid, p_error text) returns void
language sql
set search_path = ''
as $$
  update scoped.payment_schedule
     set attempts = attempts + 1, last_error = left(p_error, 500),
         next_attempt_at = now() + least(interval '1 day', interval '1 minute' * power(2, least(attempts, 11)))
   where id = p_id and status = 'due'
$$;
revoke all on function public.invoice_waits(uuid, text) from public, anon, authenticated;
grant execute on function public.invoice_waits(uuid, text) to service_role;

create function app_private.instalment_rank(p_status text) returns integer
language sql immutable
set search_path = ''
as $$ select case p_status when 'paid' then 4 when 'void' then 3 when 'uncollectible' then 2 else 1 end $$;
revoke all on function app_private.instalment_rank(text) from public, anon, authenticated;
grant execute on function app_private.instalment_rank(text) to service_role;

-- invoice.paid, .payment_failed, .voided, .marked_uncollectible: once each (the ledger), in any order (a paid
-- invoice stays paid; void outranks uncollectible). An invoice Atelier did not send is recorded, not applied.
create function public.apply_stripe_invoice_event(p_event_id text, p_event_type text, p_kind text, p_invoice_id text,
                                                  p_schedule_id uuid, p_amount_paid bigint, p_currency text,
                                                  p_hosted_url text, p_due_date date) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_row scoped.payment_schedule;
  v_status text;
  v_project scoped.projects;
begin
  if p_kind not in ('paid', 'failed', 'void', 'uncollectible', 'open') then
    raise exception 'unknown invoice event kind %', p_kind using errcode = '22023';
  end if;
  insert into scoped.inbound_events (source, event_id, event_type, outcome) values ('stripe', p_event_id, p_event_type,
                                                                                   'applied')
  on conflict (source, event_id) do nothing;
  if not found then
    return jsonb_build_object('outcome', 'duplicate');
  end if;
  select * into v_row from scoped.payment_schedule where stripe_invoice_id = p_invoice_id for update;
  if v_row.id is null and p_schedule_id is not null then
    select * into v_row from scoped.payment_schedule
     where id = p_schedule_id and stripe_invoice_id is null and status in ('due', 'open') for update;
    if v_row.id is not null then
      update scoped.payment_schedule set stripe_invoice_id = p_invoice_id where id = v_row.id;
    end if;
  end if;
  if v_row.id is null then
    update scoped.inbound_events set outcome = 'ignored', reason = 'an invoice Atelier did not send'
     where source = 'stripe' and event_id = p_event_id;
    return jsonb_build_object('outcome', 'ignored', 'reason', 'an invoice Atelier did not send');
  end if;
  v_status := case p_kind when 'failed' then 'open' when 'open' then 'open' else p_kind end;
  if v_status = 'paid' and v_row.status <> 'paid' then
    update scoped.payment_schedule
       set status = 'paid', paid_at = now(), amount_paid = coalesce(p_amount_paid, v_row.amount),
           receipt_number = coalesce(receipt_number,
                                     app_private.next_document_number(v_row.business_id, 'receipt')),
           hosted_invoice_url = coalesce(hosted_invoice_url, left(p_hosted_url, 2000))
     where id = v_row.id returning * into v_row;
    perform app_private.note_history(v_row.project_id, 'invoice',
      format('Invoice %s paid: %s', v_row.number, app_private.money_words(v_row.amount_paid, v_row.currency)),
      'invoice_paid:' || v_row.id);
  elsif app_private.instalment_rank(v_status) > app_private.instalment_rank(v_row.status)
        or (v_row.status = 'due' and v_status = 'open') then
    update scoped.payment_schedule set status = v_status,
           hosted_invoice_url = coalesce(hosted_invoice_url, left(p_hosted_url, 2000)),
           due_date = coalesce(due_date, p_due_date)
     where id = v_row.id returning * into v_row;
    if v_status in ('void', 'uncollectible') then
      perform app_private.note_history(v_row.project_id, 'invoice',
        format('Invoice %s marked %s in Stripe', v_row.number, v_status), 'invoice_' || v_status || ':' || v_row.id);
    end if;
  end if;
  if p_kind = 'failed' then
    update scoped.payment_schedule set failures = failures + 1, last_failure_at = now()
     where id = v_row.id returning * into v_row;
    perform app_private.note_history(v_row.project_id, 'invoice',
      format('Payment of invoice %s failed: it is still due', v_row.number), 'invoice_failed:' || p_event_id);
  end if;
  select * into v_project from scoped.projects where id = v_row.project_id;
  insert into scoped.audit_log (action, resource_type, resource_id, details)
  values ('invoice.' || p_kind, 'project', v_row.project_id::text,
          jsonb_build_object('event_id', p_event_id, 'invoice', p_invoice_id, 'schedule_id', v_row.id,
                             'status', v_row.status));
  return jsonb_build_object('outcome', 'applied', 'project_id', v_row.project_id, 'schedule_id', v_row.id,
                            'status', v_row.status, 'balance_due', v_project.balance_due,
                            'paid_cents', case when p_kind = 'paid' then v_row.amount_paid else 0 end);
end
$$;
revoke all on function public.apply_stripe_invoice_event(text, text, text, text, uuid, bigint, text, text, date)
  from public, anon, authenticated;
grant execute on function public.apply_stripe_invoice_event(text, text, text, text, uuid, bigint, text, text, date)
  to service_role;

-- Invoices past their due date: a task for the team to collect each (once), and a History line.
create function public.mark_overdue_invoices() returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_row record;
  v_count integer := 0;
begin
  for v_row in
    select s.*, p.name as project_name, p.lead_id
      from scoped.payment_schedule s join scoped.projects p on p.id = s.project_id
     where s.status = 'open' and s.due_date < app_private.business_today(s.business_id)
       and not exists (select 1 from scoped.tasks k where k.dedupe_key = 'collect_invoice:' || s.id)
  loop
    perform app_private.add_task(v_row.business_id, 'collect_invoice',
      format('Collect overdue invoice %s: %s (%s, due %s)', v_row.number, v_row.project_name,
             app_private.money_words(v_row.amount, v_row.currency), to_char(v_row.due_date, 'FMDD Mon')),
      v_row.lead_id, v_row.project_id, 1, 'collect_invoice:' || v_row.id);
    perform app_private.note_history(v_row.project_id, 'invoice',
      format('Invoice %s is overdue (due %s)', v_row.number, to_char(v_row.due_date, 'FMDD Mon YYYY')),
      'invoice_overdue:' || v_row.id);
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;
revoke all on function public.mark_overdue_invoices() from public, anon, authenticated;
grant execute on function public.mark_overdue_invoices() to service_role;

create function app_private.dispute_rank(p_status text) returns integer
language sql immutable
set search_path = ''
as $$
  select case when p_status in ('won', 'lost', 'warning_closed') then 3
              when p_status in ('under_review', 'warning_under_review') then 2 else 1 end
$$;
revoke all on function app_private.dispute_rank(text) from public, anon, authenticated;
grant execute on function app_private.dispute_rank(text) to service_role;

-- charge.dispute.created, .updated, .closed: recorded against the payment (once each, in any order: a closed dispute
-- stays closed), the project flagged for the team with a comment on its page and a task, and its History told.
create function public.apply_stripe_dispute_event(p_event_id text, p_event_type text, p_dispute_id text,
                                                  p_payment_intent_id text, p_charge_id text, p_amount bigint,
                                                  p_currency text, p_reason text, p_status text,
                                                  p_evidence_due_by timestamptz) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_payment scoped.payments;
  v_dispute scoped.disputes;
  v_first boolean;
  v_project scoped.projects;
  v_words text;
begin
  insert into scoped.inbound_events (source, event_id, event_type, outcome) values ('stripe', p_event_id, p_event_type,
                                                                                   'applied')
  on conflict (source, event_id) do nothing;
  if not found then
    return jsonb_build_object('outcome', 'duplicate');
  end if;
  select * into v_payment from scoped.payments where stripe_payment_intent_id = p_payment_intent_id;
  if v_payment.id is null then
    update scoped.inbound_events set outcome = 'ignored', reason = 'a dispute on a payment Atelier does not know'
     where source = 'stripe' and event_id = p_event_id;
    return jsonb_build_object('outcome', 'ignored', 'reason', 'a dispute on a payment Atelier does not know');
  end if;
  v_first := not exists (select 1 from scoped.disputes d where d.stripe_dispute_id = p_dispute_id);
  insert into scoped.disputes as d (payment_id, project_id, stripe_dispute_id, stripe_charge_id, amount, currency,
                                    reason, status, evidence_due_by, closed_at)
  values (v_payment.id, v_payment.project_id, p_dispute_id, p_charge_id, p_amount, lower(p_currency),
          left(p_reason, 100), p_status, p_evidence_due_by,
          case when not app_private.dispute_open(p_status) then now() end)
  on conflict (stripe_dispute_id) do update set
    status = case when app_private.dispute_rank(excluded.status) > app_private.dispute_rank(d.status)
                  then excluded.status else d.status end,
    closed_at = coalesce(d.closed_at, excluded.closed_at),
    amount = greatest(d.amount, excluded.amount),
    evidence_due_by = coalesce(excluded.evidence_due_by, d.evidence_due_by),
    reason = coalesce(excluded.reason, d.reason),
    stripe_charge_id = coalesce(d.stripe_charge_id, excluded.stripe_charge_id)
  returning * into v_dispute;
  v_words := app_private.money_words(v_dispute.amount, v_dispute.currency);
  if v_first and v_payment.project_id is not null then
    update scoped.projects
       set needs_review = true,
           review_reason = left(format('disputed: %s (%s); answer by %s', v_words,
                                       coalesce(v_dispute.reason, 'no reason given'),
                                       coalesce(to_char(v_dispute.evidence_due_by, 'FMDD Mon YYYY'), 'Stripe''s date')),
                                500)
     where id = v_payment.project_id returning * into v_project;
    insert into scoped.notion_comments (entity, record_id, page_id, body)
    select 'project', v_project.id, v_project.notion_page_id,
           left(format('The client disputed the payment of %s (reason: %s). Stripe needs our evidence by %s: run '
                       '`atelier dispute evidence %s` for the PDF, then answer in Stripe''s dashboard.', v_words,
                       coalesce(v_dispute.reason, 'none given'),
                       coalesce(to_char(v_dispute.evidence_due_by, 'FMDD Mon YYYY'), 'the date Stripe gives'),
                       v_payment.id), 2000)
     where v_project.notion_page_id is not null;
    perform app_private.add_task(v_project.business_id, 'answer_dispute',
      format('Answer the dispute: %s (%s)', v_project.name, v_words), v_project.lead_id, v_project.id, 1,
      'answer_dispute:' || v_dispute.id);
  end if;
  if v_payment.project_id is not null then
    perform app_private.note_history(v_payment.project_id, 'dispute',
      case when app_private.dispute_open(v_dispute.status) then format('Payment disputed: %s', v_words)
           else format('Dispute closed: %s (%s)', v_words, replace(v_dispute.status, '_', ' ')) end,
      'dispute:' || v_dispute.id || ':' || case when app_private.dispute_open(v_dispute.status) then 'open'
                                                 else v_dispute.status end);
  end if;
  insert into scoped.audit_log (action, resource_type, resource_id, details)
  values ('payment.' || replace(p_event_type, 'charge.', ''), 'payment', v_payment.id::text,
          jsonb_build_object('event_id', p_event_id, 'dispute', p_dispute_id, 'status', v_dispute.status,
                             'amount', v_dispute.amount));
  return jsonb_build_object('outcome', 'applied', 'dispute_id', v_dispute.id, 'status', v_dispute.status,
                            'opened', v_first, 'project_id', v_payment.project_id, 'payment_id', v_payment.id,
                            'amount', v_dispute.amount);
end
$$;
revoke all on function public.apply_stripe_dispute_event(text, text, text, text, text, bigint, text, text, text,
                                                         timestamptz) from public, anon, authenticated;
grant execute on function public.apply_stripe_dispute_event(text, text, text, text, text, bigint, text, text, text,
                                                            timestamptz) to service_role;

-- The catalogue's shares, written by the team in the Services pages: checked (each above 0 and below 100, the
-- milestones' together below 100, and with an "At booking" share, all together 100), then applied with the rest
-- of the service's terms, in one transaction.
alter function public.apply_services(jsonb, jsonb) rename to apply_service_terms;
alter function public.apply_service_terms(jsonb, jsonb) set schema app_private;
revoke all on function app_private.apply_service_terms(jsonb, jsonb) from public, anon, authenticated;
grant execute on function app_private.apply_service_terms(jsonb, jsonb) to service_role;

create function public.apply_services(p_tiers jsonb, p_author jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  t jsonb;
  v_reason text;
  v_sum numeric;
  v_refused jsonb := '[]'::jsonb;
  v_commented boolean := false;
  v_result jsonb;
  v_applied jsonb;
  v_deposit numeric;
  v_changed boolean;
begin
  if jsonb_typeof(p_tiers) <> 'array' then
    raise exception 'apply_services takes an array of tiers' using errcode = '22023';
  end if;
  for t in select * from jsonb_array_elements(p_tiers) loop
    v_sum := (select coalesce(sum((x->>'percent')::numeric), 0) from jsonb_array_elements(
                case when jsonb_typeof(t->'milestones') = 'array' then t->'milestones' else '[]'::jsonb end) x
               where jsonb_typeof(x->'percent') = 'number');
    v_reason := case
      when jsonb_typeof(t->'milestones') = 'array' and exists (
             select 1 from jsonb_array_elements(t->'milestones') x
              where x ? 'percent' and jsonb_typeof(x->'percent') <> 'null'
                and (jsonb_typeof(x->'percent') <> 'number' or (x->>'percent')::numeric <= 0
                     or (x->>'percent')::numeric >= 100 or (x->>'percent')::numeric <> round((x->>'percent')::numeric, 2)))
        then 'each milestone''s share is a percentage above 0 and below 100 (two decimals at most), as '
             '"Design development: day 63, 40%"'
      when v_sum >= 100
        then format('the milestones'' shares add up to %s%%: leave a share for booking (the deposit), so that they add '
                    'up to less than 100%%', trim(trailing '.' from trim(trailing '0' from v_sum::text)))
      when t ? 'deposit_percent' and jsonb_typeof(t->'deposit_percent') <> 'null'
           and (jsonb_typeof(t->'deposit_percent') <> 'number' or (t->>'deposit_percent')::numeric <= 0
                or (t->>'deposit_percent')::numeric > 100)
        then 'the share at booking is a percentage above 0 and at most 100, as "At booking: 30%"'
      when t ? 'deposit_percent' and jsonb_typeof(t->'deposit_percent') = 'number'
           and (t->>'deposit_percent')::numeric + v_sum <> 100
        then format('the shares add up to %s%%, not 100%%: %s%% at booking and %s%% at the milestones',
                    trim(trailing '.' from trim(trailing '0' from ((t->>'deposit_percent')::numeric + v_sum)::text)),
                    trim(trailing '.' from trim(trailing '0' from (t->>'deposit_percent')::text)),
                    trim(trailing '.' from trim(trailing '0' from v_sum::text)))
    end;
    if v_reason is not null then
      v_commented := app_private.refuse_source_edit('service', t->>'id', t->>'page_id', t->>'hash', v_reason, p_author)
                     or v_commented;
      v_refused := v_refused || jsonb_build_object('page_id', t->>'page_id', 'reason', v_reason);
    end if;
  end loop;
  if jsonb_array_length(v_refused) > 0 then
    return jsonb_build_object('applied', '[]'::jsonb, 'refused', v_refused->0->>'reason', 'pages', v_refused,
                              'commented', v_commented);
  end if;
  v_result := app_private.apply_service_terms(p_tiers, p_author);
  if v_result ? 'refused' and v_result->>'refused' is not null then
    return v_result;
  end if;
  v_applied := coalesce(v_result->'applied', '[]'::jsonb);
  for t in select * from jsonb_array_elements(p_tiers) loop
    v_sum := (select coalesce(sum((x->>'percent')::numeric), 0) from jsonb_array_elements(t->'milestones') x
               where jsonb_typeof(x->'percent') = 'number');
    v_deposit := 100 - v_sum;
    v_changed := false;
    update scoped.tiers x set deposit_percent = v_deposit
     where x.id = (t->>'id')::smallint and x.deposit_percent <> v_deposit;
    v_changed := found;
    update scoped.milestone_templates mt
       set invoice_percent = case when jsonb_typeof(y.x->'percent') = 'number' then (y.x->>'percent')::numeric end
      from jsonb_array_elements(t->'milestones') with ordinality y(x, o)
     where mt.tier = (t->>'id')::smallint and mt."order" = y.o
       and mt.invoice_percent is distinct from
           (case when jsonb_typeof(y.x->'percent') = 'number' then (y.x->>'percent')::numeric end);
    v_changed := v_changed or found;
    if v_changed then
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('service.schedule_changed', 'tier', t->>'id',
              jsonb_build_object('deposit_percent', v_deposit, 'author', p_author, 'page_id', t->>'page_id'));
      if not v_applied @> to_jsonb((t->>'id')::int) then
        v_applied := v_applied || to_jsonb((t->>'id')::int);
      end if;
    end if;
  end loop;
  return v_result || jsonb_build_object('applied', v_applied);
end
$$;
revoke all on function public.apply_services(jsonb, jsonb) from public, anon, authenticated;
grant execute on function public.apply_services(jsonb, jsonb) to service_role;

-- The functions that change with it (their earlier text: the rollback).
CREATE OR REPLACE FUNCTION public.apply_stripe_event(p_event_id text, p_event_type text, p_kind text, p_reason text, p_lead_id uuid, p_tier smallint, p_checkout_session_id text, p_payment_intent_id text, p_customer_id text, p_email text, p_amount bigint, p_amount_refunded bigint, p_currency text, p_name text DEFAULT NULL::text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_lead scoped.leads;
  v_tier scoped.tiers;
  v_payment scoped.payments;
  v_user public.users;
  v_client_id uuid;
  v_project_id uuid;
  v_created boolean := false;
  v_mismatch boolean := false;
  v_returning boolean := false;
  v_full_refund boolean;
  v_held text;
  v_quote scoped.quotes;
  v_price bigint;
  v_currency text;
  v_due bigint;
begin
  if p_kind not in ('fulfil', 'pending', 'failed', 'confirm', 'refund', 'ignore', 'expire') then
    raise exception 'unknown Stripe event kind %', p_kind using errcode = '22023';
  end if;

  insert into scoped.inbound_events (source, event_id, event_type, outcome, reason)
  values ('stripe', p_event_id, p_event_type,
          case when p_kind = 'ignore' then 'ignored' else 'applied' end::public.inbound_outcome, p_reason)
  on conflict (source, event_id) do nothing;
  if not found then
    return jsonb_build_object('outcome', 'duplicate');
  end if;
  if p_kind = 'ignore' then
    return jsonb_build_object('outcome', 'ignored', 'reason', p_reason);
  end if;
  if p_kind = 'expire' then
    -- A quote's session ran out unpaid: its link now offers a fresh one. An intake session's expiry changes nothing.
    update scoped.quotes set status = 'expired'
     where checkout_session_id = p_checkout_session_id and status = 'sent'
    returning * into v_quote;
    if v_quote.id is not null then
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('quote.expired', 'lead', v_quote.lead_id::text,
              jsonb_build_object('event_id', p_event_id, 'quote_id', v_quote.id));
      perform app_private.note_on_lead(v_quote.lead_id, 'Quote expired unpaid: its link now offers the client a '
                                                        'fresh one, for the same quote.');
    end if;
    return jsonb_build_object('outcome', 'applied', 'expired_quote', v_quote.id);
  end if;

  -- Every event about one lead takes its turn: a completed session and its async success never race.
  select * into v_lead from scoped.leads
   where id = app_private.lead_paid_by(case when p_kind in ('fulfil', 'pending', 'failed')
                                            then p_checkout_session_id end, p_payment_intent_id)
   for update;
  if p_checkout_session_id is not null and p_kind in ('fulfil', 'pending', 'failed') then
    select * into v_quote from scoped.quotes where checkout_session_id = p_checkout_session_id;
  end if;
  -- A quote's session is checked against the quote (its tier and amount), not the tier's list price.
  select * into v_tier from scoped.tiers
   where id = coalesce(v_quote.tier, v_lead.team_tier, v_lead.recommended_tier, p_tier);
  v_price := coalesce(v_quote.amount, v_tier.price_cents);
  v_currency := coalesce(v_quote.currency, v_tier.currency);
  -- What booking takes: the whole price, or the deposit of a tier whose schedule has instalments.
  v_due := app_private.due_at_booking(v_tier.id, v_price);

  if p_kind = 'refund' then
    v_full_refund := p_amount_refunded >= p_amount;
    v_payment := app_private.upsert_payment(p_payment_intent_id, null, p_customer_id, v_lead.id, p_amount,
      p_amount_refunded, p_currency, case when v_full_refund then 'refunded' else 'succeeded' end::public.payment_state,
      v_tier.id);
    if v_payment.status = 'refunded' and v_payment.project_id is not null then
      update scoped.projects set payment_status = 'refunded'
       where id = v_payment.project_id and payment_status <> 'refunded';
    end if;
    insert into scoped.audit_log (action, resource_type, resource_id, details)
    values (case when v_full_refund then 'payment.refunded' else 'payment.partially_refunded' end, 'payment',
            v_payment.id::text, jsonb_build_object('event_id', p_event_id, 'amount', p_amount,
                                                   'amount_refunded', v_payment.amount_refunded));
    return jsonb_build_object('outcome', 'applied', 'payment_id', v_payment.id, 'payment_status', v_payment.status,
                              'amount_refunded', v_payment.amount_refunded, 'project_id', v_payment.project_id);
  end if;

  v_payment := app_private.upsert_payment(p_payment_intent_id, p_checkout_session_id, p_customer_id, v_lead.id,
    p_amount, 0, p_currency,
    case p_kind when 'pending' then 'pending' when 'failed' then 'failed' else 'succeeded' end::public.payment_state,
    v_tier.id);

  if p_kind = 'fulfil' and v_payment.status <> 'refunded' and v_payment.project_id is null then
    select * into v_user from public.users where email = v_lead.email;
    v_held := case
      when v_lead.id is null then
        format('no Checkout session Atelier opened: %s%s', coalesce(p_checkout_session_id, '(none)'),
               case when p_lead_id is not null then format(' (its metadata names lead %s)', p_lead_id) else '' end)
      when v_quote.status in ('superseded', 'withdrawn') then
        format('paid a quote that was %s before it was paid (%s): refund it, or send the lead a quote it may pay',
               v_quote.status, app_private.money_words(p_amount, p_currency))
      when v_quote.id is null and v_lead.status = 'closed' then
        format('the lead was declined (closed) before this payment of %s: refund it',
               app_private.money_words(p_amount, p_currency))
      when exists (select 1 from scoped.projects pr where pr.lead_id = v_lead.id)
           and not exists (select 1 from scoped.payments pp join scoped.projects pr on pr.id = pp.project_id
                            where pr.lead_id = v_lead.id and pp.stripe_checkout_session_id = p_checkout_session_id) then
        format('a second payment (%s) for a lead whose project is paid already: refund it',
               app_private.money_words(p_amount, p_currency))
      when lower(p_currency) <> v_currency or p_amount < v_due then
        format('paid %s %s, under the %s of %s %s: no work starts until the owner decides', p_amount,
               lower(p_currency), case when v_due < v_price then 'deposit'
                                       when v_quote.id is null then 'tier price' else 'quote' end, v_due,
               v_currency)
      when v_user.user_type in ('team', 'admin') then
        format('the address %s belongs to a member of the team, so no client is attached to it', v_lead.email)
    end;
  end if;

  if v_held is not null then
    update scoped.payments set review_reason = left(v_held, 500) where id = v_payment.id;
    update scoped.inbound_events set reason = left(v_held, 500) where source = 'stripe' and event_id = p_event_id;
    insert into scoped.audit_log (action, resource_type, resource_id, details)
    values (case when v_lead.id is null then 'payment.unmatched' else 'payment.held' end, 'payment',
            v_payment.id::text, jsonb_build_object('event_id', p_event_id, 'lead_id', v_lead.id,
                                                   'metadata_lead_id', p_lead_id, 'reason', v_held));
    return jsonb_build_object('outcome', 'applied', 'payment_id', v_payment.id, 'payment_status', v_payment.status,
                              'project_id', null, 'unmatched', v_lead.id is null, 'held', v_held);
  end if;

  if p_kind in ('pending', 'failed', 'confirm') or v_lead.id is null or v_payment.status = 'refunded' then
    if v_payment.project_id is not null and v_payment.status = 'succeeded' then
      update scoped.projects set payment_status = 'paid'
       where id = v_payment.project_id and payment_status = 'pending';
    end if;
    insert into scoped.audit_log (action, resource_type, resource_id, details)
    values (case when p_kind = 'fulfil' then 'payment.refunded_before_fulfilment' else 'payment.' || p_kind end,
            'payment', v_payment.id::text,
            jsonb_build_object('event_id', p_event_id, 'lead_id', v_lead.id, 'status', v_payment.status));
    return jsonb_build_object('outcome', 'applied', 'payment_id', v_payment.id, 'payment_status', v_payment.status,
                              'project_id', v_payment.project_id, 'unmatched', false);
  end if;

  -- Fulfil. A returning client keeps the tier and address they have: a lead typed with their address does not
  -- rewrite them, and its project waits for the team's review before work starts.
  if v_user.id is null then  -- two leads of one address may be paid at once: the second finds the first's user
    insert into public.users (email, user_type, tier)
    values (v_lead.email, case when v_tier.id = 4 then 'kaa_client' else 'sage_client' end::public.user_type, v_tier.id)
    on conflict (email) do nothing;
    select * into v_user from public.users where email = v_lead.email;
  end if;
  v_returning := exists (select 1 from scoped.projects p join scoped.clients c on c.id = p.client_id
                          where c.user_id = v_user.id and p.lead_id <> v_lead.id);
  -- The client's name (clients.name: 20261203000600) is the lead's, else the payer's as Stripe has it; the team's in
  -- Notion is never replaced, and the payer's fills it only where it is empty.
  insert into scoped.clients (user_id, tier, project_address, name)
  values (v_user.id, v_tier.id, v_lead.project_address,
          left(coalesce(nullif(btrim(v_lead.name), ''), nullif(btrim(p_name), '')), 200))
  on conflict (business_id, user_id) do update set name = left(nullif(btrim(p_name), ''), 200)
    where scoped.clients.name is null and nullif(btrim(p_name), '') is not null;
  select id into v_client_id from scoped.clients where user_id = v_user.id;

  v_mismatch := p_amount <> v_due and p_amount <> v_price;

  insert into scoped.projects (client_id, lead_id, tier, status, name, payment_status, needs_review, review_reason)
  values (v_client_id, v_lead.id, v_tier.id, 'onboarding',
          coalesce(nullif(v_lead.project_address, ''), v_lead.name) || ' - ' || v_tier.name, 'paid',
          v_mismatch or v_returning,
          case when v_mismatch then format('paid %s %s, %s is %s %s', p_amount, lower(p_currency),
                                           case when v_quote.id is null then 'tier price' else 'the quote' end,
                                           v_price, v_currency)
               when v_returning then format('paid under the address of an existing client (%s): confirm with them '
                                            'that this project is theirs', v_lead.email) end)
  on conflict (lead_id) do nothing
  returning id into v_project_id;
  v_created := v_project_id is not null;

  if v_created then
    insert into scoped.milestones (project_id, tier, name, "order", due_date)
    select v_project_id, t.tier, t.name, t."order", current_date + t.due_offset_days
      from scoped.milestone_templates t where t.tier = v_tier.id;
    perform app_private.make_payment_schedule(v_project_id, v_tier.id, v_price, p_amount, lower(p_currency),
                                              v_payment.id);
    if v_mismatch then
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('payment.amount_mismatch', 'project', v_project_id::text,
              jsonb_build_object('event_id', p_event_id, 'amount', p_amount, 'currency', lower(p_currency),
                                 'tier_price', v_price, 'tier_currency', v_currency, 'quote_id', v_quote.id));
    end if;
  else
    select id into v_project_id from scoped.projects where lead_id = v_lead.id;
    v_mismatch := false;  -- reported by the event that created the project
  end if;

  update scoped.payments set project_id = v_project_id where id = v_payment.id and project_id is null;
  update scoped.leads set status = 'converted' where id = v_lead.id and status <> 'converted';
  if v_created then
    -- The quote paid is done; any other open one for this lead (the intake's session was paid) no longer stands.
    update scoped.quotes set status = 'paid', paid_at = now() where id = v_quote.id and status <> 'paid';
    update scoped.quotes set status = 'withdrawn'
     where lead_id = v_lead.id and status = 'sent' and id is distinct from v_quote.id;
    perform app_private.note_on_lead(v_lead.id, format('Paid: %s. The project, its milestones and the client''s '
                                                       'kickoff e-mail follow.',
                                                       app_private.money_words(p_amount, p_currency)));
  end if;

  insert into scoped.audit_log (user_id, action, resource_type, resource_id, details)
  values (v_user.id, case when v_created then 'payment.fulfilled' else 'payment.already_fulfilled' end, 'project',
          v_project_id::text, jsonb_build_object('event_id', p_event_id, 'payment_intent', p_payment_intent_id,
                                                 'amount', p_amount, 'currency', lower(p_currency),
                                                 'stripe_email', p_email, 'metadata_lead_id', p_lead_id,
                                                 'returning_client', v_returning));
  return jsonb_build_object('outcome', 'applied', 'project_id', v_project_id, 'created_project', v_created,
                            'payment_id', v_payment.id, 'payment_status', v_payment.status,
                            'amount_mismatch', v_mismatch);
end
$function$;

CREATE OR REPLACE FUNCTION public.catalogue()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'tiers', coalesce((
      select jsonb_agg(jsonb_build_object('id', t.id, 'name', t.name, 'min_budget_cents', t.min_budget_cents,
                                          'max_budget_cents', t.max_budget_cents, 'routing', t.routing,
                                          'price_cents', t.price_cents, 'currency', t.currency,
                                          'description', t.description, 'features', t.features, 'active', t.active, 'deposit_percent', t.deposit_percent,
                                          'stripe_product_id', t.stripe_product_id,
                                          'stripe_price_id', t.stripe_price_id) order by t.id)
        from scoped.tiers t), '[]'::jsonb),
    'milestones', coalesce((
      select jsonb_object_agg(m.tier, m.names)
        from (select tier, jsonb_agg(name order by "order") as names
                from scoped.milestone_templates group by tier) m), '{}'::jsonb),
    'milestone_days', coalesce((
      select jsonb_object_agg(m.tier, m.items)
        from (select tier, jsonb_agg(jsonb_build_object('name', name, 'days', due_offset_days, 'percent', invoice_percent) order by "order") as items
                from scoped.milestone_templates group by tier) m), '{}'::jsonb))
$function$;

CREATE OR REPLACE FUNCTION app_private.sync_record(p_entity sync_entity, p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
AS $function$
  select case p_entity
    when 'lead' then (
      select jsonb_build_object('name', l.name, 'email', l.email, 'tier_name', t.name, 'status', l.status,
        'budget_range', l.budget_range, 'timeline_weeks', l.timeline_weeks, 'project_type', l.project_type,
        'needs_review', l.needs_review, 'routing_reason', l.routing_reason, 'confidence', l.confidence,
        'red_flags', to_jsonb(l.red_flags), 'notion_page_id', l.notion_page_id,
        'quote', round(l.quote_amount / 100.0, 2), 'quote_note', l.quote_note,
        'quote_state', (select case q.status
            when 'sent' then format('Sent %s: %s, %s; %s', to_char(q.created_at, 'FMDD Mon'),
                                    app_private.money_words(q.amount, q.currency), qt.name,
                                    case when q.checkout_session_id is null then 'its payment page is opening'
                                         else format('the link pays until %s UTC',
                                                     to_char(q.expires_at at time zone 'UTC', 'FMDD Mon HH24:MI')) end)
            when 'paid' then format('Paid %s: %s, %s', to_char(q.paid_at, 'FMDD Mon'),
                                    app_private.money_words(q.amount, q.currency), qt.name)
            when 'expired' then format('Expired %s: the client''s link offers a fresh one',
                                       to_char(q.updated_at, 'FMDD Mon'))
            else initcap(q.status) || ' ' || to_char(q.updated_at, 'FMDD Mon') end
          from scoped.quotes q join scoped.tiers qt on qt.id = q.tier
         where q.lead_id = l.id order by q.created_at desc limit 1),
        'pushed', l.notion_pushed_hash, 'deleted', l.deleted_at is not null)
      from scoped.leads l join scoped.tiers t on t.id = coalesce(l.team_tier, l.recommended_tier) where l.id = p_id)
    when 'client' then (
      select jsonb_build_object('name', coalesce(c.name, (select name from scoped.leads where email = u.email
                                                          order by created_at desc limit 1), u.email),
        'email', u.email, 'tier_name', t.name, 'status', c.status, 'project_address', c.project_address,
        'phone', c.phone, 'company', c.company,
        'notion_page_id', c.notion_page_id, 'pushed', c.notion_pushed_hash, 'deleted', c.deleted_at is not null)
      from scoped.clients c join public.users u on u.id = c.user_id join scoped.tiers t on t.id = c.tier
      where c.id = p_id)
    when 'project' then (
      select jsonb_build_object('name', p.name, 'tier_name', t.name,
        'client_page', case when c.notion_page_id is null then '[]'::jsonb else jsonb_build_array(c.notion_page_id) end,
        'waiting_for', case when c.notion_page_id is null then 'client' end, 'parent_id', c.id,
        'status', p.status, 'payment_status', p.payment_status, 'needs_review', p.needs_review,
        'nps', (select a.score from scoped.nps_answers a where a.project_id = p.id),
        'client_feedback', (select a.comment from scoped.nps_answers a where a.project_id = p.id),
        'amount_paid', round(p.amount_paid / 100.0, 2), 'balance_due', round(p.balance_due / 100.0, 2),
        'disputed', round(p.disputed_amount / 100.0, 2),
        'paid_on', (select min(pay.created_at)::date from scoped.payments pay
                     where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')),
        'notion_page_id', p.notion_page_id, 'pushed', p.notion_pushed_hash, 'deleted', p.deleted_at is not null)
      from scoped.projects p join scoped.clients c on c.id = p.client_id join scoped.tiers t on t.id = p.tier
      where p.id = p_id)
    when 'milestone' then (
      select jsonb_build_object('name', m.name,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'waiting_for', case when p.notion_page_id is null then 'project' end, 'parent_id', p.id,
        'order', m."order", 'due_date', m.due_date, 'status', m.status, 'completed_at', m.completed_at,
        'notion_page_id', m.notion_page_id, 'pushed', m.notion_pushed_hash, 'deleted', m.deleted_at is not null)
      from scoped.milestones m join scoped.projects p on p.id = m.project_id where m.id = p_id)
    when 'deliverable' then (
      select jsonb_build_object('name', d.name,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'waiting_for', case when p.notion_page_id is null then 'project' end, 'parent_id', p.id,
        'category', d.category, 'uploaded_on', d.created_at::date, 'file_url', d.file_url,
        'approval', d.approval, 'approval_note', d.approval_note,
        'notion_page_id', d.notion_page_id, 'pushed', d.notion_pushed_hash, 'deleted', d.deleted_at is not null)
      from scoped.deliverables d join scoped.projects p on p.id = d.project_id where d.id = p_id)
    when 'task' then (
      select jsonb_build_object('title', k.title, 'kind', k.kind, 'status', k.status, 'due_date', k.due_date,
        'completed_at', k.completed_at,
        'assignee', case when k.assignee_id is null then '[]'::jsonb else jsonb_build_array(k.assignee_id) end,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        -- A project's task points at the project alone; a lead's at the lead (its page exists before the task's).
        'lead_page', case when k.project_id is not null or l.notion_page_id is null then '[]'::jsonb
                          else jsonb_build_array(l.notion_page_id) end,
        'waiting_for', case when k.project_id is not null and p.notion_page_id is null then 'project'
                            when k.project_id is null and k.lead_id is not null and l.notion_page_id is null
                              then 'lead' end,
        'parent_id', coalesce(k.project_id, k.lead_id),
        'notion_page_id', k.notion_page_id, 'pushed', k.notion_pushed_hash, 'deleted', k.deleted_at is not null)
      from scoped.tasks k left join scoped.projects p on p.id = k.project_id
      left join scoped.leads l on l.id = k.lead_id where k.id = p_id)
  end
$function$;

CREATE OR REPLACE FUNCTION public.portal_project(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'id', p.id, 'name', p.name, 'status', p.status, 'payment_status', p.payment_status, 'tier_name', t.name,
    'created_at', p.created_at,
    'payments', (select coalesce(jsonb_agg(jsonb_build_object('amount', x.amount, 'amount_refunded', x.amount_refunded,
                                                               'currency', x.currency, 'status', x.status,
                                                               'paid_at', x.created_at) order by x.created_at), '[]')
                   from scoped.payments x where x.project_id = p.id),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'order', m."order", 'status', m.status,
                                                                 'due_date', m.due_date, 'completed_at', m.completed_at)
                                             order by m."order"), '[]')
                     from scoped.milestones m where m.project_id = p.id and m.deleted_at is null),
    'deliverables', (select coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category,
                                                                   'file_type', d.file_type, 'file_size', d.file_size,
                                                                   'uploaded_at', d.created_at, 'version', d.version,
                                                                   'needs_approval', d.needs_approval,
                                                                   'approval', d.approval,
                                                                   'approval_note', d.approval_note,
                                                                   'latest', not exists (
                                                                     select 1 from scoped.deliverables o
                                                                      where o.s3_bucket = d.s3_bucket
                                                                        and o.file_path = d.file_path
                                                                        and o.version > d.version
                                                                        and o.deleted_at is null))
                                               order by d.created_at desc), '[]')
                       from scoped.deliverables d where d.project_id = p.id and d.deleted_at is null),
    'messages', (select coalesce(jsonb_agg(jsonb_build_object('id', m.id, 'author_kind', m.author_kind,
                                                               'author_name', m.author_name, 'body', m.body,
                                                               'attachment_name', m.attachment_name,
                                                               'attachment_type', m.attachment_type,
                                                               'attachment_size', m.attachment_size,
                                                               'created_at', m.created_at)
                                           order by m.created_at, m.id), '[]')
                   from scoped.messages m where m.project_id = p.id and not m.internal),
    'nps_asked', p.nps_asked_at is not null or p.status in ('delivered', 'closed'),
    'nps', (select jsonb_build_object('score', a.score, 'comment', a.comment)
              from scoped.nps_answers a where a.project_id = p.id),
    'studio_notes', p.studio_notes,
    'money', jsonb_build_object('total', p.amount_total, 'paid', p.amount_paid, 'balance_due', p.balance_due,
                                'currency', coalesce((select x.currency from scoped.payments x
                                                       where x.project_id = p.id limit 1), t.currency)),
    'schedule', (select coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'label', s.label, 'share', s.share,
                                                               'amount', s.amount, 'currency', s.currency,
                                                               'status', s.status, 'number', s.number,
                                                               'receipt_number', s.receipt_number,
                                                               'due_date', s.due_date, 'paid_at', s.paid_at,
                                                               'invoice_url', s.hosted_invoice_url)
                                           order by s.position), '[]')
                   from scoped.payment_schedule s where s.project_id = p.id))
    from scoped.projects p left join scoped.tiers t on t.id = p.tier
   where p.id = p_id and p.deleted_at is null
$function$;

-- The owner's report: what is owed (each project's balance), the invoices past due, and the disputes (now).
create function public.report_money() returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  perform app_private.report_reader();
  return jsonb_build_object(
    'balances', (select coalesce(jsonb_agg(jsonb_build_object(
                   'project_name', p.name, 'total', p.amount_total, 'paid', p.amount_paid, 'balance_due', p.balance_due,
                   'currency', coalesce((select x.currency from scoped.payments x where x.project_id = p.id limit 1),
                                        'usd')) order by p.balance_due desc, p.name), '[]'::jsonb)
                   from scoped.projects p where p.balance_due > 0 and p.deleted_at is null),
    'overdue_invoices', (select coalesce(jsonb_agg(jsonb_build_object(
                   'number', s.number, 'project_name', p.name, 'label', s.label, 'amount', s.amount,
                   'currency', s.currency, 'due_date', s.due_date, 'failures', s.failures,
                   'days_overdue', app_private.business_today(s.business_id) - s.due_date)
                   order by s.due_date, s.number), '[]'::jsonb)
                   from scoped.payment_schedule s join scoped.projects p on p.id = s.project_id
                  where s.status = 'open' and s.due_date < app_private.business_today(s.business_id)),
    'disputes', (select coalesce(jsonb_agg(jsonb_build_object(
                   'project_name', p.name, 'amount', d.amount, 'currency', d.currency, 'status', d.status,
                   'reason', d.reason, 'evidence_due_by', d.evidence_due_by, 'opened_at', d.opened_at,
                   'payment_id', d.payment_id) order by d.opened_at desc), '[]'::jsonb)
                   from scoped.disputes d left join scoped.projects p on p.id = d.project_id
                  where d.status not in ('won', 'warning_closed')));
end
$$;
revoke all on function public.report_money() from public, anon;
grant execute on function public.report_money() to authenticated, service_role;

CREATE OR REPLACE FUNCTION public.report(p_from date, p_to date)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
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
    'sync', public.report_sync(p_from, p_to),
    'held', public.report_held(p_from, p_to),
    'nps', public.report_nps(p_from, p_to),
    'overdue_tasks', public.overdue_tasks(),
    'money', public.report_money());
end
$function$;

-- The evidence Stripe asks for when a payment is disputed, in one document: what was sold and agreed (the lead's
-- request, the quote), what was paid, what was delivered and when, the client's approvals, and the messages.
create function public.dispute_evidence(p_payment_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'payment', jsonb_build_object('id', x.id, 'amount', x.amount, 'amount_refunded', x.amount_refunded,
                                  'currency', x.currency, 'status', x.status, 'paid_at', x.created_at,
                                  'receipt_number', x.receipt_number, 'payment_intent', x.stripe_payment_intent_id,
                                  'checkout_session', x.stripe_checkout_session_id),
    'business', (select jsonb_build_object('name', b.name, 'legal_name', b.legal_name, 'contact_email',
                                           b.contact_email, 'address', b.address)
                   from public.businesses b where b.id = x.business_id),
    'project', (select jsonb_build_object('id', p.id, 'name', p.name, 'status', p.status, 'tier_name', t.name,
                                          'created_at', p.created_at, 'total', p.amount_total, 'paid', p.amount_paid,
                                          'balance_due', p.balance_due)
                  from scoped.projects p left join scoped.tiers t on t.id = p.tier where p.id = x.project_id),
    'client', (select jsonb_build_object('name', c.name, 'email', u.email, 'address', c.project_address)
                 from scoped.projects p join scoped.clients c on c.id = p.client_id join public.users u on u.id = c.user_id
                where p.id = x.project_id),
    'lead', (select jsonb_build_object('submitted_at', l.created_at, 'project_address', l.project_address,
                                       'project_type', l.project_type, 'budget_range', l.budget_range,
                                       'timeline_weeks', l.timeline_weeks, 'notes', l.notes)
               from scoped.leads l where l.id = coalesce(x.lead_id, (select p.lead_id from scoped.projects p
                                                                      where p.id = x.project_id))),
    'quotes', (select coalesce(jsonb_agg(jsonb_build_object('amount', q.amount, 'currency', q.currency, 'note', q.note,
                                                            'status', q.status, 'sent_at', q.created_at,
                                                            'paid_at', q.paid_at) order by q.created_at), '[]')
                 from scoped.quotes q where q.lead_id = coalesce(x.lead_id, (select p.lead_id from scoped.projects p
                                                                              where p.id = x.project_id))),
    'schedule', (select coalesce(jsonb_agg(jsonb_build_object('label', s.label, 'share', s.share, 'amount', s.amount,
                                                              'currency', s.currency, 'status', s.status,
                                                              'number', s.number, 'paid_at', s.paid_at)
                                           order by s.position), '[]')
                   from scoped.payment_schedule s where s.project_id = x.project_id),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'status', m.status,
                                                                'due_date', m.due_date, 'completed_at', m.completed_at)
                                             order by m."order"), '[]')
                     from scoped.milestones m where m.project_id = x.project_id and m.deleted_at is null),
    'deliverables', (select coalesce(jsonb_agg(jsonb_build_object('name', d.name, 'category', d.category,
                                                                  'version', d.version, 'delivered_at', d.created_at,
                                                                  'file_size', d.file_size) order by d.created_at),
                                     '[]')
                       from scoped.deliverables d where d.project_id = x.project_id and d.deleted_at is null),
    'approvals', (select coalesce(jsonb_agg(jsonb_build_object('deliverable', d.name, 'version', a.version,
                                                               'decision', a.decision, 'note', a.note,
                                                               'decided_at', a.created_at, 'by', u.email)
                                            order by a.created_at), '[]')
                    from scoped.approvals a join scoped.deliverables d on d.id = a.deliverable_id
                    join public.users u on u.id = a.user_id where a.project_id = x.project_id),
    'messages', (select coalesce(jsonb_agg(jsonb_build_object('from', m.author_kind, 'name', m.author_name,
                                                              'body', m.body, 'at', m.created_at)
                                           order by m.created_at), '[]')
                   from scoped.messages m where m.project_id = x.project_id and not m.internal),
    'emails', (select coalesce(jsonb_agg(jsonb_build_object('template', n.template, 'to', n.recipient,
                                                            'sent_at', n.sent_at) order by n.sent_at), '[]')
                 from scoped.notifications n where n.project_id = x.project_id and n.status = 'sent'),
    'disputes', (select coalesce(jsonb_agg(jsonb_build_object('id', d.stripe_dispute_id, 'amount', d.amount,
                                                              'currency', d.currency, 'reason', d.reason,
                                                              'status', d.status, 'opened_at', d.opened_at,
                                                              'evidence_due_by', d.evidence_due_by)
                                           order by d.opened_at), '[]')
                   from scoped.disputes d where d.payment_id = x.id))
    from scoped.payments x where x.id = p_payment_id
$$;
revoke all on function public.dispute_evidence(uuid) from public, anon, authenticated;
grant execute on function public.dispute_evidence(uuid) to service_role;

-- The thanks page shows the schedule: what was paid now, and what follows at which milestone.
CREATE OR REPLACE FUNCTION public.checkout_outcome(p_session_id text)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  v_lead scoped.leads;
  v_payment scoped.payments;
  v_project scoped.projects;
  v_quote scoped.quotes;
  v_newer text;
begin
  -- Any session Atelier opened: the intake's (on the lead) or a quote's, first or made again (on the quote).
  select * into v_quote from scoped.quotes where checkout_session_id = p_session_id;
  select * into v_lead from scoped.leads
   where id = v_quote.lead_id or (v_quote.id is null and checkout_session_id = p_session_id);
  if v_lead.id is null then
    return jsonb_build_object('state', 'unknown');
  end if;
  select * into v_payment from scoped.payments where stripe_checkout_session_id = p_session_id;
  if not found then
    select link_token into v_newer from scoped.quotes where lead_id = v_lead.id and status = 'sent'
       and id is distinct from v_quote.id;
    return jsonb_build_object(
      'state', case when v_quote.status in ('superseded', 'withdrawn') then 'superseded'
                    when v_quote.status = 'expired' then 'expired'
                    when v_quote.id is null and v_lead.status = 'closed' then 'superseded'
                    else 'waiting' end,
      'first_name', split_part(btrim(v_lead.name), ' ', 1),
      'quote_token', case when v_quote.status = 'expired' then v_quote.link_token else v_newer end);
  end if;
  select * into v_project from scoped.projects where id = v_payment.project_id;
  return jsonb_build_object(
    'state', case when v_payment.status = 'failed' then 'failed' when v_payment.status = 'refunded' then 'refunded'
                  when v_project.id is null and v_payment.review_reason is not null then 'held'
                  when v_payment.status = 'pending' or v_project.id is null then 'waiting' else 'paid' end,
    'first_name', split_part(btrim(v_lead.name), ' ', 1),
    'amount', v_payment.amount, 'currency', v_payment.currency,
    'project_name', v_project.name, 'balance_due', v_project.balance_due,
    'schedule', (select coalesce(jsonb_agg(jsonb_build_object('label', x.label, 'share', x.share, 'amount', x.amount,
                                                              'currency', x.currency, 'status', x.status)
                                           order by x.position), '[]'::jsonb)
                   from scoped.payment_schedule x where x.project_id = v_project.id),
    'tier_name', (select name from scoped.tiers where id = v_project.tier),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date)
                                             order by m."order"), '[]'::jsonb)
                     from (select * from scoped.milestones where project_id = v_project.id and deleted_at is null
                            order by "order" limit 3) m));
end
$function$;
