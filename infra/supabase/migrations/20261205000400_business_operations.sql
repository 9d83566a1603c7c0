-- The operator's and the edges' reads and writes of businesses: the directory every function resolves a request's
-- business from, and `atelier business add` (a new business starts with a copy of the default's catalogue, in its
-- own currency, so it can take leads at once; the team changes it afterwards).
-- Rollback: infra/supabase/rollbacks/20261205000400_business_operations.down.sql

create function public.business_directory() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', b.id, 'slug', b.slug, 'name', b.name, 'domain', b.domain, 'legal_name', b.legal_name,
           'contact_email', b.contact_email, 'address', b.address, 'currency', b.currency, 'time_zone', b.time_zone,
           'brand_colour', b.brand_colour, 'logo_key', b.logo_key, 'ses_sender', b.ses_sender,
           'stripe_secret_key_ref', b.stripe_secret_key_ref, 'stripe_webhook_secret_ref', b.stripe_webhook_secret_ref,
           'notion_token_ref', b.notion_token_ref, 'notion_webhook_token_ref', b.notion_webhook_token_ref,
           'notion_parent_page_id', b.notion_parent_page_id, 'notion_base_url', b.notion_base_url,
           'position', b.position, 'created_at', b.created_at) order by b.position), '[]'::jsonb)
    from public.businesses b
$$;

create function public.add_business(p_slug text, p_name text, p_currency text default null,
                                    p_details jsonb default '{}'::jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_id uuid;
  v_currency text := lower(coalesce(nullif(btrim(p_currency), ''), 'usd'));
  v_source uuid := app_private.default_business();
begin
  if p_slug is null or p_slug !~ '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' then
    raise exception 'a business slug is 1-32 lowercase letters, digits or hyphens, not starting or ending with one'
      using errcode = '22023';
  end if;
  if exists (select 1 from public.businesses where slug = p_slug) then
    raise exception 'a business with the slug % already exists: `atelier business list` shows them', p_slug
      using errcode = '23505';
  end if;
  insert into public.businesses (slug, name, currency, legal_name, contact_email, address, time_zone, brand_colour,
                                 domain, ses_sender)
  values (p_slug, btrim(p_name), v_currency, p_details->>'legal_name', p_details->>'contact_email',
          p_details->>'address', coalesce(p_details->>'time_zone', 'UTC'),
          coalesce(p_details->>'brand_colour', '#1f3a5f'), p_details->>'domain', p_details->>'ses_sender')
  returning id into v_id;
  insert into public.tiers (business_id, id, name, description, min_budget_cents, max_budget_cents, routing,
                            price_cents, currency, features, stripe_product_id, stripe_price_id)
  select v_id, t.id, t.name, t.description, t.min_budget_cents, t.max_budget_cents, t.routing, t.price_cents,
         v_currency, t.features, null, null
    from public.tiers t where t.business_id = v_source;
  insert into public.milestone_templates (business_id, tier, "order", name, due_offset_days)
  select v_id, m.tier, m."order", m.name, m.due_offset_days
    from public.milestone_templates m where m.business_id = v_source;
  return (select d from jsonb_array_elements(public.business_directory()) d where d->>'id' = v_id::text);
end
$$;

-- Where a business's secrets are: Secrets Manager ARNs in production, dev.json keys locally. Only the keys given
-- change; a null value clears one.
create function public.set_business_settings(p_slug text, p_settings jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_unknown text;
begin
  select k into v_unknown from jsonb_object_keys(p_settings) k
   where k not in ('name', 'legal_name', 'contact_email', 'address', 'time_zone', 'brand_colour', 'logo_key',
                   'domain', 'ses_sender', 'stripe_secret_key_ref', 'stripe_webhook_secret_ref', 'notion_token_ref',
                   'notion_webhook_token_ref', 'notion_parent_page_id', 'notion_base_url')
   limit 1;
  if v_unknown is not null then
    raise exception 'a business has no setting %', v_unknown using errcode = '22023';
  end if;
  update public.businesses b set
    name = case when p_settings ? 'name' then p_settings->>'name' else b.name end,
    legal_name = case when p_settings ? 'legal_name' then p_settings->>'legal_name' else b.legal_name end,
    contact_email = case when p_settings ? 'contact_email' then p_settings->>'contact_email' else b.contact_email end,
    address = case when p_settings ? 'address' then p_settings->>'address' else b.address end,
    time_zone = case when p_settings ? 'time_zone' then p_settings->>'time_zone' else b.time_zone end,
    brand_colour = case when p_settings ? 'brand_colour' then p_settings->>'brand_colour' else b.brand_colour end,
    logo_key = case when p_settings ? 'logo_key' then p_settings->>'logo_key' else b.logo_key end,
    domain = case when p_settings ? 'domain' then p_settings->>'domain' else b.domain end,
    ses_sender = case when p_settings ? 'ses_sender' then p_settings->>'ses_sender' else b.ses_sender end,
    stripe_secret_key_ref = case when p_settings ? 'stripe_secret_key_ref'
                                 then p_settings->>'stripe_secret_key_ref' else b.stripe_secret_key_ref end,
    stripe_webhook_secret_ref = case when p_settings ? 'stripe_webhook_secret_ref'
                                     then p_settings->>'stripe_webhook_secret_ref' else b.stripe_webhook_secret_ref end,
    notion_token_ref = case when p_settings ? 'notion_token_ref'
                            then p_settings->>'notion_token_ref' else b.notion_token_ref end,
    notion_webhook_token_ref = case when p_settings ? 'notion_webhook_token_ref'
                                    then p_settings->>'notion_webhook_token_ref' else b.notion_webhook_token_ref end,
    notion_parent_page_id = case when p_settings ? 'notion_parent_page_id'
                                 then p_settings->>'notion_parent_page_id' else b.notion_parent_page_id end,
    notion_base_url = case when p_settings ? 'notion_base_url'
                           then p_settings->>'notion_base_url' else b.notion_base_url end
  where b.slug = p_slug;
  if not found then
    raise exception 'no business with the slug %: `atelier business list` shows them', p_slug using errcode = 'P0002';
  end if;
  return (select d from jsonb_array_elements(public.business_directory()) d where d->>'slug' = p_slug);
end
$$;

revoke all on function public.business_directory(), public.add_business(text, text, text, jsonb),
  public.set_business_settings(text, jsonb) from public, anon, authenticated;
grant execute on function public.business_directory(), public.add_business(text, text, text, jsonb),
  public.set_business_settings(text, jsonb) to service_role;
