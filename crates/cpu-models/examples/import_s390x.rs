//! Writes `data/s390x.json` from a real QEMU:
//! `cargo run -p cpu-models --example import_s390x -- /usr/bin/qemu-system-s390x OUT`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let qemu = args
        .get(1)
        .map_or("/usr/bin/qemu-system-s390x", String::as_str);
    let out = args
        .get(2)
        .map_or("crates/cpu-models/data/s390x.json", String::as_str);
    match cpu_models::s390x::import(std::path::Path::new(qemu)) {
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
