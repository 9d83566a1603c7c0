-- Undoes 20261205000200_functions_scoped.sql: each function as it was before (generated with it).

CREATE OR REPLACE FUNCTION app_private.lead_paid_by(p_checkout_session_id text, p_payment_intent_id text)
 RETURNS uuid
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(
    (select l.id from public.leads l where p_checkout_session_id is not null
                                       and l.checkout_session_id = p_checkout_session_id),
    (select p.lead_id from public.payments p where p.stripe_payment_intent_id = p_payment_intent_id))
$function$;

CREATE OR REPLACE FUNCTION app_private.my_client_ids()
 RETURNS SETOF uuid
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO ''
AS $function$
  select c.id from public.clients c where c.user_id = auth.uid() and c.deleted_at is null
$function$;

CREATE OR REPLACE FUNCTION app_private.my_project_ids()
 RETURNS SETOF uuid
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO ''
AS $function$
  select p.id from public.projects p
  join public.clients c on c.id = p.client_id
  where c.user_id = auth.uid() and p.deleted_at is null and c.deleted_at is null
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
      from public.leads l join public.tiers t on t.id = l.recommended_tier where l.id = p_id)
    when 'client' then (
      select jsonb_build_object('name', coalesce(c.name, (select name from public.leads where email = u.email
                                                          order by created_at desc limit 1), u.email),
        'email', u.email, 'tier_name', t.name, 'status', c.status, 'project_address', c.project_address,
        'phone', c.phone, 'company', c.company,
        'notion_page_id', c.notion_page_id, 'pushed', c.notion_pushed_hash, 'deleted', c.deleted_at is not null)
      from public.clients c join public.users u on u.id = c.user_id join public.tiers t on t.id = c.tier
      where c.id = p_id)
    when 'project' then (
      select jsonb_build_object('name', p.name, 'tier_name', t.name,
        'client_page', case when c.notion_page_id is null then '[]'::jsonb else jsonb_build_array(c.notion_page_id) end,
        'waiting_for', case when c.notion_page_id is null then 'client' end, 'parent_id', c.id,
        'status', p.status, 'payment_status', p.payment_status, 'needs_review', p.needs_review,
        'amount_paid', (select round(coalesce(sum(pay.amount - pay.amount_refunded), 0) / 100.0, 2)
                          from public.payments pay where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')),
        'paid_on', (select min(pay.created_at)::date from public.payments pay
                     where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')),
        'notion_page_id', p.notion_page_id, 'pushed', p.notion_pushed_hash, 'deleted', p.deleted_at is not null)
      from public.projects p join public.clients c on c.id = p.client_id join public.tiers t on t.id = p.tier
      where p.id = p_id)
    when 'milestone' then (
      select jsonb_build_object('name', m.name,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'waiting_for', case when p.notion_page_id is null then 'project' end, 'parent_id', p.id,
        'order', m."order", 'due_date', m.due_date, 'status', m.status, 'completed_at', m.completed_at,
        'notion_page_id', m.notion_page_id, 'pushed', m.notion_pushed_hash, 'deleted', m.deleted_at is not null)
      from public.milestones m join public.projects p on p.id = m.project_id where m.id = p_id)
    when 'deliverable' then (
      select jsonb_build_object('name', d.name,
        'project_page', case when p.notion_page_id is null then '[]'::jsonb else jsonb_build_array(p.notion_page_id) end,
        'waiting_for', case when p.notion_page_id is null then 'project' end, 'parent_id', p.id,
        'category', d.category, 'uploaded_on', d.created_at::date, 'file_url', d.file_url,
        'notion_page_id', d.notion_page_id, 'pushed', d.notion_pushed_hash, 'deleted', d.deleted_at is not null)
      from public.deliverables d join public.projects p on p.id = d.project_id where d.id = p_id)
  end
$function$;

CREATE OR REPLACE FUNCTION app_private.upsert_payment(p_payment_intent_id text, p_session_id text, p_customer_id text, p_lead_id uuid, p_amount bigint, p_amount_refunded bigint, p_currency text, p_status payment_state, p_tier smallint)
 RETURNS payments
 LANGUAGE plpgsql
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.adopt_notion_client(p_page_id text, p_email text, p_name text, p_tier_name text, p_project_address text, p_dry_run boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.adopt_notion_page(p_entity text, p_page_id text, p_name text, p_parent_page_id text, p_dry_run boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_ids uuid[];
  v_what text := case p_entity when 'project' then 'a payment' when 'milestone' then 'a paid project''s template'
                               else 'an upload' end;
begin
  if p_entity not in ('project', 'milestone', 'deliverable') then
    raise exception 'adopt_notion_page takes projects, milestones and deliverables, not %', p_entity
      using errcode = '22023';
  end if;
  if p_entity = 'project' then
    v_ids := array(select p.id from public.projects p join public.clients c on c.id = p.client_id
                    where p.notion_page_id is null and p.deleted_at is null and c.notion_page_id = p_parent_page_id
                      and lower(btrim(p.name)) = lower(btrim(coalesce(p_name, ''))));
  elsif p_entity = 'milestone' then
    v_ids := array(select m.id from public.milestones m join public.projects p on p.id = m.project_id
                    where m.notion_page_id is null and m.deleted_at is null and p.notion_page_id = p_parent_page_id
                      and lower(btrim(m.name)) = lower(btrim(coalesce(p_name, ''))));
  else
    v_ids := array(select d.id from public.deliverables d join public.projects p on p.id = d.project_id
                    where d.notion_page_id is null and d.deleted_at is null and p.notion_page_id = p_parent_page_id
                      and lower(btrim(d.name)) = lower(btrim(coalesce(p_name, ''))));
  end if;
  if cardinality(v_ids) = 0 then
    return jsonb_build_object('action', 'skip', 'reason', format(
      'no %s without a page has this name under this %s; %ss begin with %s, so delete this page or rename it to '
      'match the one Atelier made', p_entity, case p_entity when 'project' then 'client' else 'project' end,
      p_entity, v_what));
  end if;
  if cardinality(v_ids) > 1 then
    return jsonb_build_object('action', 'skip', 'reason',
      format('%s %ss have this name here: rename them apart in Atelier first', cardinality(v_ids), p_entity));
  end if;
  if not p_dry_run then
    perform public.link_notion_page(p_entity, v_ids[1], p_page_id);
  end if;
  return jsonb_build_object('action', 'link', 'id', v_ids[1], 'reason', format('the %s of that name', p_entity));
end
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
    execute format('select to_jsonb(t) from public.%I t where id = $1 for update', v_table)
      into v_old using (c->>'id')::uuid;
    continue when v_old is null;

    if (c->>'trashed')::boolean is true and v_old->>'deleted_at' is null then
      execute format('update public.%I set deleted_at = now() where id = $1', v_table) using (c->>'id')::uuid;
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.deleted', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id'));
      v_deleted := v_deleted + 1;
    elsif (c->>'trashed')::boolean is false and v_old->>'deleted_at' is not null then
      execute format('update public.%I set deleted_at = null where id = $1', v_table) using (c->>'id')::uuid;
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.restored', p_entity, c->>'id', jsonb_build_object('page_id', v_old->>'notion_page_id'));
      v_restored := v_restored + 1;
    end if;

    if c ? 'values' and c->>'pulled_hash' is distinct from v_old->>'notion_pulled_hash' then
      if p_entity = 'project' then
        update public.projects set status = coalesce((c->'values'->>'status')::public.project_status, status),
               name = coalesce(nullif(btrim(c->'values'->>'name'), ''), name),
               notion_pulled_hash = c->>'pulled_hash'
         where id = (c->>'id')::uuid;
      elsif p_entity = 'client' then
        update public.clients
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
        update public.milestones
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
      execute format('select to_jsonb(t) from public.%I t where id = $1', v_table) into v_new
        using (c->>'id')::uuid;
      v_before := (select jsonb_object_agg(k, v_old->k) from jsonb_object_keys(c->'values') k);
      v_after := (select jsonb_object_agg(k, v_new->k) from jsonb_object_keys(c->'values') k);
      if v_after is distinct from v_before then
        -- The owner's value wins; the one it replaced is kept here.
        insert into public.audit_log (action, resource_type, resource_id, details)
        values ('notion.changed', p_entity, c->>'id', jsonb_build_object('new', v_after, 'old', v_before));
        v_applied := v_applied + 1;
      end if;
    end if;

    if jsonb_array_length(coalesce(c->'repush', '[]'::jsonb)) > 0 then
      -- A person changed a field Postgres owns: Postgres wins, Notion's value is kept in the audit log,
      -- and forgetting what we pushed for it sends our value again.
      execute format('update public.%I set notion_pushed_hash = ((coalesce(notion_pushed_hash, ''{}'')::jsonb)'
                     ' - $2)::text where id = $1', v_table)
        using (c->>'id')::uuid, array(select jsonb_array_elements_text(c->'repush'));
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.overridden', p_entity, c->>'id', jsonb_build_object('notion_values', c->'lost'));
      if nullif(c->>'comment', '') is not null and v_old->>'notion_page_id' is not null then
        insert into public.notion_comments (entity, record_id, page_id, body)
        values (p_entity::public.sync_entity, (c->>'id')::uuid, v_old->>'notion_page_id', left(c->>'comment', 2000));
      end if;
      perform app_private.enqueue_sync(p_entity::public.sync_entity, (c->>'id')::uuid);
      v_overridden := v_overridden + 1;
    end if;
  end loop;

  insert into public.sync_state as s (data_source_id, entity, watermark)
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
$function$;

CREATE OR REPLACE FUNCTION public.arm_notion_webhook(p_seconds integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_until timestamptz;
begin
  if p_seconds is null or p_seconds not between 1 and 3600 then
    raise exception 'the window lasts from 1 second to an hour, not % seconds', p_seconds using errcode = '22023';
  end if;
  insert into public.notion_webhook_arming as a (id, armed_until, armed_at, taken_at)
  values (true, now() + make_interval(secs => p_seconds), now(), null)
  on conflict (id) do update set armed_until = excluded.armed_until, armed_at = now(), taken_at = null
  returning armed_until into v_until;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('notion.webhook_armed', 'notion_webhook', 'handshake', jsonb_build_object('seconds', p_seconds));
  return jsonb_build_object('armed_until', v_until);
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
                                          'price_cents', t.price_cents, 'currency', t.currency) order by t.id)
        from public.tiers t), '[]'::jsonb),
    'milestones', coalesce((
      select jsonb_object_agg(m.tier, m.names)
        from (select tier, jsonb_agg(name order by "order") as names
                from public.milestone_templates group by tier) m), '{}'::jsonb))
