-- Undoes 20261206000100_quotes.sql: the functions as 20261205000200 left them, and no quotes. The e-mails of quotes
-- and declines still waiting are dropped with them (their template no longer exists).

CREATE OR REPLACE FUNCTION app_private.lead_paid_by(p_checkout_session_id text, p_payment_intent_id text)
 RETURNS uuid
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(
    (select l.id from scoped.leads l where p_checkout_session_id is not null
                                       and l.checkout_session_id = p_checkout_session_id),
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
        'pushed', l.notion_pushed_hash, 'deleted', l.deleted_at is not null)
      from scoped.leads l join scoped.tiers t on t.id = l.recommended_tier where l.id = p_id)
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
    'client_name', coalesce(l.name, split_part(n.recipient, '@', 1)),
    'project_id', p.id, 'project_name', p.name, 'tier_name', t.name,
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
      if p_entity = 'project' then
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
begin
  if p_kind not in ('fulfil', 'pending', 'failed', 'confirm', 'refund', 'ignore') then
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

  -- Every event about one lead takes its turn: a completed session and its async success never race.
  select * into v_lead from scoped.leads
   where id = app_private.lead_paid_by(case when p_kind in ('fulfil', 'pending', 'failed')
                                            then p_checkout_session_id end, p_payment_intent_id)
   for update;
  select * into v_tier from scoped.tiers where id = coalesce(v_lead.recommended_tier, p_tier);

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
      when lower(p_currency) <> v_tier.currency or p_amount < v_tier.price_cents then
        format('paid %s %s, under the tier price of %s %s: no work starts until the owner decides', p_amount,
               lower(p_currency), v_tier.price_cents, v_tier.currency)
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

  v_mismatch := p_amount <> v_tier.price_cents;

  insert into scoped.projects (client_id, lead_id, tier, status, name, payment_status, needs_review, review_reason)
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
    insert into scoped.milestones (project_id, tier, name, "order", due_date)
    select v_project_id, t.tier, t.name, t."order", current_date + t.due_offset_days
      from scoped.milestone_templates t where t.tier = v_tier.id;
    if v_mismatch then
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('payment.amount_mismatch', 'project', v_project_id::text,
              jsonb_build_object('event_id', p_event_id, 'amount', p_amount, 'currency', lower(p_currency),
                                 'tier_price', v_tier.price_cents, 'tier_currency', v_tier.currency));
    end if;
  else
    select id into v_project_id from scoped.projects where lead_id = v_lead.id;
    v_mismatch := false;  -- reported by the event that created the project
  end if;

  update scoped.payments set project_id = v_project_id where id = v_payment.id and project_id is null;
  update scoped.leads set status = 'converted' where id = v_lead.id and status <> 'converted';

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
begin
  select * into v_lead from scoped.leads where checkout_session_id = p_session_id;
  if not found then
    return jsonb_build_object('state', 'unknown');
  end if;
  select * into v_payment from scoped.payments where stripe_checkout_session_id = p_session_id;
  if not found then
    return jsonb_build_object('state', 'waiting', 'first_name', split_part(btrim(v_lead.name), ' ', 1));
  end if;
  select * into v_project from scoped.projects where id = v_payment.project_id;
  return jsonb_build_object(
    'state', case when v_payment.status = 'failed' then 'failed' when v_payment.status = 'refunded' then 'refunded'
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
             count(p.id) as paid
        from scoped.leads l
        left join scoped.projects p on p.lead_id = l.id and p.deleted_at is null
       where l.deleted_at is null and l.created_at >= lower(v_range) and l.created_at < upper(v_range)
       group by l.recommended_tier
    )
    select coalesce(jsonb_agg(jsonb_build_object(
             'tier', t.id, 'tier_name', t.name, 'leads', coalesce(c.leads, 0), 'qualified', coalesce(c.qualified, 0),
             'needs_review', coalesce(c.needs_review, 0), 'paid', coalesce(c.paid, 0),
             'conversion', case when coalesce(c.leads, 0) > 0 then round(c.paid::numeric / c.leads, 4) end)
           order by t.id), '[]'::jsonb)
      from scoped.tiers t left join counted c on c.tier = t.id
  );
end
$function$;

drop function public.claim_notifications(integer, integer, text[]);
CREATE FUNCTION public.claim_notifications(p_limit integer, p_lease_seconds integer)
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

drop function public.send_quote, public.quotes_to_open, public.quote_session_opened, public.quote_sessions_to_close,
  public.quote_session_closed, public.quote_page, public.renew_quote, public.quote_list;
drop function app_private.lead_decision, app_private.close_lead, app_private.issue_quote, app_private.end_quote,
  app_private.note_on_lead, app_private.money_words, app_private.stripe_takes;

delete from public.notifications where template in ('quote_sent', 'lead_declined');
alter table public.notifications drop constraint notifications_template_check;
alter table public.notifications add constraint notifications_template_check check (template in
  ('payment_receipt', 'milestone_completed', 'deliverable_ready', 'refund_confirmed', 'portal_sign_in',
   'weekly_report'));

drop view scoped.quotes;
drop table public.quotes;
drop function app_private.enqueue_lead_of_quote;

drop trigger leads_enqueue_sync on public.leads;
create trigger leads_enqueue_sync after insert or update on public.leads for each row
  execute function app_private.enqueue_on_change('lead', 'name', 'email', 'recommended_tier', 'status', 'budget_range',
    'timeline_weeks', 'project_type', 'needs_review', 'routing_reason', 'deleted_at');
drop view scoped.leads;
alter table public.leads drop column team_tier, drop column quote_amount, drop column quote_note,
  drop column decided_at;
create view scoped.leads with (security_invoker = true) as
  select * from public.leads where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.leads to authenticated, service_role;

delete from supabase_migrations.schema_migrations where version = '20261206000100';
