-- Receipts and invoices as documents: each number (a receipt's, an invoice's) opens one, in the studio's name, read
-- under the caller's row-level security (the client reads only their own); the receipt e-mail carries its receipt.
-- Rollback: infra/supabase/rollbacks/20261209000200_money_documents.down.sql

-- Security invoker: as the client, their own documents only; as the backend, any of the business's.
create function public.money_document(p_number text) returns jsonb
language sql stable
set search_path = ''
as $$
  with doc as (
    select 'receipt' as kind, x.receipt_number as number, x.project_id, x.created_at as issued_at, x.amount,
           x.amount_refunded as refunded, x.currency::text as currency, 'Payment at booking' as label,
           x.status::text as status, null::date as due_date, x.stripe_payment_intent_id as reference
      from scoped.payments x where x.receipt_number = p_number
    union all
    select 'invoice', s.number, s.project_id, coalesce(m.completed_at, s.created_at), s.amount, 0, s.currency,
           s.label || ' (' || trim(trailing '.' from trim(trailing '0' from s.share::text)) || '% of the fee)',
           s.status, s.due_date, s.stripe_invoice_id
      from scoped.payment_schedule s left join scoped.milestones m on m.id = s.milestone_id where s.number = p_number
    union all
    select 'receipt', s.receipt_number, s.project_id, s.paid_at, s.amount_paid, 0, s.currency,
           'Invoice ' || s.number || ': ' || s.label, 'succeeded', null, s.stripe_invoice_id
      from scoped.payment_schedule s where s.receipt_number = p_number
  )
  select jsonb_build_object(
    'kind', d.kind, 'number', d.number, 'issued_at', d.issued_at, 'amount', d.amount, 'refunded', d.refunded,
    'currency', d.currency, 'label', d.label, 'status', d.status, 'due_date', d.due_date, 'reference', d.reference,
    'business', (select jsonb_build_object('name', b.name, 'legal_name', b.legal_name, 'address', b.address,
                                           'contact_email', b.contact_email)
                   from public.businesses b where b.id = p.business_id),
    'client', (select jsonb_build_object('name', c.name, 'email', u.email, 'address', c.project_address)
                 from scoped.clients c join public.users u on u.id = c.user_id where c.id = p.client_id),
    'project', jsonb_build_object('id', p.id, 'name', p.name, 'total', p.amount_total, 'paid', p.amount_paid,
                                  'balance_due', p.balance_due))
    from doc d join scoped.projects p on p.id = d.project_id and p.deleted_at is null
   where p_number ~ '^(RCT|INV)-[0-9]{5,12}$'
   limit 1
$$;
revoke all on function public.money_document(text) from public, anon;
grant execute on function public.money_document(text) to authenticated, service_role;

-- A project's documents, newest first: what the receipt e-mail encloses.
create function public.project_documents(p_project_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('kind', d.kind, 'number', d.number, 'at', d.at) order by d.at desc,
                            d.number desc), '[]'::jsonb)
    from (select 'receipt' as kind, x.receipt_number as number, x.created_at as at from scoped.payments x
           where x.project_id = p_project_id and x.receipt_number is not null
          union all
          select 'invoice', s.number, s.updated_at from scoped.payment_schedule s
           where s.project_id = p_project_id and s.number is not null
          union all
          select 'receipt', s.receipt_number, s.paid_at from scoped.payment_schedule s
           where s.project_id = p_project_id and s.receipt_number is not null) d
$$;
revoke all on function public.project_documents(uuid) from public, anon, authenticated;
grant execute on function public.project_documents(uuid) to service_role;

-- The portal lists each payment with its receipt's number.
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
                                                               'currency', x.currency, 'status', x.status, 'receipt_number', x.receipt_number,
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
    'studio_notes', p.studio_notes,
    'money', jsonb_build_object('total', p.amount_total, 'paid', p.amount_paid, 'balance_due', p.balance_due,
                                'currency', coalesce((select x.currency from scoped.payments x
                                                       where x.project_id = p.id limit 1), t.currency)),
    'schedule', (select coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'label', s.label, 'share', s.share,
                                                               'amount', s.amount, 'currency', s.currency,
                                                               'status', s.status, 'number', s.number,
                                                               'receipt_number', s.receipt_number,
                                                               'due_date', s.due_date, 'paid_at', s.paid_at,
                                                               'invoice_url', s.hosted_invoice_url)
                                           order by s.position), '[]')
                   from scoped.payment_schedule s where s.project_id = p.id))
    from scoped.projects p left join scoped.tiers t on t.id = p.tier
   where p.id = p_id and p.deleted_at is null
$function$;
