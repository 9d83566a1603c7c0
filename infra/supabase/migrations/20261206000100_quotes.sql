-- The review loop: a lead the team reviews becomes a quote, a Checkout session, a payment and a project.
-- The team owns a lead's tier, quote, note to the client and status (in Notion, or `atelier quote send`). Setting
-- the status to "Qualified" writes a quote and queues its e-mail in one transaction; "Closed" declines the lead.
-- A quote's Checkout session is opened (and a superseded one expired) by `atelier.payments.quotes`, outside the
-- transaction: the quote's e-mail waits in the outbox until its session exists, so Stripe being down loses nothing.
-- Rollback: infra/supabase/rollbacks/20261206000100_quotes.down.sql

-- What the team decided last, as the lead's page shows it: a tier other than the routing's, an amount other than
-- the tier's price (cents), and a note to the client (or, on a closed lead, the reason it was declined).
alter table public.leads
  add column team_tier smallint,
  add column quote_amount bigint check (quote_amount > 0),
  add column quote_note text check (length(quote_note) <= 2000),
  add column decided_at timestamptz,
  add constraint leads_team_tier_fkey foreign key (business_id, team_tier) references public.tiers (business_id, id);
create index leads_team_tier_idx on public.leads (business_id, team_tier);
create or replace view scoped.leads with (security_invoker = true) as
  select * from public.leads where business_id = (select app_private.business_id()) with cascaded check option;

drop trigger leads_enqueue_sync on public.leads;
create trigger leads_enqueue_sync after insert or update on public.leads for each row
  execute function app_private.enqueue_on_change('lead', 'name', 'email', 'recommended_tier', 'status', 'budget_range',
    'timeline_weeks', 'project_type', 'needs_review', 'routing_reason', 'deleted_at', 'team_tier', 'quote_amount',
    'quote_note');

-- One row per decision to quote. At most one is open (`sent`) per lead; a newer decision supersedes it.
-- `link_token` is the client's link to the quote's page (`GET /quote/{token}`): a bearer secret, like Stripe's own
-- Checkout URL, and never the quote's id (which Stripe's metadata, the logs and the CLI show).
create table public.quotes (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  lead_id uuid not null,
  tier smallint not null,
  amount bigint not null check (amount > 0),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  note text check (length(note) <= 2000),
  status text not null default 'sent' check (status in ('sent', 'paid', 'expired', 'withdrawn', 'superseded')),
  source text not null default 'notion' check (source in ('notion', 'cli')),
  link_token text not null unique
    default replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''),
  checkout_session_id text unique,
  checkout_url text,
  expires_at timestamptz,
  renewals integer not null default 0 check (renewals between 0 and 20),  -- fresh links made after expiry
  session_closed_at timestamptz,  -- a superseded or withdrawn quote's session, expired through Stripe's API
  paid_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (business_id, id),
  foreign key (business_id, lead_id) references public.leads (business_id, id),
  foreign key (business_id, tier) references public.tiers (business_id, id),
  check ((checkout_session_id is null) = (checkout_url is null))
);
create unique index quotes_one_open_idx on public.quotes (lead_id) where status = 'sent';
create index quotes_lead_idx on public.quotes (business_id, lead_id, created_at);
create index quotes_tier_idx on public.quotes (business_id, tier);
create index quotes_to_open_idx on public.quotes (created_at) where status = 'sent' and checkout_session_id is null;
create trigger quotes_set_updated_at before update on public.quotes for each row
  execute function app_private.set_updated_at();
create view scoped.quotes with (security_invoker = true) as
  select * from public.quotes where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.quotes to authenticated, service_role;

alter table public.quotes enable row level security;
create policy quotes_select on public.quotes for select to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)));
create policy quotes_insert on public.quotes for insert to authenticated
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy quotes_update on public.quotes for update to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)))
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy quotes_delete on public.quotes for delete to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));

-- A quote's state shows on its lead's page ("Quote State"), so each change of it sends the lead to Notion again.
create function app_private.enqueue_lead_of_quote() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or (new.status, new.checkout_session_id) is distinct from (old.status, old.checkout_session_id)
  then
    perform app_private.enqueue_sync('lead', new.lead_id);
  end if;
  return new;
end
$$;
create trigger quotes_enqueue_lead_sync after insert or update on public.quotes for each row
  execute function app_private.enqueue_lead_of_quote();

alter table public.notifications drop constraint notifications_template_check;
alter table public.notifications add constraint notifications_template_check check (template in
  ('payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed', 'portal_sign_in',
   'weekly_report', 'quote_sent', 'lead_declined'));

