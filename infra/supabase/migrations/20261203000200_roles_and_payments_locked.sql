-- Roles that cannot be climbed, payments that fulfil only what Atelier offered, and soft-deleted rows out of a
-- client's sight (issue 29: items 1, 2, 7 and 12).
-- Rollback: infra/supabase/rollbacks/20261203000200_roles_and_payments_locked.down.sql

-- 1. Identity. Only an admin (or the backend: the service role, the functions' owner) changes who a user is: their
-- e-mail, id or type. A team member who could change an admin's e-mail to their own could sign in as the admin.
create or replace function app_private.guard_user_type() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user not in ('anon', 'authenticated') then
    return new;
  end if;
  if tg_op = 'INSERT' then
    if new.user_type in ('team', 'admin') and not app_private.is_admin() then
      raise exception 'only an admin can create a % user', new.user_type using errcode = '42501';
    end if;
    return new;
  end if;
  if new.user_type is distinct from old.user_type and old.id = auth.uid() then
    raise exception 'nobody can change their own user_type' using errcode = '42501';
  end if;
  if (new.user_type, new.email, new.id) is distinct from (old.user_type, old.email, old.id)
     and not app_private.is_admin() then
    raise exception 'only an admin can change a user''s e-mail, id or user_type' using errcode = '42501';
  end if;
  return new;
end
$$;

-- A client row belongs to a client: never to a team member or an admin (whose portal session would carry a staff
-- `sub`), whoever writes it. Only an admin or the backend attaches a client row to a user, or moves it to another.
create or replace function app_private.guard_client_user() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (tg_op = 'INSERT' or new.user_id is distinct from old.user_id) then
    if current_user in ('anon', 'authenticated') and not app_private.is_admin() then
      raise exception 'only an admin can attach a client row to a user' using errcode = '42501';
    end if;
    if exists (select 1 from public.users u where u.id = new.user_id and u.user_type in ('team', 'admin')) then
      raise exception 'a client row is never attached to a team or admin user' using errcode = '23514';
    end if;
  end if;
  return new;
end
$$;
create trigger clients_guard_user before insert or update on public.clients for each row
  execute function app_private.guard_client_user();
revoke execute on function app_private.guard_client_user from public, anon, authenticated;

-- 12. A client sees nothing soft-deleted: not the record, and not what hangs from it. The team and admins still do.
create or replace function app_private.my_client_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select c.id from public.clients c where c.user_id = auth.uid() and c.deleted_at is null
$$;

create or replace function app_private.my_project_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select p.id from public.projects p
  join public.clients c on c.id = p.client_id
  where c.user_id = auth.uid() and p.deleted_at is null and c.deleted_at is null
$$;

alter policy clients_select on public.clients
  using (app_private.is_team() or (user_id = auth.uid() and deleted_at is null));
alter policy milestones_select on public.milestones
  using (app_private.is_team() or (project_id in (select app_private.my_project_ids()) and deleted_at is null));
alter policy deliverables_select on public.deliverables
  using (app_private.is_team() or (project_id in (select app_private.my_project_ids()) and deleted_at is null));

-- 1. The portal signs in clients only: a staff address gets no link, and an old link of one opens nothing.
create or replace function public.start_portal_sign_in(p_email text, p_source_ip text, p_ttl_seconds integer,
                                                       p_per_address integer, p_per_source integer,
                                                       p_send boolean default true) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_email text := lower(btrim(p_email));
  v_user uuid;
  v_limited boolean;
  v_row public.portal_sign_ins;
begin
  select u.id into v_user from public.users u
   where lower(u.email) = v_email and u.user_type in ('kaa_client', 'sage_client')
     and exists (select 1 from public.clients c where c.user_id = u.id and c.deleted_at is null);
  v_limited := (select count(*) from public.portal_sign_ins
                 where email = v_email and created_at > now() - interval '15 minutes') >= p_per_address
            or (p_source_ip is not null and (select count(*) from public.portal_sign_ins
                 where source_ip = p_source_ip and created_at > now() - interval '15 minutes') >= p_per_source);
  if v_limited then  -- refused: nothing recorded, nothing sent (the requests already counted keep it refused)
    return jsonb_build_object('id', null, 'expires', null, 'known', v_user is not null, 'limited', true);
  end if;
  insert into public.portal_sign_ins (email, user_id, source_ip, expires_at, sent)
  values (left(v_email, 320), v_user, p_source_ip, now() + make_interval(secs => p_ttl_seconds),
          v_user is not null and p_send)
  returning * into v_row;
  if v_row.sent then
    insert into public.notifications (recipient, template, dedupe_key, subject_id)
    select u.email, 'portal_sign_in', 'portal_sign_in:' || v_row.id, v_row.id from public.users u where u.id = v_user;
  end if;
  return jsonb_build_object('id', v_row.id, 'expires', floor(extract(epoch from v_row.expires_at))::bigint,
                            'known', v_user is not null, 'limited', v_limited);
end
$$;

create or replace function public.use_portal_sign_in(p_id uuid) returns jsonb
language sql
set search_path = ''
as $$
  with used as (
    update public.portal_sign_ins s set used_at = now()
     where s.id = p_id and s.used_at is null and s.expires_at > now() and s.user_id is not null
    returning s.user_id)
  select jsonb_build_object('user_id', u.id, 'email', u.email) from used join public.users u on u.id = used.user_id
   where u.user_type in ('kaa_client', 'sage_client')
$$;

-- 2. A payment Atelier cannot stand behind waits for the owner, with the reason: a session Atelier did not open, an
-- amount under the price, an address that belongs to the team. `atelier check` lists them until refunded.
alter table public.payments add column review_reason text check (length(review_reason) <= 500);

create or replace function public.payments_held() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'amount', p.amount, 'currency', p.currency,
                                               'session', p.stripe_checkout_session_id, 'reason', p.review_reason,
                                               'created_at', p.created_at) order by p.created_at), '[]'::jsonb)
    from public.payments p where p.review_reason is not null and p.project_id is null and p.status <> 'refunded'
