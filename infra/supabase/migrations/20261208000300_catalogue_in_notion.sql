-- The catalogue and the e-mails' wording, kept by the team in Notion: the Services database (one page per tier)
-- and the Messages database (one page per client e-mail). A change is validated as a whole here and applied in one
-- transaction, or refused with one comment on the page while the last good version stays in force. Paid projects
-- keep the terms they were sold under (their amount and milestones are theirs); each e-mail records the version of
-- the wording it was written with.
-- Rollback: infra/supabase/rollbacks/20261208000300_catalogue_in_notion.down.sql

alter table public.tiers add column active boolean not null default true;  -- off: leads for it are reviewed
create or replace view scoped.tiers with (security_invoker = true) as
  select * from public.tiers where business_id = (select app_private.business_id()) with cascaded check option;

-- The pages the team keeps the catalogue and the wording on, and what became of the last edit of each: applied, or
-- refused (its hash, so that reading the same edit again never comments twice).
create table public.notion_source_pages (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  page_id text not null unique check (length(page_id) between 1 and 100),
  source text not null check (source in ('service', 'message')),
  key text not null check (length(key) between 1 and 100),  -- the tier's id, or the e-mail's name
  applied_hash text,
  refused_hash text,
  refused_reason text check (length(refused_reason) <= 2000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (business_id, source, key)
);
create view scoped.notion_source_pages with (security_invoker = true) as
  select * from public.notion_source_pages where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.notion_source_pages to authenticated, service_role;
alter table public.notion_source_pages enable row level security;
create policy notion_source_pages_select on public.notion_source_pages for select to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)));
create policy notion_source_pages_insert on public.notion_source_pages for insert to authenticated
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy notion_source_pages_update on public.notion_source_pages for update to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)))
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy notion_source_pages_delete on public.notion_source_pages for delete to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create trigger notion_source_pages_set_updated_at before update on public.notion_source_pages
  for each row execute function app_private.set_updated_at();

-- Each version of a client e-mail's wording, as the team wrote it in Notion; never rewritten (an e-mail sent points
-- at the version it was written with). None for an e-mail: Atelier's own wording (mail/templates).
create table public.mail_templates (
  id uuid primary key default gen_random_uuid(),
  business_id uuid not null default app_private.business_id() references public.businesses (id),
  name text not null check (name in ('payment_receipt', 'milestone_completed', 'deliverable_ready',
                                     'refund_confirmed', 'portal_sign_in', 'quote_sent', 'lead_declined',
                                     'message_reply', 'nps_request')),
  version integer not null check (version > 0),
  subject text not null check (length(btrim(subject)) between 1 and 200),
  body text not null check (length(btrim(body)) between 1 and 20000),
  in_use boolean not null default true,  -- off: Atelier's own wording is used
  notion_page_id text check (length(notion_page_id) <= 100),
  author jsonb check (author is null or jsonb_typeof(author) = 'object'),
  created_at timestamptz not null default now(),
  unique (business_id, id),
  unique (business_id, name, version)
);
create view scoped.mail_templates with (security_invoker = true) as
  select * from public.mail_templates where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.mail_templates to authenticated, service_role;
alter table public.mail_templates enable row level security;
create policy mail_templates_select on public.mail_templates for select to authenticated
    using (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_team(business_id)));
create policy mail_templates_insert on public.mail_templates for insert to authenticated
    with check (((app_private.is_team(business_id) OR (business_id = ( SELECT app_private.business_id() AS business_id))) AND app_private.is_admin(business_id)));
create policy mail_templates_update on public.mail_templates for update to authenticated
    using (false)
    with check (false);
create policy mail_templates_delete on public.mail_templates for delete to authenticated
    using (false);
create trigger mail_templates_never_rewritten before update or delete on public.mail_templates for each row
  execute function app_private.never_rewritten();