$function$;

CREATE OR REPLACE FUNCTION public.checkout_outcome(p_session_id text)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.claim_notifications(p_limit integer, p_lease_seconds integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.claim_notion_comments(p_limit integer, p_lease_seconds integer)
 RETURNS jsonb
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with due as (
    select id from public.notion_comments
     where status = 'pending' and next_attempt_at <= now()
     order by created_at limit p_limit for update skip locked
  ), claimed as (
    update public.notion_comments n
       set attempts = n.attempts + 1, next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from due where n.id = due.id
    returning n.id, n.page_id, n.body, n.attempts, n.created_at
  )
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'page_id', page_id, 'body', body, 'attempts', attempts)
                            order by created_at), '[]'::jsonb)
    from claimed
$function$;

CREATE OR REPLACE FUNCTION public.claim_outbox(p_limit integer, p_lease_seconds integer, p_project_id uuid DEFAULT NULL::uuid, p_holder text DEFAULT NULL::text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_claimed jsonb;
begin
  with due as (
    select o.id from public.sync_outbox o
    where o.status = 'pending' and o.next_attempt_at <= now()
      and (p_project_id is null
           or (o.entity = 'project' and o.entity_id = p_project_id)
           or (o.entity = 'client' and o.entity_id = (select client_id from public.projects where id = p_project_id))
           or (o.entity = 'milestone' and o.entity_id in (select id from public.milestones where project_id = p_project_id))
           or (o.entity = 'deliverable' and o.entity_id in (select id from public.deliverables where project_id = p_project_id)))
    order by case o.entity when 'lead' then 0 when 'client' then 1 when 'project' then 2 else 3 end, o.id
    limit p_limit
    for update skip locked
  ), claimed as (
    update public.sync_outbox o
       set attempts = o.attempts + 1, requeued = false, claim = nextval('public.sync_claim_seq'),
           claimed_by = p_holder, failure = null, waiting_for = null,
           next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from due where o.id = due.id
    returning o.id, o.entity, o.entity_id, o.attempts, o.claim
  )
  select coalesce(jsonb_agg(jsonb_build_object('outbox_id', c.id, 'entity', c.entity, 'entity_id', c.entity_id,
                                               'attempts', c.attempts, 'claim', c.claim,
                                               'record', app_private.sync_record(c.entity, c.entity_id))
                            order by case c.entity when 'lead' then 0 when 'client' then 1 when 'project' then 2
                                     else 3 end, c.id), '[]'::jsonb)
    into v_claimed from claimed c;
  return v_claimed;
end
$function$;

CREATE OR REPLACE FUNCTION public.claim_project_history(p_limit integer, p_lease_seconds integer)
 RETURNS jsonb
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with due as (
    select h.id from public.project_history h join public.projects p on p.id = h.project_id
     where h.status = 'pending' and h.next_attempt_at <= now() and p.notion_page_id is not null
     order by h.created_at limit p_limit for update of h skip locked
  ), claimed as (
    update public.project_history h
       set attempts = h.attempts + 1, next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from due where h.id = due.id
    returning h.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', c.id, 'page_id', p.notion_page_id, 'summary', c.summary, 'at', c.created_at,
           'first', not exists (select 1 from public.project_history w
                                 where w.project_id = c.project_id and w.status = 'written'))
         order by c.created_at), '[]'::jsonb)
    from claimed c join public.projects p on p.id = c.project_id
