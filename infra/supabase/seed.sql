-- The studio's catalogue: four service tiers and the milestones each tier's projects start with.
-- Safe to run any number of times: it writes only what is missing. Once written, the catalogue is the team's, kept
-- in Notion's Services database (`atelier notion setup` makes its pages): a later seed never puts a price back.

insert into public.tiers as t (id, name, description, min_budget_cents, max_budget_cents, routing, price_cents, features)
values
  (1, 'The Concept', 'A focused design concept for a simple renovation.', 250000, 750000, 'auto', 250000,
   '["Discovery call", "Concept design", "One revision round"]'),
  (2, 'The Builder', 'Permit-ready drawings for standard renovations and additions.', 750000, 1500000, 'auto', 750000,
   '["Schematic design", "Design development", "Construction drawings", "Permit set"]'),
  (3, 'The Concierge', 'Full service from survey to construction support for larger work.', 1500000, 3500000,
   'conditional', 1500000,
   '["Existing-conditions survey", "Full design", "Permitting support", "Construction administration"]'),
  (4, 'KAA White Glove', 'Bespoke, studio-led engagements. We choose the client.', 3500000, null, 'manual', 3500000,
   '["Private consultation", "Master planning", "Contractor selection", "Construction administration"]')
on conflict (business_id, id) do nothing;

insert into public.milestone_templates (tier, "order", name, due_offset_days)
select v.tier, v."order", v.name, v.days from (values
  (1, 1, 'Discovery call', 0),
  (1, 2, 'Concept design', 14),
  (1, 3, 'Revisions', 21),
  (1, 4, 'Final concept package', 28),
  (2, 1, 'Discovery and site review', 0),
  (2, 2, 'Schematic design', 21),
  (2, 3, 'Design development', 42),
  (2, 4, 'Construction drawings', 63),
  (2, 5, 'Permit set delivered', 77),
  (3, 1, 'Discovery', 0),
  (3, 2, 'Survey and existing conditions', 14),
  (3, 3, 'Schematic design', 35),
  (3, 4, 'Design development', 63),
  (3, 5, 'Construction documents', 91),
  (3, 6, 'Permitting support', 112),
  (3, 7, 'Construction administration', 150),
  (4, 1, 'Private consultation', 0),
  (4, 2, 'Site and feasibility study', 21),
  (4, 3, 'Master plan', 49),
  (4, 4, 'Schematic design', 77),
  (4, 5, 'Design development', 112),
  (4, 6, 'Construction documents', 154),
  (4, 7, 'Contractor selection', 182),
  (4, 8, 'Construction administration', 240)
) v(tier, "order", name, days)
-- A tier's milestones are written only when it has none: the team may have listed fewer, or others.
where not exists (select 1 from public.milestone_templates m
                   where m.tier = v.tier and m.business_id = app_private.business_id());