$$;
revoke execute on function public.payments_held from public, anon, authenticated;
grant execute on function public.payments_held to service_role;

-- The lead a payment is for: a Checkout session's is the lead Atelier opened that session for, found by the session
-- id (never by metadata, which anyone paying on another of the studio's links can set); any other event's is its
-- payment's, once a session has named it.
create or replace function app_private.lead_paid_by(p_checkout_session_id text, p_payment_intent_id text)
returns uuid
language sql stable
set search_path = ''
as $$
  select coalesce(
    (select l.id from public.leads l where p_checkout_session_id is not null
                                       and l.checkout_session_id = p_checkout_session_id),
    (select p.lead_id from public.payments p where p.stripe_payment_intent_id = p_payment_intent_id))
$$;
revoke execute on function app_private.lead_paid_by from public, anon, authenticated;
grant execute on function app_private.lead_paid_by to service_role;

-- p_kind is what Python decided the event means:
--   fulfil   checkout paid: user, client, project, milestones, payment, lead converted
--   pending  checkout completed, payment still processing
--   failed   asynchronous payment failed; the lead stays open
--   confirm  payment_intent.succeeded
--   refund   charge.refunded (full or partial)
--   ignore   acknowledged, not applied (p_reason says why, e.g. livemode)
-- p_lead_id and p_tier are what the event's metadata claims: kept in the audit for reconciliation, never trusted.
-- p_name is the payer's name as Stripe has it: it names a new client, and fills an empty name, never replaces one.
drop function public.apply_stripe_event(text, text, text, text, uuid, smallint, text, text, text, text, bigint, bigint,
                                        text);
create function public.apply_stripe_event(
  p_event_id text,
  p_event_type text,
  p_kind text,
  p_reason text,
  p_lead_id uuid,
  p_tier smallint,
  p_checkout_session_id text,
  p_payment_intent_id text,
  p_customer_id text,
  p_email text,
  p_amount bigint,
  p_amount_refunded bigint,
  p_currency text,
  p_name text default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_lead public.leads;
  v_tier public.tiers;
  v_payment public.payments;
  v_user public.users;
  v_client_id uuid;
  v_project_id uuid;
  v_created boolean := false;
  v_mismatch boolean := false;
  v_returning boolean := false;
  v_full_refund boolean;
  v_held text;
begin
  if p_kind not in ('fulfil', 'pending', 'failed', 'confirm', 'refund', 'ignore') then
    raise exception 'unknown Stripe event kind %', p_kind using errcode = '22023';
  end if;

  insert into public.inbound_events (source, event_id, event_type, outcome, reason)
  values ('stripe', p_event_id, p_event_type,
          case when p_kind = 'ignore' then 'ignored' else 'applied' end::public.inbound_outcome, p_reason)
  on conflict (source, event_id) do nothing;
  if not found then
    return jsonb_build_object('outcome', 'duplicate');
  end if;
  if p_kind = 'ignore' then
    return jsonb_build_object('outcome', 'ignored', 'reason', p_reason);
  end if;

  -- Every event about one lead takes its turn: a completed session and its async success never race.
  select * into v_lead from public.leads
   where id = app_private.lead_paid_by(case when p_kind in ('fulfil', 'pending', 'failed')
                                            then p_checkout_session_id end, p_payment_intent_id)
   for update;
  select * into v_tier from public.tiers where id = coalesce(v_lead.recommended_tier, p_tier);

  if p_kind = 'refund' then
    v_full_refund := p_amount_refunded >= p_amount;
    v_payment := app_private.upsert_payment(p_payment_intent_id, null, p_customer_id, v_lead.id, p_amount,
      p_amount_refunded, p_currency, case when v_full_refund then 'refunded' else 'succeeded' end::public.payment_state,
      v_tier.id);
    if v_payment.status = 'refunded' and v_payment.project_id is not null then
      update public.projects set payment_status = 'refunded'
       where id = v_payment.project_id and payment_status <> 'refunded';
    end if;
    insert into public.audit_log (action, resource_type, resource_id, details)
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
      when lower(p_currency) <> v_tier.currency or p_amount < v_tier.price_cents then
        format('paid %s %s, under the tier price of %s %s: no work starts until the owner decides', p_amount,
               lower(p_currency), v_tier.price_cents, v_tier.currency)
      when v_user.user_type in ('team', 'admin') then
        format('the address %s belongs to a member of the team, so no client is attached to it', v_lead.email)
    end;
  end if;

  if v_held is not null then
    update public.payments set review_reason = left(v_held, 500) where id = v_payment.id;
    update public.inbound_events set reason = left(v_held, 500) where source = 'stripe' and event_id = p_event_id;
    insert into public.audit_log (action, resource_type, resource_id, details)
    values (case when v_lead.id is null then 'payment.unmatched' else 'payment.held' end, 'payment',
            v_payment.id::text, jsonb_build_object('event_id', p_event_id, 'lead_id', v_lead.id,
                                                   'metadata_lead_id', p_lead_id, 'reason', v_held));
    return jsonb_build_object('outcome', 'applied', 'payment_id', v_payment.id, 'payment_status', v_payment.status,
                              'project_id', null, 'unmatched', v_lead.id is null, 'held', v_held);
  end if;

  if p_kind in ('pending', 'failed', 'confirm') or v_lead.id is null or v_payment.status = 'refunded' then
    if v_payment.project_id is not null and v_payment.status = 'succeeded' then
      update public.projects set payment_status = 'paid'
       where id = v_payment.project_id and payment_status = 'pending';
    end if;
    insert into public.audit_log (action, resource_type, resource_id, details)
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
  v_returning := exists (select 1 from public.projects p join public.clients c on c.id = p.client_id
                          where c.user_id = v_user.id and p.lead_id <> v_lead.id);
  -- The client's name (clients.name: 20261203000600) is the lead's, else the payer's as Stripe has it; the team's in
  -- Notion is never replaced, and the payer's fills it only where it is empty.
  insert into public.clients (user_id, tier, project_address, name)
  values (v_user.id, v_tier.id, v_lead.project_address,
          left(coalesce(nullif(btrim(v_lead.name), ''), nullif(btrim(p_name), '')), 200))
  on conflict (user_id) do update set name = left(nullif(btrim(p_name), ''), 200)
    where public.clients.name is null and nullif(btrim(p_name), '') is not null;
  select id into v_client_id from public.clients where user_id = v_user.id;

  v_mismatch := p_amount <> v_tier.price_cents;

  insert into public.projects (client_id, lead_id, tier, status, name, payment_status, needs_review, review_reason)
  values (v_client_id, v_lead.id, v_tier.id, 'onboarding',
          coalesce(nullif(v_lead.project_address, ''), v_lead.name) || ' - ' || v_tier.name, 'paid',
          v_mismatch or v_returning,
          case when v_mismatch then format('paid %s %s, tier price is %s %s', p_amount, lower(p_currency),
                                           v_tier.price_cents, v_tier.currency)
               when v_returning then format('paid under the address of an existing client (%s): confirm with them '
                                            'that this project is theirs', v_lead.email) end)
  on conflict (lead_id) do nothing
  returning id into v_project_id;
  v_created := v_project_id is not null;

  if v_created then
    insert into public.milestones (project_id, tier, name, "order", due_date)
    select v_project_id, t.tier, t.name, t."order", current_date + t.due_offset_days
      from public.milestone_templates t where t.tier = v_tier.id;
    if v_mismatch then
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('payment.amount_mismatch', 'project', v_project_id::text,
              jsonb_build_object('event_id', p_event_id, 'amount', p_amount, 'currency', lower(p_currency),
                                 'tier_price', v_tier.price_cents, 'tier_currency', v_tier.currency));
    end if;
  else
    select id into v_project_id from public.projects where lead_id = v_lead.id;
    v_mismatch := false;  -- reported by the event that created the project
  end if;

  update public.payments set project_id = v_project_id where id = v_payment.id and project_id is null;
  update public.leads set status = 'converted' where id = v_lead.id and status <> 'converted';

  insert into public.audit_log (user_id, action, resource_type, resource_id, details)
  values (v_user.id, case when v_created then 'payment.fulfilled' else 'payment.already_fulfilled' end, 'project',
          v_project_id::text, jsonb_build_object('event_id', p_event_id, 'payment_intent', p_payment_intent_id,
                                                 'amount', p_amount, 'currency', lower(p_currency),
                                                 'stripe_email', p_email, 'metadata_lead_id', p_lead_id,
                                                 'returning_client', v_returning));
  return jsonb_build_object('outcome', 'applied', 'project_id', v_project_id, 'created_project', v_created,
                            'payment_id', v_payment.id, 'payment_status', v_payment.status,
                            'amount_mismatch', v_mismatch);
end
$$;

revoke execute on function public.apply_stripe_event from public, anon, authenticated;
grant execute on function public.apply_stripe_event to service_role;

-- 1. A client page typed in Notion with a staff address is left for the team with the reason; nothing is attached.
create or replace function public.adopt_notion_client(p_page_id text, p_email text, p_name text, p_tier_name text,
                                                      p_project_address text, p_dry_run boolean) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_email text := lower(btrim(coalesce(p_email, '')));
  v_user public.users;
  v_client public.clients;
  v_tier smallint;
begin
  if v_email !~ '^[^@\s]+@[^@\s]+$' then
    return jsonb_build_object('action', 'skip', 'reason', 'give it the client''s e-mail address: clients are matched by it');
  end if;
  select * into v_user from public.users where email = v_email;
  if v_user.user_type in ('team', 'admin') then
    if not p_dry_run then
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.client_refused', 'user', v_user.id::text, jsonb_build_object('page_id', p_page_id));
    end if;
    return jsonb_build_object('action', 'skip', 'reason', format(
      '%s belongs to a member of the team, and a client is never attached to one: give the client''s own address',
      v_email));
  end if;
  if v_user.id is not null then
    select * into v_client from public.clients where user_id = v_user.id;
  end if;
  if v_client.id is not null then
    if v_client.notion_page_id is not null and v_client.notion_page_id <> p_page_id then
      return jsonb_build_object('action', 'skip', 'id', v_client.id, 'reason',
        format('%s already has a page in Clients: use that one, and delete this one', v_email));
    end if;
    if not p_dry_run then
      perform public.link_notion_page('client', v_client.id, p_page_id);
    end if;
    return jsonb_build_object('action', 'link', 'id', v_client.id, 'reason', format('the client %s', v_email));
  end if;
  select id into v_tier from public.tiers where name = btrim(coalesce(p_tier_name, ''));
  if v_tier is null then
    v_tier := (select l.recommended_tier from public.leads l where l.email = v_email and l.deleted_at is null
                order by l.created_at desc limit 1);
  end if;
  if v_tier is null then
    return jsonb_build_object('action', 'skip', 'reason',
      format('no client or lead has the address %s: give the page a Tier to add them as a new client', v_email));
  end if;
  if p_dry_run then
    return jsonb_build_object('action', 'create', 'reason', format('a new client %s', v_email));
  end if;
  if v_user.id is null then
    insert into public.users (email, user_type, tier) values (v_email, 'kaa_client', v_tier) returning * into v_user;
  end if;
  insert into public.clients (user_id, tier, project_address, notion_page_id, name)
  values (v_user.id, v_tier, nullif(btrim(coalesce(p_project_address, '')), ''), p_page_id,
          left(nullif(btrim(coalesce(p_name, '')), ''), 200))
  returning * into v_client;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('notion.adopted', 'client', v_client.id::text, jsonb_build_object('page_id', p_page_id, 'created', true));
  return jsonb_build_object('action', 'create', 'id', v_client.id, 'reason', format('a new client %s', v_email));
end
$$;