$function$;

CREATE OR REPLACE FUNCTION public.complete_notifications(p_results jsonb, p_max_attempts integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.complete_notion_comments(p_results jsonb, p_max_attempts integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  r jsonb;
  v_posted integer := 0;
  v_failed integer := 0;
  v_dead integer := 0;
  v_status public.comment_status;
begin
  for r in select * from jsonb_array_elements(coalesce(p_results, '[]'::jsonb)) loop
    if (r->>'ok')::boolean then
      update public.notion_comments set status = 'posted', posted_at = now(), comment_id = r->>'comment_id',
             last_error = null
       where id = (r->>'id')::uuid and status = 'pending';
      v_posted := v_posted + 1;
    else
      v_status := null;
      update public.notion_comments
         set status = case when coalesce((r->>'permanent')::boolean, false) or attempts >= p_max_attempts
                           then 'dead' else 'pending' end::public.comment_status,
             last_error = left(r->>'error', 500),
             next_attempt_at = now() + make_interval(mins => least(60, power(2, greatest(attempts - 1, 0))::integer))
       where id = (r->>'id')::uuid and status = 'pending'
      returning status into v_status;
      if v_status = 'dead' then v_dead := v_dead + 1; else v_failed := v_failed + 1; end if;
    end if;
  end loop;
  return jsonb_build_object('posted', v_posted, 'failed', v_failed, 'dead', v_dead);
end
$function$;

CREATE OR REPLACE FUNCTION public.complete_outbox(p_results jsonb, p_max_attempts integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  r jsonb;
  v_row public.sync_outbox;
  v_done integer := 0;
  v_retry integer := 0;
  v_dead integer := 0;
  v_waiting integer := 0;
  v_stale integer := 0;
  v_woken integer := 0;
  v_answered boolean := false;
begin
  for r in select * from jsonb_array_elements(p_results) loop
    select * into v_row from public.sync_outbox where id = (r->>'outbox_id')::bigint for update;
    continue when not found;
    if v_row.status <> 'pending' or (r ? 'claim' and v_row.claim is distinct from (r->>'claim')::bigint) then
      v_stale := v_stale + 1;
      if (r->>'ok')::boolean and r->>'page_id' is not null and not coalesce((r->>'gone')::boolean, false) then
        execute format('update public.%I set notion_page_id = $1 where id = $2 and notion_page_id is null',
                       v_row.entity || 's') using r->>'page_id', v_row.entity_id;
      end if;
      continue;
    end if;
    if coalesce((r->>'answered')::boolean, false) then
      v_answered := true;  -- Notion answered a call for this row
    end if;
    if (r->>'ok')::boolean and coalesce((r->>'gone')::boolean, false) then
      -- The page was deleted for good in Notion (confirmed by a read): keep the record, marked deleted.
      execute format('update public.%I set deleted_at = coalesce(deleted_at, now()) where id = $1',
                     v_row.entity || 's') using v_row.entity_id;
      insert into public.audit_log (action, resource_type, resource_id, details)
      values ('notion.vanished', v_row.entity::text, v_row.entity_id::text, jsonb_build_object('page_id', r->>'page_id'));
      update public.sync_outbox set status = 'done', done_at = now(), requeued = false, last_error = null,
                                    failure = null
       where id = v_row.id;
      v_done := v_done + 1;
    elsif (r->>'ok')::boolean then
      execute format('update public.%I set notion_page_id = coalesce(notion_page_id, $1), notion_pushed_hash = $2,'
                     ' last_synced_at = now() where id = $3', v_row.entity || 's')
        using r->>'page_id', r->>'pushed_hash', v_row.entity_id;
      if v_row.requeued then
        update public.sync_outbox set requeued = false, next_attempt_at = now(), last_error = null
         where id = v_row.id;
        v_retry := v_retry + 1;
      else
        update public.sync_outbox set status = 'done', done_at = now(), last_error = null where id = v_row.id;
        v_done := v_done + 1;
      end if;
      -- Children that waited for this page go now.
      if r->>'page_id' is not null then
        update public.sync_outbox set next_attempt_at = now()
         where status = 'pending' and failure = 'waiting' and waiting_for = v_row.entity_id;
      end if;
    elsif r ? 'waiting_for' then
      update public.sync_outbox
         set attempts = greatest(attempts - 1, 0), failure = 'waiting', waiting_for = (r->>'waiting_for')::uuid,
             last_error = left(r->>'error', 2000),
             next_attempt_at = now() + make_interval(secs => coalesce((r->>'retry_in')::double precision, 60))
       where id = v_row.id;
      v_waiting := v_waiting + 1;
    elsif coalesce((r->>'transient')::boolean, false) or coalesce((r->>'skipped')::boolean, false) then
      update public.sync_outbox
         set attempts = case when (r->>'skipped')::boolean then greatest(attempts - 1, 0) else attempts end,
             failure = 'transient',
             last_error = coalesce(left(r->>'error', 2000), last_error),
             next_attempt_at = now() + make_interval(secs => least(600, coalesce((r->>'retry_in')::double precision, 30)))
       where id = v_row.id;
      v_retry := v_retry + 1;
    elsif v_row.refusals + 1 >= p_max_attempts then
      update public.sync_outbox set status = 'dead', failure = 'permanent', refusals = refusals + 1,
                                    last_error = left(r->>'error', 2000)
       where id = v_row.id;
      v_dead := v_dead + 1;
    else
      update public.sync_outbox
         set last_error = left(r->>'error', 2000), failure = 'permanent', refusals = refusals + 1,
             next_attempt_at = now() + make_interval(secs => coalesce((r->>'retry_in')::double precision,
                                                               least(3600, 15 * 2 ^ least(v_row.refusals + 1, 12))))
       where id = v_row.id;
      v_retry := v_retry + 1;
    end if;
  end loop;
  if v_answered then
    update public.sync_outbox set next_attempt_at = now()
     where status = 'pending' and failure = 'transient' and next_attempt_at > now();
    get diagnostics v_woken = row_count;
  end if;
  return jsonb_build_object('done', v_done, 'retry', v_retry, 'dead', v_dead, 'waiting', v_waiting,
                            'stale', v_stale, 'woken', v_woken);
end
$function$;

CREATE OR REPLACE FUNCTION public.complete_project_history(p_written uuid[])
 RETURNS integer
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with written as (
    update public.project_history set status = 'written', written_at = now()
     where id = any(p_written) and status = 'pending' returning 1)
  select count(*)::integer from written
$function$;

CREATE OR REPLACE FUNCTION public.create_report_link(p_seconds integer, p_purpose text)
 RETURNS jsonb
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  insert into public.report_links (purpose, expires_at)
  values (p_purpose, now() + make_interval(secs => p_seconds))
  returning jsonb_build_object('id', id, 'expires', floor(extract(epoch from expires_at))::bigint)
$function$;

CREATE OR REPLACE FUNCTION public.deliverable_file(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object('id', d.id, 'project_id', d.project_id, 'name', d.name, 'bucket', d.s3_bucket,
                            'key', d.file_path, 'version_id', d.s3_version_id, 'file_type', d.file_type,
                            'file_size', d.file_size, 'file_url', d.file_url, 'category', d.category,
                            'deleted', d.deleted_at is not null,
                            'withdrawn', p.deleted_at is not null or p.payment_status = 'refunded')
    from public.deliverables d join public.projects p on p.id = d.project_id where d.id = p_id
$function$;

CREATE OR REPLACE FUNCTION public.find_deliverable(p_bucket text, p_key text, p_version_id text)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object('id', d.id, 'version', d.version, 'file_url', d.file_url)
    from public.deliverables d
   where d.s3_bucket = p_bucket and d.file_path = p_key and d.s3_version_id is not distinct from p_version_id
   order by d.version desc
   limit 1
$function$;

CREATE OR REPLACE FUNCTION public.forget_notion_event(p_event_id text)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with gone as (delete from public.inbound_events where source = 'notion' and event_id = p_event_id returning 1)
  select exists (select 1 from gone)
$function$;

CREATE OR REPLACE FUNCTION public.hold_claims(p_claims jsonb, p_lease_seconds integer)
 RETURNS jsonb
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with held as (
    update public.sync_outbox o set next_attempt_at = now() + make_interval(secs => p_lease_seconds)
      from jsonb_to_recordset(p_claims) as c(outbox_id bigint, claim bigint)
     where o.id = c.outbox_id and o.claim = c.claim and o.status = 'pending' and o.failure is null
    returning o.id)
  select coalesce(jsonb_agg(id order by id), '[]'::jsonb) from held
$function$;

CREATE OR REPLACE FUNCTION public.hold_notion(p_name text, p_seconds double precision)
 RETURNS void
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  insert into public.notion_budget as b (name, tokens, not_before)
  values (p_name, 0, clock_timestamp() + make_interval(secs => least(p_seconds, 3600)))
  on conflict (name) do update set not_before = greatest(b.not_before, excluded.not_before)
$function$;

CREATE OR REPLACE FUNCTION public.link_notion_page(p_entity text, p_id uuid, p_page_id text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_linked text;
begin
  execute format('update public.%I set notion_page_id = coalesce(notion_page_id, $2) where id = $1'
                 ' returning notion_page_id', app_private.synced_table(p_entity))
    into v_linked using p_id, p_page_id;
  if v_linked is distinct from p_page_id then
    raise exception '% % is already linked to page %', p_entity, p_id, v_linked using errcode = '23505';
  end if;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('notion.imported', p_entity, p_id::text, jsonb_build_object('page_id', p_page_id));
  perform app_private.enqueue_sync(p_entity::public.sync_entity, p_id);
  return jsonb_build_object('linked', v_linked);
end
$function$;

CREATE OR REPLACE FUNCTION public.linked_records(p_entity text)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  v_result jsonb;
begin
  execute format('select coalesce(jsonb_agg(jsonb_build_object(''id'', id, ''record'','
                 ' app_private.sync_record(%L, id))), ''[]''::jsonb) from public.%I'
                 ' where notion_page_id is not null and deleted_at is null', p_entity, app_private.synced_table(p_entity))
    into v_result;
  return v_result;
end
$function$;

CREATE OR REPLACE FUNCTION public.mark_pushed(p_entity text, p_id uuid, p_pushed_hash text)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  execute format('update public.%I set notion_pushed_hash = $2, last_synced_at = now() where id = $1',
                 app_private.synced_table(p_entity)) using p_id, p_pushed_hash;
end
$function$;

CREATE OR REPLACE FUNCTION public.note_unapplied_pages(p_entity text, p_pages jsonb)
 RETURNS integer
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with fresh as (
    insert into public.audit_log (action, resource_type, resource_id, details)
    select 'notion.unapplied', p_entity, p->>'page_id', jsonb_build_object('edited', p->>'edited', 'reason', p->>'reason')
      from jsonb_array_elements(p_pages) p
     where not exists (select 1 from public.audit_log a where a.action = 'notion.unapplied'
                       and a.resource_id = p->>'page_id' and a.details->>'edited' = p->>'edited')
    returning 1)
  select count(*)::integer from fresh
$function$;

CREATE OR REPLACE FUNCTION public.notification_rows(p_status text, p_limit integer)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_agg(to_jsonb(r) order by r.created_at desc), '[]'::jsonb) from (
    select id, recipient, template, dedupe_key, status, attempts, subject, sent_at, provider_message_id, last_error,
           created_at, body_html
      from public.notifications where p_status is null or status::text = p_status
     order by created_at desc limit p_limit) r
$function$;

CREATE OR REPLACE FUNCTION public.notion_data_sources()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_object_agg(entity, data_source_id), '{}'::jsonb) from (
    select distinct on (entity) entity::text, data_source_id from public.notion_properties
     order by entity, updated_at desc) d
$function$;

CREATE OR REPLACE FUNCTION public.notion_property_ids()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_object_agg(data_source_id, props), '{}'::jsonb) from (
    select data_source_id, jsonb_object_agg(key, jsonb_build_object('id', property_id, 'name', name, 'kind', kind))
           as props
      from public.notion_properties group by data_source_id) d
$function$;

CREATE OR REPLACE FUNCTION public.open_portal_session(p_sign_in_id uuid, p_ttl_seconds integer)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_user public.users;
  v_session public.portal_sessions;
begin
  select u.* into v_user from public.portal_sign_ins s join public.users u on u.id = s.user_id
   where s.id = p_sign_in_id and s.used_at is null and s.expires_at > now()
     and u.user_type in ('kaa_client', 'sage_client')
   for update of s;
  if v_user.id is null then
    return null;
  end if;
  update public.portal_sign_ins set used_at = now() where id = p_sign_in_id;
  insert into public.portal_sessions (user_id, sign_in_id, expires_at)
  values (v_user.id, p_sign_in_id, now() + make_interval(secs => p_ttl_seconds))
  returning * into v_session;
  return jsonb_build_object('session_id', v_session.id, 'user_id', v_user.id, 'email', v_user.email,
                            'expires', floor(extract(epoch from v_session.expires_at))::bigint);
end
$function$;

CREATE OR REPLACE FUNCTION public.outbox_rows(p_status text, p_limit integer)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_agg(to_jsonb(r) order by r.id), '[]'::jsonb) from (
    select id, entity, entity_id, status, attempts, refusals, failure, next_attempt_at, last_error, updated_at
      from public.sync_outbox
     where (p_status is null and status <> 'done') or status::text = p_status
     order by id limit p_limit) r
$function$;

CREATE OR REPLACE FUNCTION public.payments_held()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'amount', p.amount, 'currency', p.currency,
                                               'session', p.stripe_checkout_session_id, 'reason', p.review_reason,
                                               'created_at', p.created_at) order by p.created_at), '[]'::jsonb)
    from public.payments p where p.review_reason is not null and p.project_id is null and p.status <> 'refunded'
