-- Stripe payments: one function applies one verified event, exactly once, in one transaction.
-- Rollback: infra/supabase/rollbacks/20261121000400_stripe_payments.down.sql


-- Payment states only move forward: an older event never undoes a newer one.
create or replace function app_private.payment_rank(s public.payment_state) returns integer
language sql immutable
as $$
  select case s when 'pending' then 0 when 'failed' then 1 when 'succeeded' then 2 when 'refunded' then 3 end
$$;

create or replace function app_private.upsert_payment(
  p_payment_intent_id text, p_session_id text, p_customer_id text, p_lead_id uuid, p_amount bigint,
  p_amount_refunded bigint, p_currency text, p_status public.payment_state, p_tier smallint
) returns public.payments
language plpgsql
as $$
declare
  v_payment public.payments;
begin
  insert into public.payments as p (stripe_payment_intent_id, stripe_checkout_session_id, stripe_customer_id,
                                    lead_id, amount, amount_refunded, currency, status, tier)
  values (p_payment_intent_id, p_session_id, p_customer_id, p_lead_id, p_amount, coalesce(p_amount_refunded, 0),
          lower(coalesce(p_currency, 'usd')), p_status, p_tier)
  on conflict (stripe_payment_intent_id) do update set
    stripe_checkout_session_id = coalesce(p.stripe_checkout_session_id, excluded.stripe_checkout_session_id),
    stripe_customer_id = coalesce(p.stripe_customer_id, excluded.stripe_customer_id),
    lead_id = coalesce(p.lead_id, excluded.lead_id),
    amount_refunded = greatest(p.amount_refunded, excluded.amount_refunded),
    status = case when app_private.payment_rank(excluded.status) > app_private.payment_rank(p.status)
                  then excluded.status else p.status end,
    tier = coalesce(p.tier, excluded.tier)
  returning * into v_payment;
  return v_payment;
end
$$;

-- p_kind is what Python decided the event means:
--   fulfil   checkout paid: user, client, project, milestones, payment, lead converted
--   pending  checkout completed, payment still processing
--   failed   asynchronous payment failed; the lead stays open
--   confirm  payment_intent.succeeded
--   refund   charge.refunded (full or partial)
--   ignore   acknowledged, not applied (p_reason says why, e.g. livemode)
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

revoke execute on function public.apply_stripe_event from public, anon, authenticated;
grant execute on function public.apply_stripe_event to service_role;
revoke execute on function app_private.payment_rank, app_private.upsert_payment from public, anon, authenticated;
-- The business functions run as their caller (service_role through PostgREST), so it needs these too.
grant execute on function app_private.payment_rank, app_private.upsert_payment to service_role;