-- Currencies Stripe Checkout takes (its presentment currencies), lower case.
create function app_private.stripe_takes(p_currency text) returns boolean
language sql immutable
set search_path = ''
as $$
  select coalesce(lower(p_currency) = any (array[
    'usd', 'aed', 'afn', 'all', 'amd', 'ang', 'aoa', 'ars', 'aud', 'awg', 'azn', 'bam', 'bbd', 'bdt', 'bgn', 'bif',
    'bmd', 'bnd', 'bob', 'brl', 'bsd', 'bwp', 'byn', 'bzd', 'cad', 'cdf', 'chf', 'clp', 'cny', 'cop', 'crc', 'cve',
    'czk', 'djf', 'dkk', 'dop', 'dzd', 'egp', 'etb', 'eur', 'fjd', 'fkp', 'gbp', 'gel', 'gip', 'gmd', 'gnf', 'gtq',
    'gyd', 'hkd', 'hnl', 'htg', 'huf', 'idr', 'ils', 'inr', 'isk', 'jmd', 'jpy', 'kes', 'kgs', 'khr', 'kmf', 'krw',
    'kyd', 'kzt', 'lak', 'lbp', 'lkr', 'lrd', 'lsl', 'mad', 'mdl', 'mga', 'mkd', 'mmk', 'mnt', 'mop', 'mur', 'mvr',
    'mwk', 'mxn', 'myr', 'mzn', 'nad', 'ngn', 'nio', 'nok', 'npr', 'nzd', 'pab', 'pen', 'pgk', 'php', 'pkr', 'pln',
    'pyg', 'qar', 'ron', 'rsd', 'rub', 'rwf', 'sar', 'sbd', 'scr', 'sek', 'sgd', 'shp', 'sle', 'sos', 'srd', 'std',
    'szl', 'thb', 'tjs', 'top', 'try', 'ttd', 'twd', 'tzs', 'uah', 'ugx', 'uyu', 'uzs', 'vnd', 'vuv', 'wst', 'xaf',
    'xcd', 'xof', 'xpf', 'yer', 'zar', 'zmw']), false)
$$;

create function app_private.money_words(p_cents bigint, p_currency text) returns text
language sql immutable
set search_path = ''
as $$
  select to_char(p_cents / 100.0, 'FM999,999,999,990.00') || ' ' || upper(p_currency)
$$;

-- A line on the lead's Notion page (a comment: the page's history of the review), when the page exists.
create function app_private.note_on_lead(p_lead_id uuid, p_body text) returns void
language sql
set search_path = ''
as $$
  insert into scoped.notion_comments (entity, record_id, page_id, body)
  select 'lead', l.id, l.notion_page_id, left(p_body, 2000)
    from scoped.leads l where l.id = p_lead_id and l.notion_page_id is not null
$$;

-- An open quote ends (withdrawn or superseded): an e-mail of it not yet sent never goes, and its session is
-- expired by `quote_sessions_to_close`' caller.
create function app_private.end_quote(p_quote_id uuid, p_status text) returns void
language plpgsql
set search_path = ''
as $$
begin
  update scoped.quotes set status = p_status where id = p_quote_id and status = 'sent';
  update scoped.notifications set status = 'failed',
         last_error = format('the quote was %s before this e-mail was sent', p_status)
   where template = 'quote_sent' and subject_id = p_quote_id and status = 'pending';
end
$$;

-- A decision to quote: checks, supersedes the open quote, writes the new one and queues its e-mail, all under the
-- lead's lock. The same decision seen again (the webhook and the poll, or a retry) changes nothing.
-- Returns {quote_id, created, superseded} or {refused: why}.
create function app_private.issue_quote(p_lead_id uuid, p_tier smallint, p_amount bigint, p_note text,
                                        p_source text, p_cap bigint) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_lead scoped.leads;
  v_tier scoped.tiers;
  v_open scoped.quotes;
  v_quote scoped.quotes;
  v_amount bigint;
  v_note text := nullif(btrim(p_note), '');
  v_cap bigint := coalesce(p_cap, 100000000);
