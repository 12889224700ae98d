pub mod browser;
pub mod kc;
pub mod server;
#[allow(dead_code)] // used by some test modules only
pub mod smtp;
