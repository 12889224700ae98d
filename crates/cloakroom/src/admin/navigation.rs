//! Navigation between handles: `kc.realm("acme").users()`, `…client(uuid).roles()`.
//!
//! Handles are cheap, owned values (a client clone and a few strings). Creating one does no I/O.

use crate::Client;
use crate::generated::*;

impl Client {
    /// All realms of the server (list, create).
    pub fn realms(&self) -> RealmsHandle {
        RealmsHandle::new(self.clone())
    }

    /// One realm, to administer it. The realm is an argument of every call, never state of
    /// the client: `kc.realm("a")` and `kc.realm("b")` can be used side by side.
    pub fn realm(&self, name: impl Into<String>) -> RealmHandle {
        RealmHandle::new(self.clone(), name)
    }

    /// The server's own information: version, enabled features, providers, themes.
    pub fn server_info(&self) -> ServerInfoHandle {
        ServerInfoHandle::new(self.clone())
    }
}

impl RealmHandle {
    /// The realm's user-storage (user federation, e.g. LDAP) providers: sync, unlink, remove
    /// imported users.
    pub fn user_storage(&self) -> UserStorageHandle {
        UserStorageHandle::new(self.client.clone(), self.realm.clone())
    }

    /// The realm's clients through the Admin API v2 (`/admin/api/{realm}/clients/v2`), which
    /// the server serves only with the experimental feature `client-admin-api:v2`.
    pub fn clients_v2(&self) -> ClientsV2Handle {
        ClientsV2Handle::new(self.client.clone(), self.realm.clone())
    }

    /// Effective and available client-role mappings across every client in one call (the
    /// admin console's `ui-ext` endpoints).
    pub fn role_mappings_ui(&self) -> RoleMappingsUiHandle {
        RoleMappingsUiHandle::new(self.client.clone(), self.realm.clone())
    }

    /// The admin console's endpoints of this realm (whoami).
    pub fn admin_console(&self) -> AdminConsoleHandle {
        AdminConsoleHandle::new(self.client.clone(), self.realm.clone())
    }

    /// The realm's admin events.
    pub fn admin_events(&self) -> AdminEventsHandle {
        AdminEventsHandle::new(self.client.clone(), self.realm.clone())
    }

    /// Brute-force detection state of the realm's users.
    pub fn attack_detection(&self) -> AttackDetectionHandle {
        AttackDetectionHandle::new(self.client.clone(), self.realm.clone())
    }

