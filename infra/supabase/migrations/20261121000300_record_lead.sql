-- Lead intake: record_lead and record_lead_answer, each one transaction.
-- Rollback: infra/supabase/rollbacks/20261121000300_record_lead.down.sql

alter table public.leads
  add column request_hash text,
  add column confidence text check (confidence in ('high', 'medium', 'low')),
  add column needs_review boolean not null default false,
  add column red_flags text[] not null default '{}',
  add column answer jsonb,
  add column checkout_session_id text unique,
  add column checkout_url text;

-- Stores a lead and its audit row, once per submission key (a trigger queues it for Notion).
-- A replay returns the stored lead (created = false) so the caller can answer exactly as before.
create or replace function public.record_lead(
  p_submission_key text,
  p_request_hash text,
  p_email text,
  p_name text,
  p_project_address text,
  p_budget_range text,
  p_budget_min_cents bigint,
  p_budget_max_cents bigint,
  p_timeline_weeks integer,
  p_project_type public.project_type,
  p_has_survey boolean,
  p_has_drawings boolean,
  p_notes text,
  p_recommended_tier smallint,
  p_routing_reason text,
  p_confidence text,
  p_needs_review boolean,
  p_red_flags text[],
  p_routing jsonb,
  p_answer jsonb,
  p_ip_address inet
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_lead public.leads;
  v_created boolean := false;
  v_tier public.tiers;
begin
  insert into public.leads (
    submission_key, request_hash, email, name, project_address, budget_range, budget_min_cents,
    budget_max_cents, timeline, timeline_weeks, project_type, has_survey, has_drawings, notes,
    recommended_tier, routing_reason, confidence, needs_review, red_flags, routing, answer, status)
  values (
    p_submission_key, p_request_hash, p_email, p_name, p_project_address, p_budget_range, p_budget_min_cents,
    p_budget_max_cents, case when p_timeline_weeks is null then null else p_timeline_weeks || ' weeks' end,
    p_timeline_weeks, p_project_type, p_has_survey, p_has_drawings, p_notes,
    p_recommended_tier, p_routing_reason, p_confidence, p_needs_review, coalesce(p_red_flags, '{}'), p_routing,
    p_answer, case when p_needs_review then 'needs_review' else 'qualified' end::public.lead_status)
  on conflict (submission_key) do nothing
  returning * into v_lead;

  if found then
    v_created := true;
    insert into public.audit_log (action, resource_type, resource_id, details, ip_address)
    values ('lead.received', 'lead', v_lead.id::text,
            jsonb_build_object('tier', p_recommended_tier, 'confidence', p_confidence,
                               'needs_review', p_needs_review, 'red_flags', to_jsonb(coalesce(p_red_flags, '{}'))),
            p_ip_address);
  else
    select * into v_lead from public.leads where submission_key = p_submission_key;
  end if;

  select * into v_tier from public.tiers where id = v_lead.recommended_tier;
  return jsonb_build_object(
    'lead_id', v_lead.id,
    'created', v_created,
    'request_hash', v_lead.request_hash,
    'answer', v_lead.answer,
    'tier', jsonb_build_object('id', v_tier.id, 'name', v_tier.name, 'price_cents', v_tier.price_cents,
                               'currency', v_tier.currency, 'stripe_price_id', v_tier.stripe_price_id)
  );
end
$$;

-- Records the answer a lead was given (with its checkout link, if any). The first answer stands.
create or replace function public.record_lead_answer(
  p_lead_id uuid,
  p_answer jsonb,
  p_checkout_session_id text,
  p_checkout_url text
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_answer jsonb;
begin
  update public.leads
     set answer = p_answer, checkout_session_id = p_checkout_session_id, checkout_url = p_checkout_url
   where id = p_lead_id and answer is null
  returning answer into v_answer;
  if not found then
    select answer into v_answer from public.leads where id = p_lead_id;
    if not found then
      raise exception 'no lead %', p_lead_id using errcode = 'P0002';
    end if;
  end if;
  return v_answer;
end
$$;

revoke execute on function public.record_lead, public.record_lead_answer from public, anon, authenticated;
grant execute on function public.record_lead, public.record_lead_answer to service_role;