$function$;

CREATE OR REPLACE FUNCTION public.portal_deliverable(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object('id', d.id, 'name', d.name, 'project_id', d.project_id)
    from public.deliverables d join public.projects p on p.id = d.project_id
   where d.id = p_id and d.deleted_at is null and p.deleted_at is null and p.payment_status <> 'refunded'
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
                   from public.payments x where x.project_id = p.id),
    'milestones', (select coalesce(jsonb_agg(jsonb_build_object('name', m.name, 'order', m."order", 'status', m.status,
                                                                 'due_date', m.due_date, 'completed_at', m.completed_at)
                                             order by m."order"), '[]')
                     from public.milestones m where m.project_id = p.id and m.deleted_at is null),
    'deliverables', (select coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'name', d.name, 'category', d.category,
                                                                   'file_type', d.file_type, 'file_size', d.file_size,
                                                                   'uploaded_at', d.created_at)
                                               order by d.created_at desc), '[]')
                       from public.deliverables d where d.project_id = p.id and d.deleted_at is null))
    from public.projects p left join public.tiers t on t.id = p.tier
   where p.id = p_id and p.deleted_at is null
$function$;

CREATE OR REPLACE FUNCTION public.portal_projects()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', p.id, 'name', p.name, 'status', p.status, 'payment_status', p.payment_status,
           'tier_name', t.name, 'created_at', p.created_at,
           'milestones_done', (select count(*) from public.milestones m where m.project_id = p.id
                                and m.status = 'completed' and m.deleted_at is null),
           'milestones', (select count(*) from public.milestones m where m.project_id = p.id and m.deleted_at is null))
         order by p.created_at desc), '[]'::jsonb)
    from public.projects p left join public.tiers t on t.id = p.tier
   where p.deleted_at is null