-- Each e-mail is written with the wording in force when it is queued (null: Atelier's own).
alter table public.notifications add column template_version integer check (template_version > 0);
create or replace view scoped.notifications with (security_invoker = true) as
  select * from public.notifications where business_id = (select app_private.business_id())
  with cascaded check option;
create function app_private.wording_in_force() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.template_version is null then
    select case when w.in_use then w.version end into new.template_version
      from public.mail_templates w
     where w.business_id = new.business_id and w.name = new.template
     order by w.version desc limit 1;
  end if;
  return new;
end
$$;
create trigger notifications_wording before insert on public.notifications
  for each row execute function app_private.wording_in_force();

create function app_private.money_band(p_min bigint, p_max bigint) returns text
language sql immutable
set search_path = ''
as $$
  select '$' || to_char(p_min / 100, 'FM999,999,999') ||
         case when p_max is null then ' and up' else ' to $' || to_char(p_max / 100, 'FM999,999,999') end
$$;
revoke all on function app_private.money_band(bigint, bigint) from public, anon, authenticated;
grant execute on function app_private.money_band(bigint, bigint) to service_role;

-- A refused edit: kept, and said once on its page (the same edit read again says nothing more).
create function app_private.refuse_source_edit(p_source text, p_key text, p_page_id text, p_hash text,
                                              p_reason text, p_author jsonb) returns boolean
language plpgsql security definer
set search_path = ''
as $$
declare
  v_page public.notion_source_pages;
begin
  insert into public.notion_source_pages (business_id, page_id, source, key)
  values (app_private.business_id(), p_page_id, p_source, p_key)
  on conflict (page_id) do nothing;
  select * into v_page from public.notion_source_pages where page_id = p_page_id for update;
  if v_page.refused_hash is not distinct from p_hash then
    return false;
  end if;
  update public.notion_source_pages set refused_hash = p_hash, refused_reason = left(p_reason, 2000)
   where id = v_page.id;
  insert into public.notion_comments (business_id, entity, record_id, page_id, body)
  values (v_page.business_id, p_source::public.sync_entity, v_page.id, p_page_id,
          left('Atelier did not apply this edit, and the last good version stays in force: ' || p_reason, 2000));
  insert into public.audit_log (business_id, action, resource_type, resource_id, details)
  values (v_page.business_id, p_source || '.refused', p_source, p_key,
          jsonb_build_object('page_id', p_page_id, 'reason', p_reason, 'author', p_author));
  return true;
end
$$;
revoke all on function app_private.refuse_source_edit(text, text, text, text, text, jsonb)
  from public, anon, authenticated;
grant execute on function app_private.refuse_source_edit(text, text, text, text, text, jsonb) to service_role;

create function public.refuse_source_edit(p_source text, p_key text, p_page_id text, p_hash text, p_reason text,
                                          p_author jsonb) returns jsonb
language sql
set search_path = ''
as $$
  select jsonb_build_object('commented',
                            app_private.refuse_source_edit(p_source, p_key, p_page_id, p_hash, p_reason, p_author))
$$;
revoke all on function public.refuse_source_edit(text, text, text, text, text, jsonb) from public, anon, authenticated;
grant execute on function public.refuse_source_edit(text, text, text, text, text, jsonb) to service_role;

-- The source pages Atelier knows, by page id (what was applied and refused), and by key.
create function public.source_pages(p_source text) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_object_agg(s.page_id, jsonb_build_object('key', s.key, 'applied_hash', s.applied_hash,
                                                                 'refused_hash', s.refused_hash)), '{}'::jsonb)
    from scoped.notion_source_pages s where s.source = p_source
$$;
revoke all on function public.source_pages(text) from public, anon, authenticated;
grant execute on function public.source_pages(text) to service_role;

create function public.link_source_page(p_source text, p_key text, p_page_id text, p_hash text) returns jsonb
language sql
set search_path = ''
as $$
  insert into scoped.notion_source_pages (page_id, source, key, applied_hash)
  values (p_page_id, p_source, p_key, p_hash)
  on conflict (business_id, source, key) do update set page_id = excluded.page_id, applied_hash = excluded.applied_hash,
                                                     refused_hash = null, refused_reason = null
  returning jsonb_build_object('page_id', page_id, 'key', key)
