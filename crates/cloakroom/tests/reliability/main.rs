//! Reliability against the real Keycloak (being written).
