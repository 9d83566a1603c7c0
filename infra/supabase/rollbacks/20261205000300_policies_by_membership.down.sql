-- Undoes 20261205000300_policies_by_membership.sql (generated with it).

drop policy audit_log_delete on public.audit_log;
create policy audit_log_delete on public.audit_log for delete to authenticated
    using (app_private.is_admin());

drop policy audit_log_insert on public.audit_log;
create policy audit_log_insert on public.audit_log for insert to authenticated
    with check (app_private.is_team());

drop policy audit_log_select on public.audit_log;
create policy audit_log_select on public.audit_log for select to authenticated
    using ((app_private.is_team() OR false));

drop policy audit_log_update on public.audit_log;
create policy audit_log_update on public.audit_log for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy clients_delete on public.clients;
create policy clients_delete on public.clients for delete to authenticated
    using (app_private.is_admin());

drop policy clients_insert on public.clients;
create policy clients_insert on public.clients for insert to authenticated
    with check (app_private.is_team());

drop policy clients_select on public.clients;
create policy clients_select on public.clients for select to authenticated
    using ((app_private.is_team() OR ((user_id = auth.uid()) AND (deleted_at IS NULL))));

drop policy clients_update on public.clients;
create policy clients_update on public.clients for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy deliverables_delete on public.deliverables;
create policy deliverables_delete on public.deliverables for delete to authenticated
    using (app_private.is_admin());

drop policy deliverables_insert on public.deliverables;
create policy deliverables_insert on public.deliverables for insert to authenticated
    with check (app_private.is_team());

drop policy deliverables_select on public.deliverables;
create policy deliverables_select on public.deliverables for select to authenticated
    using ((app_private.is_team() OR ((project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids)) AND (deleted_at IS NULL))));

drop policy deliverables_update on public.deliverables;
create policy deliverables_update on public.deliverables for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy inbound_events_delete on public.inbound_events;
create policy inbound_events_delete on public.inbound_events for delete to authenticated
    using (app_private.is_admin());

drop policy inbound_events_insert on public.inbound_events;
create policy inbound_events_insert on public.inbound_events for insert to authenticated
    with check (app_private.is_team());

drop policy inbound_events_select on public.inbound_events;
create policy inbound_events_select on public.inbound_events for select to authenticated
    using ((app_private.is_team() OR false));

drop policy inbound_events_update on public.inbound_events;
create policy inbound_events_update on public.inbound_events for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy leads_delete on public.leads;
create policy leads_delete on public.leads for delete to authenticated
    using (app_private.is_admin());

drop policy leads_insert on public.leads;
create policy leads_insert on public.leads for insert to authenticated
    with check (app_private.is_team());

drop policy leads_select on public.leads;
create policy leads_select on public.leads for select to authenticated
    using ((app_private.is_team() OR false));

drop policy leads_update on public.leads;
create policy leads_update on public.leads for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy milestone_templates_delete on public.milestone_templates;
create policy milestone_templates_delete on public.milestone_templates for delete to authenticated
    using (app_private.is_admin());

drop policy milestone_templates_insert on public.milestone_templates;
create policy milestone_templates_insert on public.milestone_templates for insert to authenticated
    with check (app_private.is_team());

drop policy milestone_templates_select on public.milestone_templates;
create policy milestone_templates_select on public.milestone_templates for select to anon, authenticated
    using ((app_private.is_team() OR true));

drop policy milestone_templates_update on public.milestone_templates;
create policy milestone_templates_update on public.milestone_templates for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy milestones_delete on public.milestones;
create policy milestones_delete on public.milestones for delete to authenticated
    using (app_private.is_admin());

drop policy milestones_insert on public.milestones;
create policy milestones_insert on public.milestones for insert to authenticated
    with check (app_private.is_team());

drop policy milestones_select on public.milestones;
create policy milestones_select on public.milestones for select to authenticated
    using ((app_private.is_team() OR ((project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids)) AND (deleted_at IS NULL))));

drop policy milestones_update on public.milestones;
create policy milestones_update on public.milestones for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy notifications_delete on public.notifications;
create policy notifications_delete on public.notifications for delete to authenticated
    using (app_private.is_admin());

drop policy notifications_insert on public.notifications;
create policy notifications_insert on public.notifications for insert to authenticated
    with check (app_private.is_admin());

drop policy notifications_select on public.notifications;
create policy notifications_select on public.notifications for select to authenticated
    using ((app_private.is_team() OR (project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids))));

drop policy notifications_update on public.notifications;
create policy notifications_update on public.notifications for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy notion_budget_delete on public.notion_budget;
create policy notion_budget_delete on public.notion_budget for delete to authenticated
    using (app_private.is_admin());

