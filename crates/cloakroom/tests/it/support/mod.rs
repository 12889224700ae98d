pub mod browser;
pub mod kc;
pub mod server;