begin
  select * into v_lead from scoped.leads where id = p_lead_id and deleted_at is null for update;
  if not found then
    return jsonb_build_object('refused', 'there is no such lead (or it is in the trash)');
  end if;
  select * into v_tier from scoped.tiers where id = coalesce(p_tier, v_lead.team_tier, v_lead.recommended_tier);
  if not found then
    return jsonb_build_object('refused', format('there is no tier %s: choose one of the tiers', p_tier));
  end if;
  v_amount := coalesce(p_amount, v_tier.price_cents);
  if v_lead.status = 'converted' or exists (select 1 from scoped.projects where lead_id = v_lead.id) then
    return jsonb_build_object('refused', 'this lead has paid already and is now a project: change the project '
                                         'instead, or ask an admin about a refund');
  elsif nullif(btrim(v_lead.email), '') is null then
    return jsonb_build_object('refused', 'the lead has no e-mail address to send a quote to');
  elsif v_amount <= 0 then
    return jsonb_build_object('refused', format('a quote must be more than 0, not %s',
                                                app_private.money_words(v_amount, v_tier.currency)));
  elsif v_tier.max_budget_cents is not null and v_amount > v_tier.max_budget_cents then
    return jsonb_build_object('refused', format('%s is over the top of %s''s band (%s): choose a higher tier, or '
                                                'quote within the band', app_private.money_words(v_amount, v_tier.currency),
                                                v_tier.name, app_private.money_words(v_tier.max_budget_cents,
                                                                                     v_tier.currency)));
  elsif v_amount > v_cap then
    return jsonb_build_object('refused', format('%s is over the studio''s cap on a quote (%s, ATELIER_QUOTE_CAP): '
                                                'check the amount, or raise the cap',
                                                app_private.money_words(v_amount, v_tier.currency),
                                                app_private.money_words(v_cap, v_tier.currency)));
  elsif not app_private.stripe_takes(v_tier.currency) then
    return jsonb_build_object('refused', format('Stripe does not take %s: set the studio''s currency with '
                                                '`atelier business set SLUG --currency usd`', upper(v_tier.currency)));
  elsif length(v_note) > 2000 then
    return jsonb_build_object('refused', format('the note to the client is %s characters; keep it under 2,000',
                                                length(v_note)));
  end if;

  select * into v_open from scoped.quotes where lead_id = v_lead.id and status = 'sent' for update;
  if found and v_open.tier = v_tier.id and v_open.amount = v_amount and v_open.note is not distinct from v_note then
    return jsonb_build_object('quote_id', v_open.id, 'created', false);
  end if;
  if v_open.id is not null then
    perform app_private.end_quote(v_open.id, 'superseded');
  end if;
  insert into scoped.quotes (lead_id, tier, amount, currency, note, source)
  values (v_lead.id, v_tier.id, v_amount, v_tier.currency, v_note, p_source)
  returning * into v_quote;
  update scoped.leads
     set status = 'qualified', team_tier = v_tier.id, quote_note = v_note, decided_at = now(),
         quote_amount = case when p_amount is not null then v_amount else quote_amount end
   where id = v_lead.id;
  insert into scoped.notifications (recipient, template, dedupe_key, subject_id, details)
  values (v_lead.email, 'quote_sent', 'quote_sent:' || v_quote.id, v_quote.id,
          jsonb_build_object('lead_id', v_lead.id));
  insert into scoped.audit_log (action, resource_type, resource_id, details)
  values ('quote.sent', 'lead', v_lead.id::text,
          jsonb_build_object('quote_id', v_quote.id, 'tier', v_tier.id, 'amount', v_amount,
                             'currency', v_tier.currency, 'source', p_source, 'superseded', v_open.id));
  perform app_private.note_on_lead(v_lead.id, format('Quote %s: %s, %s. The e-mail goes as soon as its payment '
                                                     'page is open.%s',
                                                     case when v_open.id is null then 'sent' else 'sent again' end,
                                                     v_tier.name, app_private.money_words(v_amount, v_tier.currency),
                                                     case when v_open.id is null then ''
                                                          else ' The earlier quote''s link no longer pays.' end));
  return jsonb_build_object('quote_id', v_quote.id, 'created', true, 'superseded', v_open.id);
end
$$;

