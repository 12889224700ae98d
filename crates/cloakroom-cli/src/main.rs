//! The `cloakroom` command-line tool.

fn main() {
    eprintln!("cloakroom: not implemented yet");
    std::process::exit(2);
}
