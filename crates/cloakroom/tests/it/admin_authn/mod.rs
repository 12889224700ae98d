//! Authentication, authorization services, components, workflows, client policies, initial
//! access tokens and realm default client scopes: every operation of these handles against the
//! real server.

mod authz;
mod client_policies;
mod components;
mod flows;
mod required_actions;
mod workflows;