-- Declining: the open quote is withdrawn, the lead closed, and one short e-mail queued (once per lead).
create function app_private.close_lead(p_lead_id uuid, p_reason text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_lead scoped.leads;
  v_open uuid;
  v_reason text := left(nullif(btrim(p_reason), ''), 2000);
begin
  select * into v_lead from scoped.leads where id = p_lead_id and deleted_at is null for update;
  if not found then
    return jsonb_build_object('refused', 'there is no such lead (or it is in the trash)');
  elsif v_lead.status = 'converted' or exists (select 1 from scoped.projects where lead_id = v_lead.id) then
    return jsonb_build_object('refused', 'this lead has paid already and is now a project: close the project '
                                         'instead, or ask an admin about a refund');
  elsif v_lead.status = 'closed' then
    return jsonb_build_object('closed', false);
  end if;
  select id into v_open from scoped.quotes where lead_id = v_lead.id and status = 'sent';
  if v_open is not null then
    perform app_private.end_quote(v_open, 'withdrawn');
  end if;
  update scoped.leads set status = 'closed', quote_note = v_reason, decided_at = now() where id = v_lead.id;
  if nullif(btrim(v_lead.email), '') is not null then
    insert into scoped.notifications (recipient, template, dedupe_key, subject_id, details)
    values (v_lead.email, 'lead_declined', 'lead_declined:' || v_lead.id, v_lead.id,
            jsonb_build_object('reason', v_reason))
    on conflict (dedupe_key) do nothing;
  end if;
  insert into scoped.audit_log (action, resource_type, resource_id, details)
  values ('lead.declined', 'lead', v_lead.id::text, jsonb_build_object('reason', v_reason, 'withdrawn', v_open));
  perform app_private.note_on_lead(v_lead.id, 'Declined: the client is told in one short e-mail'
                                              || case when v_reason is null then '.' else ', with the note as the reason.' end);
  return jsonb_build_object('closed', true, 'withdrawn', v_open);
end
$$;

-- What the team's edit of a lead page means. `p_values` holds the page's team-owned values (status, tier_name,
-- quote in the main unit, quote_note). Returns {refused: why, repush: [property]} when nothing may follow from it.
create function app_private.lead_decision(p_lead_id uuid, p_values jsonb, p_cap bigint) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_lead scoped.leads;
  v_status text;
  v_tier smallint;
  v_amount bigint;
  v_quote numeric;
  v_note text;
  v_open uuid;
  v_result jsonb;
begin
  select * into v_lead from scoped.leads where id = p_lead_id for update;
  if not found then
    return '{}'::jsonb;
  end if;
  v_status := coalesce(nullif(p_values->>'status', ''), v_lead.status::text);
  v_note := nullif(btrim(coalesce(p_values->>'quote_note', v_lead.quote_note, '')), '');
  if nullif(btrim(p_values->>'tier_name'), '') is not null then
    select id into v_tier from scoped.tiers where lower(name) = lower(btrim(p_values->>'tier_name'));
    if v_tier is null then
      return jsonb_build_object('refused', format('there is no tier named "%s": choose one of the options',
                                                  left(p_values->>'tier_name', 100)));
    end if;
  else
    v_tier := v_lead.team_tier;
  end if;
  if p_values ? 'quote' then
    begin
      v_quote := (p_values->>'quote')::numeric;
    exception when others then
      return jsonb_build_object('refused', 'the quote is not a number');
    end;
    v_amount := case when v_quote is null then null else round(v_quote * 100)::bigint end;
  else
    v_amount := v_lead.quote_amount;
  end if;

  if v_status not in ('new', 'qualified', 'needs_review', 'converted', 'closed') then
    return jsonb_build_object('refused', format('"%s" is not a lead status Atelier knows', left(v_status, 50)),
                              'repush', jsonb_build_array('Status'));
  elsif v_lead.status = 'converted' then
    if v_status <> 'converted' or v_tier is distinct from v_lead.team_tier
       or v_amount is distinct from v_lead.quote_amount then
      return jsonb_build_object('refused', 'this lead has paid already and is now a project: change the project '
                                           'instead, or ask an admin about a refund',
                                'repush', jsonb_build_array('Status', 'Tier', 'Quote'));
    end if;
    return '{}'::jsonb;
  elsif v_status = 'converted' then
    return jsonb_build_object('refused', 'a lead becomes Converted when the client pays: set Qualified to send a '
                                         'quote instead', 'repush', jsonb_build_array('Status'));
  elsif v_status = 'qualified' then
    if v_lead.status <> 'qualified' or v_tier is distinct from v_lead.team_tier
       or v_amount is distinct from v_lead.quote_amount or v_note is distinct from v_lead.quote_note
       or not exists (select 1 from scoped.quotes where lead_id = v_lead.id) then
      v_result := app_private.issue_quote(v_lead.id, v_tier, v_amount, v_note, 'notion', p_cap);
      if v_result ? 'refused' then
        return v_result;
      end if;
      update scoped.leads set quote_amount = v_amount where id = v_lead.id;
    end if;
    return coalesce(v_result, '{}'::jsonb);
  elsif v_status = 'closed' then
    return app_private.close_lead(v_lead.id, v_note);
  end if;
  -- New or needs review: the team takes the lead back; an open quote no longer stands.
  if v_lead.status::text <> v_status then
    select id into v_open from scoped.quotes where lead_id = v_lead.id and status = 'sent';
    if v_open is not null then
      perform app_private.end_quote(v_open, 'withdrawn');
      perform app_private.note_on_lead(v_lead.id, 'Quote withdrawn: its link no longer pays.');
    end if;
  end if;
  update scoped.leads
     set status = v_status::public.lead_status, team_tier = v_tier,
         quote_amount = case when v_amount > 0 then v_amount else quote_amount end, quote_note = left(v_note, 2000)
   where id = v_lead.id;
  return '{}'::jsonb;
end
$$;

revoke execute on function app_private.enqueue_lead_of_quote, app_private.stripe_takes, app_private.money_words,
  app_private.note_on_lead, app_private.end_quote, app_private.issue_quote, app_private.close_lead,
  app_private.lead_decision from public, anon, authenticated;
grant execute on function app_private.enqueue_lead_of_quote, app_private.stripe_takes, app_private.money_words,
  app_private.note_on_lead, app_private.end_quote, app_private.issue_quote, app_private.close_lead,
  app_private.lead_decision to service_role;


-- What changes elsewhere: a session is found on a quote as on a lead; a quote's payment is checked against the
-- quote; a closed lead's late payment is held; the thanks page knows every session; the funnel counts quotes.

CREATE OR REPLACE FUNCTION app_private.lead_paid_by(p_checkout_session_id text, p_payment_intent_id text)
 RETURNS uuid
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(
    (select l.id from scoped.leads l where p_checkout_session_id is not null
                                       and l.checkout_session_id = p_checkout_session_id),
    (select q.lead_id from scoped.quotes q where p_checkout_session_id is not null
                                          and q.checkout_session_id = p_checkout_session_id),
    (select p.lead_id from scoped.payments p where p.stripe_payment_intent_id = p_payment_intent_id))
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
        'amount_paid', (select round(coalesce(sum(pay.amount - pay.amount_refunded), 0) / 100.0, 2)
                          from scoped.payments pay where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')),
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
        'notion_page_id', d.notion_page_id, 'pushed', d.notion_pushed_hash, 'deleted', d.deleted_at is not null)
      from scoped.deliverables d join scoped.projects p on p.id = d.project_id where d.id = p_id)
  end
