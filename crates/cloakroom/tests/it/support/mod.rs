pub mod browser;
pub mod kc;
#[allow(dead_code)] // used by some test modules only
pub mod served;
pub mod server;
#[allow(dead_code)] // used by some test modules only
pub mod smtp;
