pub mod kc;
pub mod server;