$function$;

CREATE OR REPLACE FUNCTION app_private.notification_context(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'client_name', coalesce(l.name, ql.name, split_part(n.recipient, '@', 1)),
    'project_id', p.id, 'project_name', p.name, 'tier_name', coalesce(t.name, qt.name),
    'quote', (select jsonb_build_object('id', q.id, 'token', q.link_token, 'amount', q.amount,
                                        'currency', q.currency, 'note', q.note, 'status', q.status,
                                        'expires_at', q.expires_at, 'features', qt.features,
                                        'description', qt.description)
               where q.id is not null),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date,
                                                                'status', m.status) order by m."order"), '[]')
                     from scoped.milestones m where m.project_id = p.id and m.deleted_at is null),
    'milestone', (select jsonb_build_object('name', m.name, 'completed_at', m.completed_at)
                    from scoped.milestones m where m.id = n.subject_id),
    'deliverable', (select jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category)
                      from scoped.deliverables d where d.id = n.subject_id),
    'sign_in', (select jsonb_build_object('id', s.id, 'expires', floor(extract(epoch from s.expires_at))::bigint)
                  from scoped.portal_sign_ins s where s.id = n.subject_id),
    'payment', (select jsonb_build_object('amount', pay.amount, 'amount_refunded', pay.amount_refunded,
                                          'currency', pay.currency)
                  from scoped.payments pay where pay.project_id = p.id order by pay.created_at desc limit 1),
    'details', n.details)
    from scoped.notifications n
    left join scoped.projects p on p.id = n.project_id
    left join scoped.leads l on l.id = p.lead_id
    left join scoped.tiers t on t.id = p.tier
    left join scoped.quotes q on n.template = 'quote_sent' and q.id = n.subject_id
    left join scoped.tiers qt on qt.id = q.tier
    left join scoped.leads ql on ql.id = coalesce(q.lead_id, case when n.template = 'lead_declined'
                                                                  then n.subject_id end)
   where n.id = p_id
$function$;

