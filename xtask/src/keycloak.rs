//! `cargo xtask keycloak fetch|start|stop|status`.

pub fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