$$;
revoke all on function public.link_source_page(text, text, text, text) from public, anon, authenticated;
grant execute on function public.link_source_page(text, text, text, text) to service_role;

-- The Services pages as the team left them, applied as one catalogue or not at all. Each tier given:
-- {id, name, description, features[], price_cents, min_budget_cents, max_budget_cents, routing, active,
--  milestones: [{name, days}], page_id, hash}. Tiers not given keep what they have; the whole is checked.
create function public.apply_services(p_tiers jsonb, p_author jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  t jsonb;
  v_reason text;
  v_page text;
  v_hash text;
  v_old scoped.tiers;
  v_prev record;
  v_first boolean := true;
  v_refused jsonb := '[]'::jsonb;
  v_cur record;
  v_applied jsonb := '[]'::jsonb;
  v_commented boolean := false;
  v_new_milestones jsonb;
  v_old_milestones jsonb;
begin
  if jsonb_typeof(p_tiers) <> 'array' then
    raise exception 'apply_services takes an array of tiers' using errcode = '22023';
  end if;
  -- Each page on its own.
  for t in select * from jsonb_array_elements(p_tiers) loop
    v_page := t->>'page_id';
    v_reason := case
      when not exists (select 1 from scoped.tiers x where x.id = (t->>'id')::smallint)
        then format('Atelier knows no tier %s', t->>'id')
      when nullif(btrim(coalesce(t->>'name', '')), '') is null then 'the service needs a name'
      when length(btrim(t->>'name')) > 100 then 'a service''s name is at most 100 characters'
      when jsonb_typeof(t->'price_cents') <> 'number' then '"Price" needs a number, in the studio''s currency'
      when (t->>'price_cents')::numeric <= 0 then format('the price must be more than 0, not %s',
                                                        round((t->>'price_cents')::numeric / 100, 2))
      when (t->>'price_cents')::numeric > 100000000000 then 'the price is more than Atelier takes'
      when jsonb_typeof(t->'min_budget_cents') <> 'number' or (t->>'min_budget_cents')::numeric < 0
        then 'the budget band needs a start of 0 or more'
      when jsonb_typeof(t->'max_budget_cents') = 'number'
           and (t->>'max_budget_cents')::numeric <= (t->>'min_budget_cents')::numeric
        then 'the budget band must end above where it begins'
      when coalesce(t->>'routing', '') not in ('auto', 'conditional', 'manual')
        then '"Routing" must be Automatic, Conditional or Team review'
      when jsonb_typeof(t->'milestones') <> 'array' or jsonb_array_length(t->'milestones') = 0
        then 'the service has no milestones: list them in the page under "Milestones", one per line, as '
             '"Concept design: day 14"'
      when jsonb_array_length(t->'milestones') > 30 then 'a service has at most 30 milestones'
      when exists (select 1 from jsonb_array_elements(t->'milestones') x
                    where nullif(btrim(coalesce(x->>'name', '')), '') is null or length(x->>'name') > 200
                       or jsonb_typeof(x->'days') <> 'number' or (x->>'days')::numeric < 0
                       or (x->>'days')::numeric > 3650 or (x->>'days')::numeric <> floor((x->>'days')::numeric))
        then 'each milestone needs a name and a whole number of days from the start, 0 to 3650'
      when jsonb_typeof(coalesce(t->'features', '[]')) <> 'array' or jsonb_array_length(coalesce(t->'features', '[]')) > 30
        then 'a service lists at most 30 features'
    end;
    if v_reason is not null then  -- each bad page is told why (once per edit); none of them is applied
      v_commented := app_private.refuse_source_edit('service', t->>'id', v_page, t->>'hash', v_reason, p_author)
                     or v_commented;
      v_refused := v_refused || jsonb_build_object('page_id', v_page, 'reason', v_reason);
    end if;
  end loop;
  if jsonb_array_length(v_refused) > 0 then
    return jsonb_build_object('applied', '[]'::jsonb, 'refused', v_refused->0->>'reason', 'pages', v_refused,
                              'commented', v_commented);
  end if;
  -- The catalogue as a whole: each service its own name, and in tier order, each band begins at or above where the one before it ends.
  select g->>'page_id', g->>'hash', format('another service is called "%s" already: each needs its own name', n.name)
    into v_page, v_hash, v_reason
    from (select coalesce(btrim(o->>'name'), x.name) as name, o as g
            from scoped.tiers x
            left join lateral (select o from jsonb_array_elements(p_tiers) o where (o->>'id')::smallint = x.id) oo(o)
              on true) n
   where lower(n.name) in (select lower(coalesce(btrim(o->>'name'), x.name))
                             from scoped.tiers x
                             left join lateral (select o from jsonb_array_elements(p_tiers) o
                                                 where (o->>'id')::smallint = x.id) oo(o) on true
                            group by 1 having count(*) > 1)
     and n.g is not null
   limit 1;
  if v_reason is not null then
    v_commented := app_private.refuse_source_edit('service', (select o->>'id' from jsonb_array_elements(p_tiers) o
                                                               where o->>'page_id' = v_page limit 1),
                                                  v_page, v_hash, v_reason, p_author);
    return jsonb_build_object('applied', '[]'::jsonb, 'refused', v_reason, 'page_id', v_page,
                              'commented', v_commented);
  end if;
  select null::smallint as id, null::text as name, null::bigint as lo, null::bigint as hi, null::text as page_id,
         null::text as hash into v_prev;
  for v_cur in
    select x.id, coalesce(btrim(g->>'name'), x.name) as name,
           coalesce((g->>'min_budget_cents')::bigint, x.min_budget_cents) as lo,
           case when g is null then x.max_budget_cents else (g->>'max_budget_cents')::bigint end as hi,
           g->>'page_id' as page_id, g->>'hash' as hash
      from scoped.tiers x
      left join lateral (select o from jsonb_array_elements(p_tiers) o where (o->>'id')::smallint = x.id) gg(g) on true
     order by x.id
  loop
    if not v_first and (v_prev.hi is null or v_prev.hi > v_cur.lo) then
      v_reason := format('%s''s budget band (%s) overlaps %s''s (%s): each band must begin where the one before it '
                         'ends, or above it', v_prev.name, app_private.money_band(v_prev.lo, v_prev.hi),
                         v_cur.name, app_private.money_band(v_cur.lo, v_cur.hi));
      -- Said on the page that was edited: the later tier's, unless only the earlier one's was given.
      if v_cur.page_id is not null then
        v_commented := app_private.refuse_source_edit('service', v_cur.id::text, v_cur.page_id, v_cur.hash,
                                                      v_reason, p_author);
        v_page := v_cur.page_id;
      else
        v_commented := app_private.refuse_source_edit('service', v_prev.id::text, v_prev.page_id, v_prev.hash,
                                                      v_reason, p_author);
        v_page := v_prev.page_id;
      end if;
      return jsonb_build_object('applied', '[]'::jsonb, 'refused', v_reason, 'page_id', v_page,
                                'commented', v_commented);
    end if;
    v_prev := v_cur;
    v_first := false;
  end loop;
  -- Applied: each tier whose page changed. A new price drops the Stripe Price that charged the old one.
  for t in select * from jsonb_array_elements(p_tiers) loop
    select * into v_old from scoped.tiers x where x.id = (t->>'id')::smallint for update;
    v_new_milestones := (select jsonb_agg(jsonb_build_object('name', btrim(x->>'name'), 'days', (x->>'days')::integer)
                                          order by o) from jsonb_array_elements(t->'milestones') with ordinality y(x, o));
    v_old_milestones := (select jsonb_agg(jsonb_build_object('name', mt.name, 'days', mt.due_offset_days)
                                          order by mt."order") from scoped.milestone_templates mt
                          where mt.tier = v_old.id);
    if (btrim(t->>'name'), coalesce(t->>'description', ''), coalesce(t->'features', '[]'::jsonb),
        (t->>'price_cents')::bigint, (t->>'min_budget_cents')::bigint, (t->>'max_budget_cents')::bigint,
        (t->>'routing'), coalesce((t->>'active')::boolean, true), v_new_milestones)
       is distinct from
       (v_old.name, v_old.description, v_old.features, v_old.price_cents, v_old.min_budget_cents,
        v_old.max_budget_cents, v_old.routing::text, v_old.active, v_old_milestones) then
      update scoped.tiers x
         set name = btrim(t->>'name'), description = coalesce(left(t->>'description', 2000), ''),
             features = coalesce(t->'features', '[]'::jsonb), price_cents = (t->>'price_cents')::bigint,
             min_budget_cents = (t->>'min_budget_cents')::bigint,
             max_budget_cents = (t->>'max_budget_cents')::bigint, routing = (t->>'routing')::public.routing_mode,
             active = coalesce((t->>'active')::boolean, true),
             stripe_price_id = case when (t->>'price_cents')::bigint = v_old.price_cents then x.stripe_price_id end
       where x.id = v_old.id;
      if v_new_milestones is distinct from v_old_milestones then
        delete from scoped.milestone_templates mt where mt.tier = v_old.id;
        insert into scoped.milestone_templates (tier, name, "order", due_offset_days)
        select v_old.id, left(btrim(x->>'name'), 200), o, (x->>'days')::integer
          from jsonb_array_elements(t->'milestones') with ordinality y(x, o);
      end if;
      insert into scoped.audit_log (action, resource_type, resource_id, details)
      values ('service.changed', 'tier', v_old.id::text, jsonb_build_object(
        'old', jsonb_build_object('name', v_old.name, 'price_cents', v_old.price_cents,
                                  'min_budget_cents', v_old.min_budget_cents, 'max_budget_cents', v_old.max_budget_cents,
                                  'routing', v_old.routing, 'active', v_old.active, 'features', v_old.features,
                                  'milestones', v_old_milestones),
        'new', t - 'hash' - 'page_id', 'author', p_author, 'page_id', t->>'page_id'));
      v_applied := v_applied || to_jsonb(v_old.id);
    end if;
    insert into scoped.notion_source_pages (page_id, source, key, applied_hash)
    values (t->>'page_id', 'service', t->>'id', t->>'hash')
    on conflict (page_id) do update set applied_hash = excluded.applied_hash, refused_hash = null,
                                        refused_reason = null;
  end loop;
  return jsonb_build_object('applied', v_applied);
end
$$;
revoke all on function public.apply_services(jsonb, jsonb) from public, anon, authenticated;
grant execute on function public.apply_services(jsonb, jsonb) to service_role;

-- A Messages page as the team left it (checked against its placeholders by the caller): a new version when its
-- words or "In use" changed.
create function public.apply_mail_template(p_name text, p_subject text, p_body text, p_in_use boolean,
                                           p_page_id text, p_hash text, p_author jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_last scoped.mail_templates;
  v_version integer;
begin
  select * into v_last from scoped.mail_templates w where w.name = p_name order by w.version desc limit 1;
  if v_last.id is not null and (v_last.subject, v_last.body, v_last.in_use)
                               is not distinct from (btrim(p_subject), btrim(p_body), p_in_use) then
    v_version := v_last.version;
  else
    v_version := coalesce(v_last.version, 0) + 1;
    insert into scoped.mail_templates (name, version, subject, body, in_use, notion_page_id, author)
    values (p_name, v_version, btrim(p_subject), btrim(p_body), p_in_use, p_page_id, p_author);
    insert into scoped.audit_log (action, resource_type, resource_id, details)
    values ('message.changed', 'mail_template', p_name,
            jsonb_build_object('version', v_version, 'in_use', p_in_use, 'author', p_author, 'page_id', p_page_id));
  end if;
  insert into scoped.notion_source_pages (page_id, source, key, applied_hash)
  values (p_page_id, 'message', p_name, p_hash)
  on conflict (page_id) do update set applied_hash = excluded.applied_hash, refused_hash = null, refused_reason = null;
  return jsonb_build_object('version', v_version, 'changed', v_version is distinct from v_last.version);
end
$$;
revoke all on function public.apply_mail_template(text, text, text, boolean, text, text, jsonb)
  from public, anon, authenticated;
grant execute on function public.apply_mail_template(text, text, text, boolean, text, text, jsonb) to service_role;

-- The wording each e-mail waiting is written with: its version's, or Atelier's own (none).
CREATE OR REPLACE FUNCTION public.claim_notifications(p_limit integer, p_lease_seconds integer, p_templates text[] DEFAULT NULL::text[])
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
           'context', app_private.notification_context(c.id),
           'wording', (select jsonb_build_object('version', w.version, 'subject', w.subject, 'body', w.body)
                         from scoped.mail_templates w
                        where w.name = c.template and w.version = c.template_version))
           order by c.created_at), '[]'::jsonb)
    into v_claimed from claimed c;
  return v_claimed;
