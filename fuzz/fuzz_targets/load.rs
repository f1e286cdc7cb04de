//! Any bytes as a root schema: `load_source` must return a value (a schema
//! or an error), never panic, hang or overflow the stack.
//!
//! The root is named `fuzz.json` in the directory `QAPI_FUZZ_DIR` (default:
//! the current directory); its include directives read files there, so
//! pointing it at QEMU's test schemas lets `{ 'include': ... }` reach real
//! files.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn root_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| match std::env::var("QAPI_FUZZ_DIR") {
        Ok(dir) if !dir.is_empty() => format!("{}/fuzz.json", dir.trim_end_matches('/')),
        _ => "fuzz.json".to_string(),
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = qapi_gen::load_source(root_name(), data);
});
