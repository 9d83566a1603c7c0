-- The team's three new databases: Tasks (synced as records are), Services (the catalogue) and Messages (the e-mails'
-- wording). The sync's entity type learns them here, in a transaction of its own, since a value added to an enum
-- cannot be used in the transaction that adds it (the migrations after this one use them).
-- Rollback: infra/supabase/rollbacks/20261208000100_team_databases.down.sql

alter type public.sync_entity add value if not exists 'task';
alter type public.sync_entity add value if not exists 'service';
alter type public.sync_entity add value if not exists 'message';