    /// Authentication providers, executions and settings.
    pub fn authentication(&self) -> AuthenticationHandle {
        AuthenticationHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One authenticator configuration.
    pub fn authenticator_config(&self, config_id: impl Into<String>) -> AuthenticatorConfigHandle {
        AuthenticatorConfigHandle::new(self.client.clone(), self.realm.clone(), config_id)
    }

    /// One authentication execution.
    pub fn auth_execution(&self, execution_id: impl Into<String>) -> AuthExecutionHandle {
        AuthExecutionHandle::new(self.client.clone(), self.realm.clone(), execution_id)
    }

    /// The realm's authentication flows.
    pub fn auth_flows(&self) -> AuthFlowsHandle {
        AuthFlowsHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One authentication flow, by alias.
    pub fn auth_flow_by_alias(&self, flow_alias: impl Into<String>) -> AuthFlowByAliasHandle {
        AuthFlowByAliasHandle::new(self.client.clone(), self.realm.clone(), flow_alias)
    }

    /// One authentication flow, by id.
    pub fn auth_flow(&self, flow_id: impl Into<String>) -> AuthFlowHandle {
        AuthFlowHandle::new(self.client.clone(), self.realm.clone(), flow_id)
    }

    /// The realm's required actions.
    pub fn required_actions(&self) -> RequiredActionsHandle {
        RequiredActionsHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One required action.
    pub fn required_action(&self, alias: impl Into<String>) -> RequiredActionHandle {
        RequiredActionHandle::new(self.client.clone(), self.realm.clone(), alias)
    }

    /// Client policies and profiles.
    pub fn client_policies(&self) -> ClientPoliciesHandle {
        ClientPoliciesHandle::new(self.client.clone(), self.realm.clone())
    }

    /// The realm's client scopes.
    pub fn client_scopes(&self) -> ClientScopesHandle {
        ClientScopesHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One client scope, by id.
    pub fn client_scope(&self, client_scope_id: impl Into<String>) -> ClientScopeHandle {
        ClientScopeHandle::new(self.client.clone(), self.realm.clone(), client_scope_id)
    }

    /// Client scopes under their old name.
    pub fn client_templates(&self) -> ClientTemplatesHandle {
        ClientTemplatesHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One client scope under its old name.
    pub fn client_template(&self, client_scope_id: impl Into<String>) -> ClientTemplateHandle {
        ClientTemplateHandle::new(self.client.clone(), self.realm.clone(), client_scope_id)
    }

    /// The realm's clients.
    pub fn clients(&self) -> ClientsHandle {
        ClientsHandle::new(self.client.clone(), self.realm.clone())
    }

    /// Initial access tokens for client registration.
    pub fn client_initial_access(&self) -> ClientInitialAccessHandle {
        ClientInitialAccessHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One client, by its id (the UUID, not the `clientId`).
    pub fn client(&self, client_uuid: impl Into<String>) -> ClientHandle {
        ClientHandle::new(self.client.clone(), self.realm.clone(), client_uuid)
    }

    /// The realm's components (user storage, keys, ...).
    pub fn components(&self) -> ComponentsHandle {
        ComponentsHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One component.
    pub fn component(&self, component_id: impl Into<String>) -> ComponentHandle {
        ComponentHandle::new(self.client.clone(), self.realm.clone(), component_id)
    }

    /// Client scopes every new client gets as default scopes.
    pub fn default_default_client_scopes(&self) -> RealmDefaultClientScopesHandle {
        RealmDefaultClientScopesHandle::new(self.client.clone(), self.realm.clone())
    }

    /// Groups every new user joins.
    pub fn default_groups(&self) -> DefaultGroupsHandle {
        DefaultGroupsHandle::new(self.client.clone(), self.realm.clone())
    }

    /// Client scopes every new client gets as optional scopes.
    pub fn default_optional_client_scopes(&self) -> RealmOptionalClientScopesHandle {
        RealmOptionalClientScopesHandle::new(self.client.clone(), self.realm.clone())
    }

    /// The realm's login events and event settings.
    pub fn events(&self) -> EventsHandle {
        EventsHandle::new(self.client.clone(), self.realm.clone())
    }

    /// The realm's top-level groups.
    pub fn groups(&self) -> GroupsHandle {
        GroupsHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One group, by id.
    pub fn group(&self, group_id: impl Into<String>) -> GroupHandle {
        GroupHandle::new(self.client.clone(), self.realm.clone(), group_id)
    }

    /// The realm's identity providers.
    pub fn identity_providers(&self) -> IdentityProvidersHandle {
        IdentityProvidersHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One identity provider, by alias.
    pub fn identity_provider(&self, alias: impl Into<String>) -> IdentityProviderHandle {
        IdentityProviderHandle::new(self.client.clone(), self.realm.clone(), alias)
    }

    /// The realm's localized texts.
    pub fn localization(&self) -> LocalizationHandle {
        LocalizationHandle::new(self.client.clone(), self.realm.clone())
    }

    /// The realm's organizations.
    pub fn organizations(&self) -> OrganizationsHandle {
        OrganizationsHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One organization, by id.
    pub fn organization(&self, org_id: impl Into<String>) -> OrganizationHandle {
        OrganizationHandle::new(self.client.clone(), self.realm.clone(), org_id)
    }

    /// The realm's realm-level roles.
    pub fn roles(&self) -> RolesHandle {
        RolesHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One role (realm or client), by id.
    pub fn role_by_id(&self, role_id: impl Into<String>) -> RoleByIdHandle {
        RoleByIdHandle::new(self.client.clone(), self.realm.clone(), role_id)
    }

    /// One realm role, by name.
    pub fn role(&self, role_name: impl Into<String>) -> RoleHandle {
        RoleHandle::new(self.client.clone(), self.realm.clone(), role_name)
    }

    /// The realm's users.
    pub fn users(&self) -> UsersHandle {
        UsersHandle::new(self.client.clone(), self.realm.clone())
    }

    /// The realm's user profile configuration.
    pub fn user_profile(&self) -> UserProfileHandle {
        UserProfileHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One user, by id.
    pub fn user(&self, user_id: impl Into<String>) -> UserHandle {
        UserHandle::new(self.client.clone(), self.realm.clone(), user_id)
    }

    /// The realm's workflows.
    pub fn workflows(&self) -> WorkflowsHandle {
        WorkflowsHandle::new(self.client.clone(), self.realm.clone())
    }

    /// One workflow, by id.
    pub fn workflow(&self, workflow_id: impl Into<String>) -> WorkflowHandle {
        WorkflowHandle::new(self.client.clone(), self.realm.clone(), workflow_id)
    }
}

impl ClientHandle {
    /// Authorization services of this client (its resource server).
    pub fn authz(&self) -> ResourceServerHandle {
        ResourceServerHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.client_uuid.clone(),
        )
    }

    /// Permissions of this client's resource server.
    pub fn authz_permissions(&self) -> AuthzPermissionsHandle {
        AuthzPermissionsHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.client_uuid.clone(),
        )
    }

    /// Policies of this client's resource server.
    pub fn authz_policies(&self) -> AuthzPoliciesHandle {
        AuthzPoliciesHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.client_uuid.clone(),
        )
    }

    /// Resources of this client's resource server.
    pub fn authz_resources(&self) -> AuthzResourcesHandle {
        AuthzResourcesHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.client_uuid.clone(),
        )
    }

    /// One resource of this client's resource server.
    pub fn authz_resource(&self, resource_id: impl Into<String>) -> AuthzResourceHandle {
        AuthzResourceHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.client_uuid.clone(),
            resource_id,
        )
    }

    /// Scopes of this client's resource server.
    pub fn authz_scopes(&self) -> AuthzScopesHandle {
        AuthzScopesHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.client_uuid.clone(),
        )
    }

    /// One scope of this client's resource server.
    pub fn authz_scope(&self, scope_id: impl Into<String>) -> AuthzScopeHandle {
        AuthzScopeHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.client_uuid.clone(),
            scope_id,
        )
    }

    /// One certificate attribute of this client (for example `jwt.credential`).
    pub fn certificate(&self, attr: impl Into<String>) -> ClientCertificateHandle {
        ClientCertificateHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.client_uuid.clone(),
            attr,
        )
    }

    /// This client's roles.
    pub fn roles(&self) -> ClientRolesHandle {
        ClientRolesHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.client_uuid.clone(),
        )
    }

    /// One role of this client, by name.
    pub fn role(&self, role_name: impl Into<String>) -> ClientRoleHandle {
        ClientRoleHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.client_uuid.clone(),
            role_name,
        )
    }
}

impl OrganizationHandle {
    /// One group of this organization.
    pub fn group(&self, group_id: impl Into<String>) -> OrganizationGroupHandle {
        OrganizationGroupHandle::new(
            self.client.clone(),
            self.realm.clone(),
            self.org_id.clone(),
            group_id,
        )
    }
}
