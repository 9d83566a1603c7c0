-- Undoes 20261203000200_roles_and_payments_locked.sql: the functions and policies as earlier migrations left them.
drop trigger if exists clients_guard_user on public.clients;
drop function if exists app_private.guard_client_user();
drop function if exists public.payments_held();
drop function if exists app_private.lead_paid_by(text, text);
alter table public.payments drop column if exists review_reason;
alter policy clients_select on public.clients using (app_private.is_team() or (user_id = auth.uid()));
alter policy milestones_select on public.milestones
  using (app_private.is_team() or (project_id in (select app_private.my_project_ids())));
alter policy deliverables_select on public.deliverables
  using (app_private.is_team() or (project_id in (select app_private.my_project_ids())));

create or replace function app_private.my_client_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select c.id from public.clients c where c.user_id = auth.uid()
$$;
create or replace function app_private.my_project_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select p.id from public.projects p
  join public.clients c on c.id = p.client_id
  where c.user_id = auth.uid()
$$;
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
  elsif new.user_type is distinct from old.user_type then
    if old.id = auth.uid() then
      raise exception 'nobody can change their own user_type' using errcode = '42501';
    end if;
    if not app_private.is_admin() then
      raise exception 'only an admin can change a user_type' using errcode = '42501';
    end if;
  end if;
  return new;
end
$$;
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
   where lower(u.email) = v_email and exists (select 1 from public.clients c where c.user_id = u.id);
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
$$;
drop function if exists public.apply_stripe_event(text, text, text, text, uuid, smallint, text, text, text, text,
                                                  bigint, bigint, text, text);
create or replace function public.apply_stripe_event(
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
  p_currency text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_lead public.leads;
  v_tier public.tiers;
  v_payment public.payments;
  v_user_id uuid;
  v_client_id uuid;
  v_project_id uuid;
  v_created boolean := false;
  v_mismatch boolean := false;
  v_full_refund boolean;
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
  if p_lead_id is not null then
    select * into v_lead from public.leads where id = p_lead_id for update;
  end if;
  select * into v_tier from public.tiers where id = coalesce(p_tier, v_lead.recommended_tier);

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

  if p_kind in ('pending', 'failed', 'confirm') or v_lead.id is null or v_payment.status = 'refunded' then
    if v_payment.project_id is not null and v_payment.status = 'succeeded' then
      update public.projects set payment_status = 'paid'
       where id = v_payment.project_id and payment_status = 'pending';
    end if;
    insert into public.audit_log (action, resource_type, resource_id, details)
    values (case
              when p_kind = 'fulfil' and v_lead.id is null then 'payment.unmatched'
              when p_kind = 'fulfil' then 'payment.refunded_before_fulfilment'
              else 'payment.' || p_kind end,
            'payment', v_payment.id::text,
            jsonb_build_object('event_id', p_event_id, 'lead_id', p_lead_id, 'status', v_payment.status));
    if p_kind = 'fulfil' and v_lead.id is null then
      update public.inbound_events set reason = 'no lead ' || coalesce(p_lead_id::text, '(none in metadata)')
       where source = 'stripe' and event_id = p_event_id;
    end if;
    return jsonb_build_object('outcome', 'applied', 'payment_id', v_payment.id, 'payment_status', v_payment.status,
                              'project_id', v_payment.project_id, 'unmatched', p_kind = 'fulfil' and v_lead.id is null);
  end if;

  -- Fulfil.
  insert into public.users as u (email, user_type, tier)
  values (v_lead.email, case when v_tier.id = 4 then 'kaa_client' else 'sage_client' end::public.user_type, v_tier.id)
  on conflict (email) do update set tier = excluded.tier where u.tier is distinct from excluded.tier
  returning id into v_user_id;
  if v_user_id is null then
    select id into v_user_id from public.users where email = v_lead.email;
  end if;

  insert into public.clients as c (user_id, tier, project_address)
  values (v_user_id, v_tier.id, v_lead.project_address)
  on conflict (user_id) do update set tier = excluded.tier,
    project_address = coalesce(excluded.project_address, c.project_address)
  returning id into v_client_id;

  v_mismatch := p_amount <> v_tier.price_cents or lower(p_currency) <> v_tier.currency;

  insert into public.projects (client_id, lead_id, tier, status, name, payment_status, needs_review, review_reason)
  values (v_client_id, v_lead.id, v_tier.id, 'onboarding',
          coalesce(nullif(v_lead.project_address, ''), v_lead.name) || ' - ' || v_tier.name, 'paid', v_mismatch,
          case when v_mismatch then format('paid %s %s, tier price is %s %s', p_amount, lower(p_currency),
                                           v_tier.price_cents, v_tier.currency) end)
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
  values (v_user_id, case when v_created then 'payment.fulfilled' else 'payment.already_fulfilled' end, 'project',
          v_project_id::text, jsonb_build_object('event_id', p_event_id, 'payment_intent', p_payment_intent_id,
                                                 'amount', p_amount, 'currency', lower(p_currency),
                                                 'stripe_email', p_email));
  return jsonb_build_object('outcome', 'applied', 'project_id', v_project_id, 'created_project', v_created,
                            'payment_id', v_payment.id, 'payment_status', v_payment.status,
                            'amount_mismatch', v_mismatch);
end
$$;
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
  insert into public.clients (user_id, tier, project_address, notion_page_id)
  values (v_user.id, v_tier, nullif(btrim(coalesce(p_project_address, '')), ''), p_page_id)
  returning * into v_client;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('notion.adopted', 'client', v_client.id::text, jsonb_build_object('page_id', p_page_id, 'created', true));
  return jsonb_build_object('action', 'create', 'id', v_client.id, 'reason', format('a new client %s', v_email));
end
$$;

revoke execute on function public.apply_stripe_event from public, anon, authenticated;
grant execute on function public.apply_stripe_event to service_role;

delete from supabase_migrations.schema_migrations where version = '20261203000200';