drop policy notion_budget_insert on public.notion_budget;
create policy notion_budget_insert on public.notion_budget for insert to authenticated
    with check (app_private.is_admin());

drop policy notion_budget_select on public.notion_budget;
create policy notion_budget_select on public.notion_budget for select to authenticated
    using (app_private.is_team());

drop policy notion_budget_update on public.notion_budget;
create policy notion_budget_update on public.notion_budget for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy notion_comments_delete on public.notion_comments;
create policy notion_comments_delete on public.notion_comments for delete to authenticated
    using (app_private.is_admin());

drop policy notion_comments_insert on public.notion_comments;
create policy notion_comments_insert on public.notion_comments for insert to authenticated
    with check (app_private.is_admin());

drop policy notion_comments_select on public.notion_comments;
create policy notion_comments_select on public.notion_comments for select to authenticated
    using (app_private.is_team());

drop policy notion_comments_update on public.notion_comments;
create policy notion_comments_update on public.notion_comments for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy notion_properties_delete on public.notion_properties;
create policy notion_properties_delete on public.notion_properties for delete to authenticated
    using (app_private.is_admin());

drop policy notion_properties_insert on public.notion_properties;
create policy notion_properties_insert on public.notion_properties for insert to authenticated
    with check (app_private.is_admin());

drop policy notion_properties_select on public.notion_properties;
create policy notion_properties_select on public.notion_properties for select to authenticated
    using (app_private.is_team());

drop policy notion_properties_update on public.notion_properties;
create policy notion_properties_update on public.notion_properties for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy notion_webhook_arming_delete on public.notion_webhook_arming;
create policy notion_webhook_arming_delete on public.notion_webhook_arming for delete to authenticated
    using (app_private.is_admin());

drop policy notion_webhook_arming_insert on public.notion_webhook_arming;
create policy notion_webhook_arming_insert on public.notion_webhook_arming for insert to authenticated
    with check (app_private.is_admin());

drop policy notion_webhook_arming_select on public.notion_webhook_arming;
create policy notion_webhook_arming_select on public.notion_webhook_arming for select to authenticated
    using (app_private.is_team());

drop policy notion_webhook_arming_update on public.notion_webhook_arming;
create policy notion_webhook_arming_update on public.notion_webhook_arming for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy payments_delete on public.payments;
create policy payments_delete on public.payments for delete to authenticated
    using (app_private.is_admin());

drop policy payments_insert on public.payments;
create policy payments_insert on public.payments for insert to authenticated
    with check (app_private.is_team());

drop policy payments_select on public.payments;
create policy payments_select on public.payments for select to authenticated
    using ((app_private.is_team() OR (project_id IN ( SELECT app_private.my_project_ids() AS my_project_ids))));

drop policy payments_update on public.payments;
create policy payments_update on public.payments for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy portal_sessions_delete on public.portal_sessions;
create policy portal_sessions_delete on public.portal_sessions for delete to authenticated
    using (app_private.is_admin());

drop policy portal_sessions_insert on public.portal_sessions;
create policy portal_sessions_insert on public.portal_sessions for insert to authenticated
    with check (app_private.is_admin());

drop policy portal_sessions_select on public.portal_sessions;
create policy portal_sessions_select on public.portal_sessions for select to authenticated
    using (app_private.is_team());

drop policy portal_sessions_update on public.portal_sessions;
create policy portal_sessions_update on public.portal_sessions for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy portal_sign_ins_delete on public.portal_sign_ins;
create policy portal_sign_ins_delete on public.portal_sign_ins for delete to authenticated
    using (app_private.is_admin());

drop policy portal_sign_ins_insert on public.portal_sign_ins;
create policy portal_sign_ins_insert on public.portal_sign_ins for insert to authenticated
    with check (app_private.is_admin());

drop policy portal_sign_ins_select on public.portal_sign_ins;
create policy portal_sign_ins_select on public.portal_sign_ins for select to authenticated
    using (app_private.is_team());

drop policy portal_sign_ins_update on public.portal_sign_ins;
create policy portal_sign_ins_update on public.portal_sign_ins for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy project_history_delete on public.project_history;
create policy project_history_delete on public.project_history for delete to authenticated
    using (app_private.is_admin());

drop policy project_history_insert on public.project_history;
create policy project_history_insert on public.project_history for insert to authenticated
    with check (app_private.is_admin());

drop policy project_history_select on public.project_history;
create policy project_history_select on public.project_history for select to authenticated
    using (app_private.is_team());

drop policy project_history_update on public.project_history;
create policy project_history_update on public.project_history for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy projects_delete on public.projects;
create policy projects_delete on public.projects for delete to authenticated
    using (app_private.is_admin());

