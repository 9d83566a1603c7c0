-- A quote's e-mail shows how it is paid: the tier's schedule (at booking, then at the milestones that carry a
-- share), as the catalogue holds it when the e-mail is sent.
-- Rollback: infra/supabase/rollbacks/20261209000300_quote_schedule.down.sql

CREATE OR REPLACE FUNCTION app_private.notification_context(p_id uuid)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'client_name', coalesce(l.name, ql.name, split_part(n.recipient, '@', 1)),
    'project_id', p.id, 'project_name', p.name, 'tier_name', coalesce(t.name, qt.name),
    'quote', (select jsonb_build_object('id', q.id, 'token', q.link_token, 'amount', q.amount,
                                        'currency', q.currency, 'note', q.note, 'status', q.status,
                                        'expires_at', q.expires_at, 'features', qt.features,
                                        'description', qt.description,
                                        'deposit_percent', qt.deposit_percent,
                                        'instalments', (select coalesce(jsonb_agg(jsonb_build_object(
                                                                 'name', mt.name, 'percent', mt.invoice_percent)
                                                               order by mt."order"), '[]'::jsonb)
                                                          from scoped.milestone_templates mt
                                                         where mt.tier = q.tier and mt.invoice_percent is not null))
               where q.id is not null),
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
    'message', (select jsonb_build_object('id', msg.id, 'body', msg.body, 'author_name', msg.author_name)
                  from scoped.messages msg where msg.id = n.subject_id and n.template = 'message_reply'),
    'details', n.details)
    from scoped.notifications n
    left join scoped.projects p on p.id = n.project_id
    left join scoped.leads l on l.id = p.lead_id
    left join scoped.tiers t on t.id = p.tier
    left join scoped.quotes q on n.template = 'quote_sent' and q.id = n.subject_id
    left join scoped.tiers qt on qt.id = q.tier
    left join scoped.leads ql on ql.id = coalesce(q.lead_id, case when n.template = 'lead_declined'
                                                                  then n.subject_id end)
   where n.id = p_id
$function$;
