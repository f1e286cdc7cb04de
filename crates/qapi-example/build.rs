//! Compiles `schema/example.json` (and what it includes) into
//! `$OUT_DIR/qapi.rs`, which `src/lib.rs` includes.

fn main() {
    let generated = qapi_gen::Builder::new("schema/example.json")
        // The schema's `'if': 'CONFIG_FAN'` becomes `#[cfg(feature = "fan")]`.
        .cfg("CONFIG_FAN", r#"feature = "fan""#)
        .generate();
    if let Err(e) = generated {
        // The error text is QEMU's, located in the schema; cargo shows it.
        eprintln!("{e}");
        std::process::exit(1);
    }
}