CREATE OR REPLACE FUNCTION public.apply_notion_changes(p_entity text, p_data_source_id text, p_changes jsonb, p_watermark timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  c jsonb;
  v_table text := app_private.synced_table(p_entity);
  v_old jsonb;
  v_new jsonb;
  v_before jsonb;
  v_after jsonb;
  v_applied integer := 0;
  v_deleted integer := 0;
  v_restored integer := 0;
  v_overridden integer := 0;
  v_decision jsonb;
begin
  for c in select * from jsonb_array_elements(coalesce(p_changes->'changes', '[]'::jsonb)) loop
    execute format('select to_jsonb(t) from scoped.%I t where id = $1 for update', v_table)
      into v_old using (c->>'id')::uuid;
    continue when v_old is null;

    if (c->>'trashed')::boolean is true and v_old->>'deleted_at' is null then
      execute format('update scoped.%I set deleted_at = now() where id = $1', v_table) using (c->>'id')::uuid;
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('notion.deleted', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id'));
      v_deleted := v_deleted + 1;
    elsif (c->>'trashed')::boolean is false and v_old->>'deleted_at' is not null then
      execute format('update scoped.%I set deleted_at = null where id = $1', v_table) using (c->>'id')::uuid;
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('notion.restored', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id'));
      v_restored := v_restored + 1;
    end if;

    if c ? 'values' and c->>'pulled_hash' is distinct from v_old->>'notion_pulled_hash' then
      if p_entity = 'lead' then
        -- The team's decision on a lead (20261206000100): a quote, a decline, or values kept for the next one.
        v_decision := app_private.lead_decision((c->>'id')::uuid, c->'values', (c->>'quote_cap')::bigint);
        update scoped.leads set notion_pulled_hash = c->>'pulled_hash' where id = (c->>'id')::uuid;
        if v_decision ? 'refused' and v_old->>'notion_page_id' is not null then
          insert into scoped.notion_comments (entity, record_id, page_id, body)
          values ('lead', (c->>'id')::uuid, v_old->>'notion_page_id',
                  left(format('Atelier did not act on this edit, and nothing was sent to the client: %s.',
                              v_decision->>'refused'), 2000));
          insert into scoped.audit_log (action, resource_type, resource_id, details)
          values ('lead.decision_refused', 'lead', c->>'id',
                  jsonb_build_object('values', c->'values', 'reason', v_decision->>'refused'));
        end if;
        if jsonb_array_length(coalesce(v_decision->'repush', '[]'::jsonb)) > 0 then
          update scoped.leads set notion_pushed_hash = ((coalesce(notion_pushed_hash, '{}')::jsonb)
                                                        - array(select jsonb_array_elements_text(v_decision->'repush')))::text
           where id = (c->>'id')::uuid;
          perform app_private.enqueue_sync('lead', (c->>'id')::uuid);
        end if;
      elsif p_entity = 'project' then
        update scoped.projects set status = coalesce((c->'values'->>'status')::public.project_status, status),
               name = coalesce(nullif(btrim(c->'values'->>'name'), ''), name),
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      elsif p_entity = 'client' then
        update scoped.clients
           set project_address = case when c->'values' ? 'project_address'
                                      then nullif(btrim(c->'values'->>'project_address'), '')
                                      else project_address end,
               name = case when c->'values' ? 'name' then left(nullif(btrim(c->'values'->>'name'), ''), 200)
                           else name end,
               phone = case when c->'values' ? 'phone' then left(nullif(btrim(c->'values'->>'phone'), ''), 50)
                            else phone end,
               company = case when c->'values' ? 'company' then left(nullif(btrim(c->'values'->>'company'), ''), 200)
                              else company end,
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      elsif p_entity = 'milestone' then
        update scoped.milestones
           set status = coalesce((c->'values'->>'status')::public.milestone_status, status),
               completed_at = case
                 when c->'values' ? 'completed_at' and c->'values'->>'completed_at' is not null
                   then (c->'values'->>'completed_at')::timestamptz
                 when coalesce(c->'values'->>'status', status::text) = 'completed'
                   then coalesce(completed_at, now())
                 else null end,
               due_date = case when c->'values' ? 'due_date' then (c->'values'->>'due_date')::date
                               else due_date end,
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      end if;
      execute format('select to_jsonb(t) from scoped.%I t where id = $1', v_table) into v_new
        using (c->>'id')::uuid;
      v_before := (select jsonb_object_agg(k, v_old->k) from jsonb_object_keys(c->'values') k);
      v_after := (select jsonb_object_agg(k, v_new->k) from jsonb_object_keys(c->'values') k);
      if v_after is distinct from v_before then
        -- The owner's value wins; the one it replaced is kept here.
        insert into scoped.audit_log (action, resource_type, resource_id, details)
        values ('notion.changed', p_entity, c->>'id', jsonb_build_object('new', v_after, 'old', v_before));
        v_applied := v_applied + 1;
      end if;
    end if;

    if jsonb_array_length(coalesce(c->'repush', '[]'::jsonb)) > 0 then
      -- A person changed a field Postgres owns: Postgres wins, Notion's value is kept in the audit log,
      -- and forgetting what we pushed for it sends our value again.
      execute format('update scoped.%I set notion_pushed_hash = ((coalesce(notion_pushed_hash, ''{}'')::jsonb)'
                     ' - $2)::text where id = $1', v_table)
        using (c->>'id')::uuid, array(select jsonb_array_elements_text(c->'repush'));
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('notion.overridden', p_entity, c->>'id', jsonb_build_object('notion_values', c->'lost'));
      if nullif(c->>'comment', '') is not null and v_old->>'notion_page_id' is not null then
        insert into scoped.notion_comments (entity, record_id, page_id, body)
        values (p_entity::public.sync_entity, (c->>'id')::uuid, v_old->>'notion_page_id', left(c->>'comment', 2000));
      end if;
      perform app_private.enqueue_sync(p_entity::public.sync_entity, (c->>'id')::uuid);
      v_overridden := v_overridden + 1;
    end if;
  end loop;

  insert into scoped.sync_state as s (data_source_id, entity, watermark)
  values (p_data_source_id, p_entity::public.sync_entity, p_watermark)
  on conflict (data_source_id) do update
    set watermark = greatest(s.watermark, excluded.watermark)
    where s.watermark is distinct from greatest(s.watermark, excluded.watermark);

  return jsonb_build_object('applied', v_applied, 'deleted', v_deleted, 'restored', v_restored,
                            'overridden', v_overridden);
end
$function$;

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
      when lower(p_currency) <> v_currency or p_amount < v_price then
        format('paid %s %s, under the %s of %s %s: no work starts until the owner decides', p_amount,
               lower(p_currency), case when v_quote.id is null then 'tier price' else 'quote' end, v_price,
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

  v_mismatch := p_amount <> v_price;

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
    'project_name', v_project.name,
    'tier_name', (select name from scoped.tiers where id = v_project.tier),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'due_date', m.due_date)
                                             order by m."order"), '[]'::jsonb)
                     from (select * from scoped.milestones where project_id = v_project.id and deleted_at is null
                            order by "order" limit 3) m));
end
$function$;

