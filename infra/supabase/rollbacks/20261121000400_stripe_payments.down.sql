-- Undoes 20261121000400_stripe_payments.sql. Payments and the ledger keep their rows.
drop function if exists public.apply_stripe_event(text, text, text, text, uuid, smallint, text, text, text, text,
  bigint, bigint, text);
drop function if exists app_private.upsert_payment(text, text, text, uuid, bigint, bigint, text,
  public.payment_state, smallint);
drop function if exists app_private.payment_rank(public.payment_state);
delete from supabase_migrations.schema_migrations where version = '20261121000400';
