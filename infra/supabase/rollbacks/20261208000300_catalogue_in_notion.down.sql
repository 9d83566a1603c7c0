-- Undoes 20261208000300_catalogue_in_notion.sql: the catalogue and the wording only as Postgres and the template
-- files hold them, and the functions as 20261208000200 left them.

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
           'context', app_private.notification_context(c.id)) order by c.created_at), '[]'::jsonb)
    into v_claimed from claimed c;
  return v_claimed;
end
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
      from scoped.notifications where p_status is null or status::text = p_status
     order by created_at desc limit p_limit) r
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
        from scoped.tiers t), '[]'::jsonb),
    'milestones', coalesce((
      select jsonb_object_agg(m.tier, m.names)
        from (select tier, jsonb_agg(name order by "order") as names
                from scoped.milestone_templates group by tier) m), '{}'::jsonb))
$function$;

CREATE OR REPLACE FUNCTION app_private.synced_table(p_entity text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO ''
AS $function$
  select p_entity::public.sync_entity::text || 's'
$function$;

drop function public.note_source_watermark(text, text, timestamptz);
drop function public.set_tier_stripe(smallint, text, text, bigint);
drop function public.apply_mail_template(text, text, text, boolean, text, text, jsonb);
drop function public.apply_services(jsonb, jsonb);
drop function public.link_source_page(text, text, text, text);
drop function public.source_pages(text);
drop function public.refuse_source_edit(text, text, text, text, text, jsonb);
drop function app_private.refuse_source_edit(text, text, text, text, text, jsonb);
drop function app_private.money_band(bigint, bigint);
drop trigger notifications_wording on public.notifications;
drop function app_private.wording_in_force();
drop view scoped.notifications;
alter table public.notifications drop column template_version;
create view scoped.notifications with (security_invoker = true) as
  select * from public.notifications where business_id = (select app_private.business_id())
  with cascaded check option;
grant select, insert, update, delete on scoped.notifications to authenticated, service_role;
drop view scoped.mail_templates;
drop table public.mail_templates;
delete from public.notion_comments where entity in ('service', 'message');
delete from public.notion_properties where entity in ('service', 'message');
delete from public.sync_state where entity in ('service', 'message');
drop view scoped.notion_source_pages;
drop table public.notion_source_pages;
drop view scoped.tiers;
alter table public.tiers drop column active;
create view scoped.tiers with (security_invoker = true) as
  select * from public.tiers where business_id = (select app_private.business_id()) with cascaded check option;
grant select, insert, update, delete on scoped.tiers to authenticated, service_role;
grant select on scoped.tiers to anon;

delete from supabase_migrations.schema_migrations where version = '20261208000300';