CREATE OR REPLACE FUNCTION public.report_funnel(p_from date, p_to date)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  v_range tstzrange := app_private.report_bounds(p_from, p_to);
begin
  perform app_private.report_reader();
  return (
    with counted as (
      select l.recommended_tier as tier, count(*) as leads,
             count(*) filter (where not l.needs_review) as qualified,
             count(*) filter (where l.needs_review) as needs_review,
             count(*) filter (where fq.created_at is not null) as quoted,
             percentile_cont(0.5) within group (order by extract(epoch from fq.created_at - l.created_at) / 3600.0)
               filter (where fq.created_at is not null) as hours_to_quote,
             count(p.id) as paid
        from scoped.leads l
        left join scoped.projects p on p.lead_id = l.id and p.deleted_at is null
        left join lateral (select min(q.created_at) as created_at from scoped.quotes q where q.lead_id = l.id) fq
          on true
       where l.deleted_at is null and l.created_at >= lower(v_range) and l.created_at < upper(v_range)
       group by l.recommended_tier
    )
    select coalesce(jsonb_agg(jsonb_build_object(
             'tier', t.id, 'tier_name', t.name, 'leads', coalesce(c.leads, 0), 'qualified', coalesce(c.qualified, 0),
             'needs_review', coalesce(c.needs_review, 0), 'quoted', coalesce(c.quoted, 0),
             'hours_to_quote', round(c.hours_to_quote::numeric, 1), 'paid', coalesce(c.paid, 0),
             'conversion', case when coalesce(c.leads, 0) > 0 then round(c.paid::numeric / c.leads, 4) end)
           order by t.id), '[]'::jsonb)
      from scoped.tiers t left join counted c on c.tier = t.id
  );
end
$function$;

drop function public.claim_notifications(integer, integer);
CREATE FUNCTION public.claim_notifications(p_limit integer, p_lease_seconds integer, p_templates text[] DEFAULT NULL::text[])
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_claimed jsonb;
begin
  with due as (
    select n.id from scoped.notifications n
     where n.status = 'pending' and n.next_attempt_at <= now()
       and (p_templates is null or n.template = any (p_templates))
       -- A quote's e-mail waits until its payment page is open (Stripe may be down for a while).
       and not exists (select 1 from scoped.quotes q where n.template = 'quote_sent' and q.id = n.subject_id
                                                        and q.checkout_session_id is null)
     order by n.next_attempt_at, n.created_at limit p_limit for update skip locked
  ), claimed as (
    update scoped.notifications n
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
$function$;
revoke execute on function public.claim_notifications from public, anon, authenticated;
grant execute on function public.claim_notifications to service_role;


-- `atelier quote send`: the same decision as Notion's "Qualified", from the CLI.
create function public.send_quote(p_lead_id uuid, p_tier smallint, p_amount bigint, p_note text, p_cap bigint)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_result jsonb;
begin
  if p_tier is not null and p_tier not between 1 and 4 then
    return jsonb_build_object('refused', format('there is no tier %s: tiers are 1 to 4', p_tier));
  end if;
  v_result := app_private.issue_quote(p_lead_id, p_tier, p_amount, p_note, 'cli', p_cap);
  if v_result ? 'refused' then
    insert into scoped.audit_log (action, resource_type, resource_id, details)
    values ('lead.decision_refused', 'lead', p_lead_id::text,
            jsonb_build_object('source', 'cli', 'tier', p_tier, 'amount', p_amount, 'reason', v_result->>'refused'));
  end if;
  return v_result;
end
$$;

-- Quotes whose Checkout session is still to be opened, oldest first, with what the session needs.
create function public.quotes_to_open(p_limit integer) returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', q.id, 'lead_id', q.lead_id, 'email', l.email, 'tier', q.tier, 'tier_name', t.name,
           'amount', q.amount, 'currency', q.currency, 'renewals', q.renewals, 'token', q.link_token)
           order by q.created_at), '[]'::jsonb)
    from (select * from scoped.quotes where status = 'sent' and checkout_session_id is null
           order by created_at limit greatest(1, least(p_limit, 100))) q
    join scoped.leads l on l.id = q.lead_id
    join scoped.tiers t on t.id = q.tier
$$;

-- The session Stripe opened for a quote. Kept whatever the quote's state is now: one superseded meanwhile then has
-- its session expired like any other. Returns {opened, status}.
create function public.quote_session_opened(p_quote_id uuid, p_session_id text, p_url text,
                                            p_expires_at timestamptz) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_quote scoped.quotes;
begin
  update scoped.quotes set checkout_session_id = p_session_id, checkout_url = p_url, expires_at = p_expires_at
   where id = p_quote_id and checkout_session_id is null
  returning * into v_quote;
  if v_quote.id is null then
    select * into v_quote from scoped.quotes where id = p_quote_id;
    return jsonb_build_object('opened', false, 'status', v_quote.status,
                              'same', v_quote.checkout_session_id is not distinct from p_session_id);
  end if;
  return jsonb_build_object('opened', true, 'status', v_quote.status);
end
$$;

-- Sessions of quotes that no longer stand (superseded, withdrawn), still to be expired through Stripe's API.
create function public.quote_sessions_to_close(p_limit integer) returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', q.id, 'checkout_session_id', q.checkout_session_id,
                                               'status', q.status) order by q.updated_at), '[]'::jsonb)
    from (select * from scoped.quotes
           where status in ('superseded', 'withdrawn') and checkout_session_id is not null
             and session_closed_at is null
           order by updated_at limit greatest(1, least(p_limit, 100))) q
$$;

