-- Undoes 20261203000400_rate_limits.sql: start_portal_sign_in as 20261203000200 made it.
drop function if exists public.take_rate_limits(jsonb);
drop table if exists public.rate_limit_hits;
alter table public.portal_sign_ins drop column if exists by_operator;

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

delete from supabase_migrations.schema_migrations where version = '20261203000400';