$function$;

CREATE OR REPLACE FUNCTION public.portal_session(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object('user_id', u.id, 'email', u.email,
                            'expires', floor(extract(epoch from s.expires_at))::bigint)
    from public.portal_sessions s join public.users u on u.id = s.user_id
   where s.id = p_id and s.revoked_at is null and s.expires_at > now()
     and u.user_type in ('kaa_client', 'sage_client')
$function$;

CREATE OR REPLACE FUNCTION public.project_brief(p_project_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'tier_name', t.name, 'budget_range', l.budget_range, 'timeline_weeks', l.timeline_weeks,
    'has_survey', l.has_survey, 'has_drawings', l.has_drawings,
    'project_address', coalesce(l.project_address, c.project_address),
    'routing_reason', l.routing_reason, 'red_flags', to_jsonb(coalesce(l.red_flags, '{}')), 'notes', l.notes,
    'amount_paid', (select app_private.money_text(sum(pay.amount - pay.amount_refunded)::bigint, min(pay.currency)::text)
                      from public.payments pay where pay.project_id = p.id and pay.status in ('succeeded', 'refunded')))
    from public.projects p
    join public.tiers t on t.id = p.tier
    join public.clients c on c.id = p.client_id
    left join public.leads l on l.id = p.lead_id
   where p.id = p_project_id
$function$;

CREATE OR REPLACE FUNCTION public.project_state(p_id uuid)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce((select case when p.deleted_at is null then 'live' else 'deleted' end
                     from public.projects p where p.id = p_id), 'missing')
$function$;

CREATE OR REPLACE FUNCTION public.queue_weekly_report(p_recipient text, p_week_start date)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.record_deliverable(p_event_id text, p_id uuid, p_bucket text, p_key text, p_version_id text, p_project_id uuid, p_name text, p_category text, p_size bigint, p_type text, p_uploaded_by text, p_file_url text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_project public.projects;
  v_version integer;
  v_id uuid;
  v_orphan text;  -- why the upload has no project to belong to
begin
  insert into public.inbound_events (source, event_id, event_type, outcome)
  values ('s3', p_event_id, 'ObjectCreated', 'applied')
  on conflict (source, event_id) do nothing;
  if not found then
    select id into v_id from public.deliverables where s3_event_id = p_event_id;
    return jsonb_build_object('outcome', 'duplicate', 'deliverable_id', v_id);
  end if;

  -- One upload at a time per project, so that versions of one key are numbered in turn.
  select * into v_project from public.projects where id = p_project_id for update;
  v_orphan := case when v_project.id is null then 'unknown project'
                   when v_project.deleted_at is not null then 'deleted project' end;
  if v_orphan is not null then
    update public.inbound_events set outcome = 'rejected', reason = v_orphan
     where source = 's3' and event_id = p_event_id;
    insert into public.audit_log (action, resource_type, resource_id, details)
    values ('deliverable.orphan', 'deliverable', p_key,
            jsonb_build_object('bucket', p_bucket, 'key', p_key, 'version_id', p_version_id,
                               'project_id', p_project_id, 'size', p_size, 'uploaded_by', p_uploaded_by,
                               'reason', v_orphan));
    return jsonb_build_object('outcome', 'orphan', 'reason', v_orphan);
  end if;

  select coalesce(max(version), 0) + 1 into v_version
    from public.deliverables where s3_bucket = p_bucket and file_path = p_key;
  insert into public.deliverables (id, project_id, name, file_path, file_url, file_size, file_type, category,
                                   uploaded_by, s3_bucket, s3_version_id, version, s3_event_id)
  values (p_id, p_project_id,
          case when v_version > 1 then p_name || ' (v' || v_version || ')' else p_name end,
          p_key, p_file_url, p_size, coalesce(nullif(p_type, ''), 'application/octet-stream'),
          p_category::public.deliverable_category, nullif(p_uploaded_by, ''), p_bucket, p_version_id,
          v_version, p_event_id);
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('deliverable.uploaded', 'deliverable', p_id::text,
          jsonb_build_object('project_id', p_project_id, 'key', p_key, 'version', v_version,
                             'version_id', p_version_id, 'size', p_size, 'uploaded_by', p_uploaded_by));
  return jsonb_build_object('outcome', 'applied', 'deliverable_id', p_id, 'version', v_version,
                            'project_id', p_project_id);
end
$function$;

CREATE OR REPLACE FUNCTION public.record_lead(p_submission_key text, p_request_hash text, p_email text, p_name text, p_project_address text, p_budget_range text, p_budget_min_cents bigint, p_budget_max_cents bigint, p_timeline_weeks integer, p_project_type project_type, p_has_survey boolean, p_has_drawings boolean, p_notes text, p_recommended_tier smallint, p_routing_reason text, p_confidence text, p_needs_review boolean, p_red_flags text[], p_routing jsonb, p_answer jsonb, p_ip_address inet)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.record_lead_answer(p_lead_id uuid, p_answer jsonb, p_checkout_session_id text, p_checkout_url text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.record_notion_event(p_event_id text, p_event_type text, p_entity_id text, p_applied boolean, p_sent_at timestamp with time zone DEFAULT NULL::timestamp with time zone)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  insert into public.inbound_events (source, event_id, event_type, outcome, payload)
  values ('notion', p_event_id, p_event_type,
          case when p_applied then 'applied'::public.inbound_outcome else 'ignored'::public.inbound_outcome end,
          jsonb_strip_nulls(jsonb_build_object('entity_id', p_entity_id, 'sent_at', p_sent_at)))
  on conflict (source, event_id) do nothing;
  return found;
end
$function$;

CREATE OR REPLACE FUNCTION public.record_notion_properties(p_entity text, p_data_source_id text, p_properties jsonb)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_count integer;
begin
  if jsonb_typeof(p_properties) <> 'object' then
    raise exception 'record_notion_properties: p_properties must be an object' using errcode = '22023';
  end if;
  delete from public.notion_properties
   where data_source_id = p_data_source_id and not (p_properties ? key);
  insert into public.notion_properties as n (data_source_id, entity, key, property_id, name, kind)
  select p_data_source_id, p_entity::public.sync_entity, k, v->>'id', coalesce(v->>'name', k), coalesce(v->>'kind', '')
    from jsonb_each(p_properties) as e(k, v)
  on conflict (data_source_id, key) do update
    set property_id = excluded.property_id, name = excluded.name, kind = excluded.kind, entity = excluded.entity
    where (n.property_id, n.name, n.kind, n.entity) is distinct from
          (excluded.property_id, excluded.name, excluded.kind, excluded.entity);
  get diagnostics v_count = row_count;
  return v_count;
end
$function$;

CREATE OR REPLACE FUNCTION public.reject_stripe_event(p_event_id text, p_event_type text, p_reason text, p_payload jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  insert into public.inbound_events as e (source, event_id, event_type, outcome, reason, payload)
  values ('stripe', p_event_id, coalesce(p_event_type, ''), 'rejected', left(p_reason, 500), p_payload)
  on conflict (source, event_id) do update set reason = excluded.reason, payload = excluded.payload
    where e.outcome = 'rejected';
  if not found then
    return jsonb_build_object('outcome', 'duplicate');
  end if;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('stripe.rejected', 'stripe_event', p_event_id, jsonb_build_object('reason', left(p_reason, 500)));
  return jsonb_build_object('outcome', 'rejected', 'reason', left(p_reason, 500));
end
$function$;

CREATE OR REPLACE FUNCTION public.rejected_stripe_events()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_agg(payload order by created_at), '[]'::jsonb) from public.inbound_events
   where source = 'stripe' and outcome = 'rejected' and payload is not null
$function$;

CREATE OR REPLACE FUNCTION public.release_notifications(p_claims jsonb)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_count integer;
begin
  update public.notifications n
     set attempts = greatest(n.attempts - 1, 0), next_attempt_at = now()
    from jsonb_array_elements(p_claims) r
   where n.id = (r->>'id')::uuid and n.claim = (r->>'claim')::bigint and n.status = 'pending';
  get diagnostics v_count = row_count;
  return v_count;
end
$function$;

CREATE OR REPLACE FUNCTION public.release_schema_waits(p_entity text)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_count integer;
begin
  update public.sync_outbox o
     set status = 'pending', failure = null, refusals = 0, next_attempt_at = now()
   where o.entity = p_entity::public.sync_entity
     and ((o.status = 'pending' and o.failure = 'waiting' and o.waiting_for is null)
          or (o.status in ('pending', 'dead') and o.failure = 'permanent' and o.last_error like '%validation_error%'))
     and (o.status = 'pending' or not exists (select 1 from public.sync_outbox p where p.entity = o.entity
                                              and p.entity_id = o.entity_id and p.status = 'pending'));
  get diagnostics v_count = row_count;
  return v_count;
end
$function$;

CREATE OR REPLACE FUNCTION public.release_sync_lease(p_name text, p_holder text)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with gone as (delete from public.sync_lease where name = p_name and holder = p_holder returning 1)
  select exists (select 1 from gone)
$function$;

CREATE OR REPLACE FUNCTION public.relink_record(p_entity text, p_id uuid, p_page_id text)
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_count integer;
begin
  execute format('update public.%I set notion_page_id = $1, notion_pushed_hash = null where id = $2',
                 app_private.synced_table(p_entity)) using p_page_id, p_id;
  get diagnostics v_count = row_count;
  if v_count = 1 then
    perform app_private.enqueue_sync(p_entity::public.sync_entity, p_id);
    insert into public.audit_log (action, resource_type, resource_id, details)
    values ('notion.relinked', p_entity, p_id::text, jsonb_build_object('page_id', p_page_id));
  end if;
  return v_count = 1;
end
$function$;

CREATE OR REPLACE FUNCTION public.renew_sync_lease(p_name text, p_holder text, p_seconds integer)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with renewed as (
    update public.sync_lease set expires_at = now() + make_interval(secs => p_seconds)
     where name = p_name and holder = p_holder returning 1)
  select exists (select 1 from renewed)
$function$;

CREATE OR REPLACE FUNCTION public.report_cycle_times(p_from date, p_to date)
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
$function$;

CREATE OR REPLACE FUNCTION public.report_link_refusal(p_id uuid)
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select case
    when l.id is null then 'unknown'
    when l.revoked_at is not null then 'revoked'
    when l.expires_at <= now() then 'expired'
  end
  from (select 1) one left join public.report_links l on l.id = p_id
$function$;

CREATE OR REPLACE FUNCTION public.report_milestones(p_from date, p_to date)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
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
$function$;

CREATE OR REPLACE FUNCTION public.report_projects(p_from date, p_to date)
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
    select jsonb_agg(jsonb_build_object('status', s.status, 'projects', (
             select count(*) from public.projects p
              where p.status = s.status and p.deleted_at is null
                and p.created_at >= lower(v_range) and p.created_at < upper(v_range)))
           order by s.ord)
      from unnest(enum_range(null::public.project_status)) with ordinality as s(status, ord)
  );
end
$function$;

CREATE OR REPLACE FUNCTION public.report_revenue(p_from date, p_to date)
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
$function$;

CREATE OR REPLACE FUNCTION public.report_sync(p_from date, p_to date)
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
$function$;

CREATE OR REPLACE FUNCTION public.resync(p_entities text[], p_force boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_entity text;
  v_count integer := 0;
  v_rows integer;
begin
  foreach v_entity in array p_entities loop
    if p_force then
      execute format('update public.%I set notion_pushed_hash = null where deleted_at is null',
                     app_private.synced_table(v_entity));
    end if;
    execute format('select count(*) from (select app_private.enqueue_sync(%L, id) from public.%I'
                   ' where deleted_at is null) queued', v_entity, app_private.synced_table(v_entity)) into v_rows;
    v_count := v_count + v_rows;
  end loop;
  return jsonb_build_object('queued', v_count);
end
$function$;

CREATE OR REPLACE FUNCTION public.retry_outbox(p_ids bigint[], p_dead boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_count integer;
begin
  update public.sync_outbox o
     set status = 'pending', refusals = 0, failure = null, next_attempt_at = now(), last_error = null
   where (p_ids is null or o.id = any(p_ids))
     and o.status = case when p_dead then 'dead'::public.outbox_status else 'pending'::public.outbox_status end
     and (o.status = 'pending' or not exists (select 1 from public.sync_outbox p where p.entity = o.entity
                                              and p.entity_id = o.entity_id and p.status = 'pending'));
  get diagnostics v_count = row_count;
  return jsonb_build_object('retried', v_count);
end
$function$;

CREATE OR REPLACE FUNCTION public.revoke_portal_access(p_email text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_user uuid;
  v_sessions integer;
  v_links integer;
begin
  select id into v_user from public.users where email = lower(btrim(p_email));
  if v_user is null then
    return jsonb_build_object('known', false, 'sessions', 0, 'links', 0);
  end if;
  update public.portal_sessions set revoked_at = now()
   where user_id = v_user and revoked_at is null and expires_at > now();
  get diagnostics v_sessions = row_count;
  update public.portal_sign_ins set used_at = now()
   where user_id = v_user and used_at is null and expires_at > now();
  get diagnostics v_links = row_count;
  insert into public.audit_log (user_id, action, resource_type, resource_id, details)
  values (v_user, 'portal.revoked', 'user', v_user::text,
          jsonb_build_object('sessions', v_sessions, 'links', v_links));
  return jsonb_build_object('known', true, 'sessions', v_sessions, 'links', v_links);
end
$function$;

CREATE OR REPLACE FUNCTION public.revoke_portal_session(p_id uuid)
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with ended as (
    update public.portal_sessions set revoked_at = now() where id = p_id and revoked_at is null returning 1)
  select exists (select 1 from ended)
$function$;

CREATE OR REPLACE FUNCTION public.revoke_report_links(p_id uuid)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_count integer;
begin
  update public.report_links set revoked_at = now()
   where (p_id is null or id = p_id) and revoked_at is null and expires_at > now();
  get diagnostics v_count = row_count;
  insert into public.audit_log (action, resource_type, resource_id, details)
  values ('report.revoked', 'report_link', coalesce(p_id::text, 'all'), jsonb_build_object('links', v_count));
  return v_count;
end
$function$;

CREATE OR REPLACE FUNCTION public.schema_waits()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_object_agg(entity, n), '{}'::jsonb) from (
    select entity, count(*) as n from public.sync_outbox
     where status = 'pending' and failure = 'waiting' and waiting_for is null group by entity) w
$function$;

CREATE OR REPLACE FUNCTION public.start_portal_sign_in(p_email text, p_source_ip text, p_ttl_seconds integer, p_per_address integer, p_per_source integer, p_send boolean DEFAULT true)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_email text := lower(btrim(p_email));
  v_user uuid;
  v_oldest timestamptz;
  v_count integer;
  v_limited boolean;
  v_row public.portal_sign_ins;
  v_window constant interval := interval '15 minutes';
begin
  select u.id into v_user from public.users u
   where lower(u.email) = v_email and u.user_type in ('kaa_client', 'sage_client')
     and exists (select 1 from public.clients c where c.user_id = u.id and c.deleted_at is null);
  if p_send then  -- a client's request: counted, under a lock per address, then per source
    perform pg_advisory_xact_lock(hashtextextended('portal_sign_in:address:' || v_email, 0));
    select count(*), min(created_at) into v_count, v_oldest from public.portal_sign_ins
     where email = v_email and not by_operator and created_at > now() - v_window;
    v_limited := v_count >= p_per_address;
    if not v_limited and p_source_ip is not null then
      perform pg_advisory_xact_lock(hashtextextended('portal_sign_in:source:' || p_source_ip, 0));
      select count(*), min(created_at) into v_count, v_oldest from public.portal_sign_ins
       where source_ip = p_source_ip and not by_operator and created_at > now() - v_window;
      v_limited := v_count >= p_per_source;
    end if;
    if v_limited then  -- refused: nothing recorded, nothing sent
      return jsonb_build_object('id', null, 'expires', null, 'known', v_user is not null, 'limited', true,
        'retry_after', least(extract(epoch from v_window)::integer,
                             greatest(1, ceil(extract(epoch from v_oldest + v_window - now())))::integer));
    end if;
  end if;
  insert into public.portal_sign_ins (email, user_id, source_ip, expires_at, sent, by_operator)
  values (left(v_email, 320), v_user, p_source_ip, now() + make_interval(secs => p_ttl_seconds),
          v_user is not null and p_send, not p_send)
  returning * into v_row;
  if v_row.sent then
    insert into public.notifications (recipient, template, dedupe_key, subject_id)
    select u.email, 'portal_sign_in', 'portal_sign_in:' || v_row.id, v_row.id from public.users u where u.id = v_user;
  end if;
  return jsonb_build_object('id', v_row.id, 'expires', floor(extract(epoch from v_row.expires_at))::bigint,
                            'known', v_user is not null, 'limited', false, 'retry_after', 0);
end
$function$;

CREATE OR REPLACE FUNCTION public.suppress_email(p_email text, p_reason text, p_details jsonb)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_count integer;
begin
  insert into public.email_suppressions (email, reason, details) values (lower(p_email), p_reason, p_details)
  on conflict (email) do nothing;
  update public.notifications
     set status = 'failed',
         last_error = 'the address ' || case p_reason when 'bounce' then 'bounced' when 'complaint' then 'complained'
                                                        else p_reason end
   where lower(recipient) = lower(p_email) and status = 'pending';
  get diagnostics v_count = row_count;
  return v_count;
end
$function$;

CREATE OR REPLACE FUNCTION public.sync_health()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'outbox_depth', (select count(*) from public.sync_outbox where status = 'pending'),
    'dead', (select count(*) from public.sync_outbox where status = 'dead'),
    'waiting', (select count(*) from public.sync_outbox where status = 'pending' and failure = 'waiting'),
    'schema_waiting', (select count(*) from public.sync_outbox
                        where status = 'pending' and failure = 'waiting' and waiting_for is null),
    'oldest_pending_seconds', (select coalesce(extract(epoch from now() - min(created_at)), 0)
                               from public.sync_outbox where status = 'pending'),
    'oldest_last_synced_seconds', (select coalesce(extract(epoch from now() - min(last_synced_at)), 0) from (
        select last_synced_at from public.projects where notion_page_id is not null and deleted_at is null
        union all select last_synced_at from public.milestones where notion_page_id is not null and deleted_at is null
      ) s))
$function$;

CREATE OR REPLACE FUNCTION public.sync_pull_state(p_entity text, p_ids uuid[])
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  v_result jsonb;
begin
  execute format('select coalesce(jsonb_object_agg(id, jsonb_build_object(''pushed'', notion_pushed_hash,'
                 ' ''pulled'', notion_pulled_hash, ''deleted'', deleted_at is not null, ''page_id'', notion_page_id)),'
                 ' ''{}''::jsonb) from public.%I where id = any($1)', app_private.synced_table(p_entity))
    into v_result using p_ids;
  return v_result;
end
$function$;

CREATE OR REPLACE FUNCTION public.sync_watermarks()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_object_agg(data_source_id, watermark), '{}'::jsonb) from public.sync_state
$function$;

CREATE OR REPLACE FUNCTION public.take_notion_tokens(p_name text, p_want integer, p_rate double precision, p_burst double precision)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_now timestamptz := clock_timestamp();
  v_row public.notion_budget;
  v_tokens double precision;
  v_granted integer;
begin
  if p_want < 1 or p_rate <= 0 or p_burst < 1 then
    raise exception 'take_notion_tokens: want >= 1, rate > 0 and burst >= 1' using errcode = '22023';
  end if;
  insert into public.notion_budget (name, tokens, refilled_at) values (p_name, p_burst, v_now)
  on conflict (name) do nothing;
  select * into v_row from public.notion_budget where name = p_name for update;
  if v_row.not_before > v_now then
    return jsonb_build_object('granted', 0, 'wait', extract(epoch from v_row.not_before - v_now));
  end if;
  v_tokens := least(p_burst, v_row.tokens + extract(epoch from v_now - v_row.refilled_at) * p_rate);
  v_granted := least(p_want, floor(v_tokens))::integer;
  update public.notion_budget set tokens = v_tokens - v_granted, refilled_at = v_now where name = p_name;
  return jsonb_build_object('granted', v_granted,
                            'wait', case when v_granted = 0 then (1 - v_tokens) / p_rate else 0 end);
end
$function$;

CREATE OR REPLACE FUNCTION public.take_notion_webhook_arming()
 RETURNS boolean
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with taken as (
    update public.notion_webhook_arming set armed_until = null, taken_at = now()
     where id and armed_until > now()
    returning 1)
  select exists (select 1 from taken)
$function$;

CREATE OR REPLACE FUNCTION public.take_rate_limits(p_limits jsonb)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_limit jsonb;
  v_count integer;
  v_oldest timestamptz;
begin
  if jsonb_typeof(p_limits) is distinct from 'array' then
    raise exception 'p_limits is a list of {bucket, key, limit, seconds}' using errcode = '22023';
  end if;
  -- Locks in one order (bucket, key) for every caller: two requests sharing keys never wait on each other in a cycle.
  for v_limit in
    select l from jsonb_array_elements(p_limits) l
     where (l->>'limit')::integer > 0 and coalesce(l->>'key', '') <> ''
     order by l->>'bucket', l->>'key'
  loop
    perform pg_advisory_xact_lock(hashtextextended('rate:' || (v_limit->>'bucket') || ':' || (v_limit->>'key'), 0));
    select count(*), min(hit_at) into v_count, v_oldest from public.rate_limit_hits
     where bucket = v_limit->>'bucket' and key = v_limit->>'key'
       and hit_at > now() - make_interval(secs => (v_limit->>'seconds')::integer);
    if v_count >= (v_limit->>'limit')::integer then
      -- At most the window: a hit another caller made while this one waited for the lock is newer than now().
      return jsonb_build_object('allowed', false, 'bucket', v_limit->>'bucket', 'retry_after',
        least((v_limit->>'seconds')::integer,
              greatest(1, ceil(extract(epoch from v_oldest + make_interval(secs => (v_limit->>'seconds')::integer)
                                                  - now())))::integer));
    end if;
  end loop;
  insert into public.rate_limit_hits (bucket, key)
  select l->>'bucket', left(l->>'key', 400) from jsonb_array_elements(p_limits) l
   where (l->>'limit')::integer > 0 and coalesce(l->>'key', '') <> '';
  -- What has left every window is of no more use: kept for a day, for the operator to look at.
  delete from public.rate_limit_hits h
   where h.id in (select id from public.rate_limit_hits where hit_at < now() - interval '1 day' limit 100);
  return jsonb_build_object('allowed', true, 'bucket', null, 'retry_after', 0);
end
$function$;

CREATE OR REPLACE FUNCTION public.take_sync_lease(p_name text, p_holder text, p_seconds integer)
 RETURNS bigint
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  v_old public.sync_lease;
  v_generation bigint;
begin
  select * into v_old from public.sync_lease where name = p_name for update;
  if found and v_old.holder <> p_holder and v_old.expires_at >= now() then
    return null;
  end if;
  insert into public.sync_lease as l (name, holder, expires_at, generation)
  values (p_name, p_holder, now() + make_interval(secs => p_seconds), 1)
  on conflict (name) do update
    set holder = excluded.holder, expires_at = excluded.expires_at,
        generation = l.generation + case when l.holder = excluded.holder then 0 else 1 end
    where l.expires_at < now() or l.holder = excluded.holder  -- two runs racing for a free lease: one wins
  returning generation into v_generation;
  if v_generation is null then
    return null;
  end if;
  if v_old.holder is not null and v_old.holder <> p_holder then
    update public.sync_outbox set next_attempt_at = now(), failure = 'transient', last_error = 'its run stopped'
     where status = 'pending' and claimed_by = v_old.holder and failure is null;
  end if;
  return v_generation;
end
$function$;

CREATE OR REPLACE FUNCTION public.unlinked_records()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_agg(jsonb_build_object('entity', entity, 'id', id) order by entity, id), '[]'::jsonb) from (
    select 'lead' as entity, id from public.leads where notion_page_id is null and deleted_at is null
    union all select 'client', id from public.clients where notion_page_id is null and deleted_at is null
    union all select 'project', id from public.projects where notion_page_id is null and deleted_at is null
    union all select 'milestone', id from public.milestones where notion_page_id is null and deleted_at is null
    union all select 'deliverable', id from public.deliverables where notion_page_id is null and deleted_at is null
  ) r
  where not exists (select 1 from public.sync_outbox o where o.entity::text = r.entity and o.entity_id = r.id
                    and o.status = 'pending')
$function$;

CREATE OR REPLACE FUNCTION public.use_portal_sign_in(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 SET search_path TO ''
AS $function$
  with used as (
    update public.portal_sign_ins s set used_at = now()
     where s.id = p_id and s.used_at is null and s.expires_at > now() and s.user_id is not null
    returning s.user_id)
  select jsonb_build_object('user_id', u.id, 'email', u.email) from used join public.users u on u.id = used.user_id
   where u.user_type in ('kaa_client', 'sage_client')
$function$;

delete from supabase_migrations.schema_migrations where version = '20261205000200';