end
$function$;

-- `atelier mail list` shows which wording each e-mail used.
CREATE OR REPLACE FUNCTION public.notification_rows(p_status text, p_limit integer)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select coalesce(jsonb_agg(to_jsonb(r) order by r.created_at desc), '[]'::jsonb) from (
    select id, recipient, template, dedupe_key, status, attempts, subject, sent_at, provider_message_id, last_error,
           created_at, body_html, template_version
      from scoped.notifications where p_status is null or status::text = p_status
     order by created_at desc limit p_limit) r
$function$;

-- The catalogue in one read, with what the Services pages add: each tier's description, features, whether it is
-- offered, its Stripe Price, and its milestones with their days from the start.
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

-- The Stripe Product and Price that charge a tier now (kept in step when Stripe is real).
create function public.set_tier_stripe(p_tier smallint, p_product_id text, p_price_id text, p_price_cents bigint)
returns jsonb
language sql
set search_path = ''
as $$
  update scoped.tiers set stripe_product_id = p_product_id, stripe_price_id = p_price_id
   where id = p_tier and price_cents = p_price_cents
  returning jsonb_build_object('tier', id, 'stripe_price_id', stripe_price_id)
$$;
revoke all on function public.set_tier_stripe(smallint, text, text, bigint) from public, anon, authenticated;
grant execute on function public.set_tier_stripe(smallint, text, text, bigint) to service_role;

-- How far the Services and Messages data sources have been read (their pages are read by edit time, as the
-- records' are).
create function public.note_source_watermark(p_entity text, p_data_source_id text, p_watermark timestamptz)
returns void
language sql
set search_path = ''
as $$
  insert into scoped.sync_state as s (data_source_id, entity, watermark)
  values (p_data_source_id, p_entity::public.sync_entity, p_watermark)
  on conflict (data_source_id) do update set watermark = greatest(s.watermark, excluded.watermark)
    where s.watermark is distinct from greatest(s.watermark, excluded.watermark)
$$;
revoke all on function public.note_source_watermark(text, text, timestamptz) from public, anon, authenticated;
grant execute on function public.note_source_watermark(text, text, timestamptz) to service_role;

-- The table a synced entity's rows are in: a Services or Messages page's is its source page's row (a comment on
-- one takes its business from there).
CREATE OR REPLACE FUNCTION app_private.synced_table(p_entity text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO ''
AS $function$
  select case when p_entity in ('service', 'message') then 'notion_source_pages'
              else p_entity::public.sync_entity::text || 's' end
$function$;
