//! Writes `data/x86_64.json` from a real QEMU:
//! `cargo run -p cpu-models --example import_x86 -- /usr/bin/qemu-system-x86_64 OUT`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let qemu = args
        .get(1)
        .map_or("/usr/bin/qemu-system-x86_64", String::as_str);
    let out = args
        .get(2)
        .map_or("crates/cpu-models/data/x86_64.json", String::as_str);
    match cpu_models::x86::import(std::path::Path::new(qemu)) {
        Ok(text) => {
            if let Err(e) = std::fs::write(out, text) {
                eprintln!("{out}: {e}");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
