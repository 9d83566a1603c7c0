-- Undoes 20261209000100_payment_schedules.sql.

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
    'overdue_tasks', public.overdue_tasks());
end
$function$;

drop function public.report_money();
drop function public.dispute_evidence(uuid);

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
                                          'description', t.description, 'features', t.features, 'active', t.active,
                                          'stripe_product_id', t.stripe_product_id,
                                          'stripe_price_id', t.stripe_price_id) order by t.id)
        from scoped.tiers t), '[]'::jsonb),
    'milestones', coalesce((
      select jsonb_object_agg(m.tier, m.names)
        from (select tier, jsonb_agg(name order by "order") as names
                from scoped.milestone_templates group by tier) m), '{}'::jsonb),
    'milestone_days', coalesce((
      select jsonb_object_agg(m.tier, m.items)
        from (select tier, jsonb_agg(jsonb_build_object('name', name, 'days', due_offset_days) order by "order") as items
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
    'studio_notes', p.studio_notes)
    from scoped.projects p left join scoped.tiers t on t.id = p.tier
   where p.id = p_id and p.deleted_at is null
$function$;

drop function public.apply_services(jsonb, jsonb);
alter function app_private.apply_service_terms(jsonb, jsonb) set schema public;
alter function public.apply_service_terms(jsonb, jsonb) rename to apply_services;
grant execute on function public.apply_services(jsonb, jsonb) to service_role;

drop function public.apply_stripe_dispute_event(text, text, text, text, text, bigint, text, text, text, timestamptz);
drop function app_private.dispute_rank(text);
drop function public.mark_overdue_invoices();
drop function public.apply_stripe_invoice_event(text, text, text, text, uuid, bigint, text, text, date);
drop function app_private.instalment_rank(text);
drop function public.invoice_waits(uuid, text);
drop function public.invoice_sent(uuid, text, text, date);
drop function public.invoice_created(uuid, text);
drop function public.invoices_to_send(integer);
drop trigger milestones_instalment on public.milestones;
drop function app_private.instalment_of_milestone();
drop function app_private.make_payment_schedule(uuid, smallint, bigint, bigint, text, uuid);

delete from public.tasks where kind in ('collect_invoice', 'answer_dispute');
alter table public.tasks drop constraint tasks_kind_check;
alter table public.tasks add constraint tasks_kind_check check (kind in ('contact_client', 'review_quote',
  'prepare_kickoff', 'team'));
delete from public.project_history where kind in ('invoice', 'dispute');
alter table public.project_history drop constraint project_history_kind_check;
alter table public.project_history add constraint project_history_kind_check check (kind in ('paid',
  'milestone_done', 'delivered', 'refunded', 'approval', 'feedback', 'team_edit'));

drop trigger projects_enqueue_sync on public.projects;
create trigger projects_enqueue_sync after insert or update on public.projects
  for each row execute function app_private.enqueue_on_change('project', 'name', 'tier', 'client_id', 'status',
    'payment_status', 'needs_review', 'deleted_at');

drop trigger disputes_money on public.disputes;
drop trigger payment_schedule_money on public.payment_schedule;
drop trigger payments_money on public.payments;
drop function app_private.money_changed();
drop function app_private.refresh_money(uuid);
drop function app_private.dispute_open(text);
drop view scoped.disputes;
drop table public.disputes;
drop view scoped.payment_schedule;
drop table public.payment_schedule;
drop view scoped.projects;
alter table public.projects drop column amount_total, drop column amount_paid, drop column balance_due,
  drop column disputed_amount;
create view scoped.projects with (security_invoker = true) as
  select * from public.projects where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.projects to authenticated, service_role;

drop trigger payments_receipt_number on public.payments;
drop function app_private.number_receipt();
drop view scoped.payments;
drop index public.payments_receipt_number_key;
alter table public.payments drop column receipt_number;
create view scoped.payments with (security_invoker = true) as
  select * from public.payments where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.payments to authenticated, service_role;

drop function app_private.next_document_number(uuid, text);
drop view scoped.document_counters;
drop table public.document_counters;
drop function app_private.due_at_booking(smallint, bigint);
drop view scoped.milestone_templates;
alter table public.milestone_templates drop column invoice_percent;
create view scoped.milestone_templates with (security_invoker = true) as
  select * from public.milestone_templates where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.milestone_templates to authenticated, service_role;
drop view scoped.tiers;
alter table public.tiers drop column deposit_percent;
create view scoped.tiers with (security_invoker = true) as
  select * from public.tiers where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.tiers to authenticated, service_role;

delete from supabase_migrations.schema_migrations where version = '20261209000100';