drop policy projects_insert on public.projects;
create policy projects_insert on public.projects for insert to authenticated
    with check (app_private.is_team());

drop policy projects_select on public.projects;
create policy projects_select on public.projects for select to authenticated
    using ((app_private.is_team() OR (id IN ( SELECT app_private.my_project_ids() AS my_project_ids))));

drop policy projects_update on public.projects;
create policy projects_update on public.projects for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy rate_limit_hits_delete on public.rate_limit_hits;
create policy rate_limit_hits_delete on public.rate_limit_hits for delete to authenticated
    using (app_private.is_admin());

drop policy rate_limit_hits_insert on public.rate_limit_hits;
create policy rate_limit_hits_insert on public.rate_limit_hits for insert to authenticated
    with check (app_private.is_admin());

drop policy rate_limit_hits_select on public.rate_limit_hits;
create policy rate_limit_hits_select on public.rate_limit_hits for select to authenticated
    using (app_private.is_team());

drop policy rate_limit_hits_update on public.rate_limit_hits;
create policy rate_limit_hits_update on public.rate_limit_hits for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy report_links_delete on public.report_links;
create policy report_links_delete on public.report_links for delete to authenticated
    using (app_private.is_admin());

drop policy report_links_insert on public.report_links;
create policy report_links_insert on public.report_links for insert to authenticated
    with check (app_private.is_admin());

drop policy report_links_select on public.report_links;
create policy report_links_select on public.report_links for select to authenticated
    using (app_private.is_team());

drop policy report_links_update on public.report_links;
create policy report_links_update on public.report_links for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy sync_lease_delete on public.sync_lease;
create policy sync_lease_delete on public.sync_lease for delete to authenticated
    using (app_private.is_admin());

drop policy sync_lease_insert on public.sync_lease;
create policy sync_lease_insert on public.sync_lease for insert to authenticated
    with check (app_private.is_admin());

drop policy sync_lease_select on public.sync_lease;
create policy sync_lease_select on public.sync_lease for select to authenticated
    using (app_private.is_team());

drop policy sync_lease_update on public.sync_lease;
create policy sync_lease_update on public.sync_lease for update to authenticated
    using (app_private.is_admin())
    with check (app_private.is_admin());

drop policy sync_outbox_delete on public.sync_outbox;
create policy sync_outbox_delete on public.sync_outbox for delete to authenticated
    using (app_private.is_admin());

drop policy sync_outbox_insert on public.sync_outbox;
create policy sync_outbox_insert on public.sync_outbox for insert to authenticated
    with check (app_private.is_team());

drop policy sync_outbox_select on public.sync_outbox;
create policy sync_outbox_select on public.sync_outbox for select to authenticated
    using ((app_private.is_team() OR false));

drop policy sync_outbox_update on public.sync_outbox;
create policy sync_outbox_update on public.sync_outbox for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy sync_state_delete on public.sync_state;
create policy sync_state_delete on public.sync_state for delete to authenticated
    using (app_private.is_admin());

drop policy sync_state_insert on public.sync_state;
create policy sync_state_insert on public.sync_state for insert to authenticated
    with check (app_private.is_team());

drop policy sync_state_select on public.sync_state;
create policy sync_state_select on public.sync_state for select to authenticated
    using ((app_private.is_team() OR false));

drop policy sync_state_update on public.sync_state;
create policy sync_state_update on public.sync_state for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy tiers_delete on public.tiers;
create policy tiers_delete on public.tiers for delete to authenticated
    using (app_private.is_admin());

drop policy tiers_insert on public.tiers;
create policy tiers_insert on public.tiers for insert to authenticated
    with check (app_private.is_team());

drop policy tiers_select on public.tiers;
create policy tiers_select on public.tiers for select to anon, authenticated
    using ((app_private.is_team() OR true));

drop policy tiers_update on public.tiers;
create policy tiers_update on public.tiers for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy users_select on public.users;
create policy users_select on public.users for select to authenticated
    using ((app_private.is_team() OR (id = auth.uid())));

drop policy users_update on public.users;
create policy users_update on public.users for update to authenticated
    using (app_private.is_team())
    with check (app_private.is_team());

drop policy businesses_select on public.businesses;
drop policy businesses_insert on public.businesses;
drop policy businesses_update on public.businesses;
drop policy businesses_delete on public.businesses;
drop policy business_members_select on public.business_members;
drop policy business_members_insert on public.business_members;
drop policy business_members_update on public.business_members;
drop policy business_members_delete on public.business_members;
drop function app_private.is_team_of_user(uuid);

delete from supabase_migrations.schema_migrations where version = '20261205000300';