create function public.quote_session_closed(p_quote_id uuid) returns void
language sql
set search_path = ''
as $$
  update scoped.quotes set session_closed_at = now() where id = p_quote_id and session_closed_at is null
$$;

-- What the client's link to a quote shows (`GET /quote/{token}`): never the quote's id.
create function public.quote_page(p_token text) returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'state', case when q.status = 'sent' and q.checkout_session_id is null then 'opening'
                  when q.status = 'sent' and q.expires_at <= now() then 'expired'
                  else q.status end,
    'first_name', split_part(btrim(l.name), ' ', 1),
    'tier', q.tier, 'tier_name', t.name, 'description', t.description, 'features', t.features,
    'amount', q.amount, 'currency', q.currency, 'note', q.note, 'renewals', q.renewals,
    'checkout_url', case when q.status = 'sent' and q.expires_at > now() then q.checkout_url end,
    'expires_at', q.expires_at, 'checkout_session_id', q.checkout_session_id,
    'quote_id', q.id, 'lead_id', q.lead_id, 'email', l.email,
    'newer_token', (select n.link_token from scoped.quotes n
                     where n.lead_id = q.lead_id and n.status = 'sent' and n.id <> q.id),
    'lead_closed', l.status = 'closed', 'paid', l.status = 'converted')
    from scoped.quotes q join scoped.leads l on l.id = q.lead_id join scoped.tiers t on t.id = q.tier
   where q.link_token = p_token and p_token ~ '^[0-9a-f]{64}$'
$$;

-- A fresh session for an expired quote, once per expiry: `p_renewal` is the count it makes (renewals + 1); a second
-- request for the same expiry finds the quote open again and is given its link.
create function public.renew_quote(p_token text, p_renewal integer, p_session_id text, p_url text,
                                   p_expires_at timestamptz) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_quote scoped.quotes;
begin
  select * into v_quote from scoped.quotes where link_token = p_token for update;
  if not found then
    return jsonb_build_object('renewed', false, 'state', 'unknown');
  end if;
  if v_quote.status in ('expired', 'sent') and v_quote.renewals = p_renewal - 1
     and (v_quote.status = 'expired' or v_quote.expires_at <= now())
     and not exists (select 1 from scoped.quotes o where o.lead_id = v_quote.lead_id and o.status = 'sent'
                                                   and o.id <> v_quote.id) then
    update scoped.quotes
       set status = 'sent', renewals = p_renewal, checkout_session_id = p_session_id, checkout_url = p_url,
           expires_at = p_expires_at
     where id = v_quote.id
    returning * into v_quote;
    insert into scoped.audit_log (action, resource_type, resource_id, details)
    values ('quote.renewed', 'lead', v_quote.lead_id::text,
            jsonb_build_object('quote_id', v_quote.id, 'renewals', p_renewal));
    perform app_private.note_on_lead(v_quote.lead_id, 'The client asked for a fresh payment link for the expired '
                                                      'quote; it is open for the same amount.');
    return jsonb_build_object('renewed', true, 'checkout_url', v_quote.checkout_url);
  end if;
  return jsonb_build_object('renewed', false, 'state', v_quote.status,
                            'checkout_url', case when v_quote.status = 'sent' and v_quote.expires_at > now()
                                                 then v_quote.checkout_url end);
end
$$;

-- `atelier quote list`: newest first, with the lead and where the quote stands.
create function public.quote_list(p_status text, p_limit integer) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_status is not null and p_status not in ('sent', 'paid', 'expired', 'withdrawn', 'superseded') then
    raise exception 'no quote status "%": use sent, paid, expired, withdrawn or superseded', p_status
      using errcode = '22023';
  end if;
  return (
    select coalesce(jsonb_agg(jsonb_build_object(
             'id', q.id, 'lead_id', q.lead_id, 'name', l.name, 'email', l.email, 'tier', q.tier,
             'tier_name', t.name, 'amount', q.amount, 'currency', q.currency, 'status', q.status,
             'source', q.source, 'checkout_session_id', q.checkout_session_id, 'expires_at', q.expires_at,
             'renewals', q.renewals, 'created_at', q.created_at,
             'mail', (select n.status from scoped.notifications n
                       where n.template = 'quote_sent' and n.subject_id = q.id)) order by q.created_at desc),
           '[]'::jsonb)
      from (select * from scoped.quotes where p_status is null or status = p_status
             order by created_at desc limit greatest(1, least(coalesce(p_limit, 50), 1000))) q
      join scoped.leads l on l.id = q.lead_id
      join scoped.tiers t on t.id = q.tier);
end
$$;

revoke execute on function public.send_quote, public.quotes_to_open, public.quote_session_opened,
  public.quote_sessions_to_close, public.quote_session_closed, public.quote_page, public.renew_quote,
  public.quote_list from public, anon, authenticated;
grant execute on function public.send_quote, public.quotes_to_open, public.quote_session_opened,
  public.quote_sessions_to_close, public.quote_session_closed, public.quote_page, public.renew_quote,
  public.quote_list to service_role;
