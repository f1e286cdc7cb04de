//! The checked-in bindings of `schema/` are what the generator makes of
//! it now (rust-analyzer's "ensure file contents" pattern): a change to
//! the schema or the generator must come with `cargo xtask codegen`.

#[test]
fn qapi_types_is_fresh() {
    let files = xtask::qapi_types_files().expect("schema/ loads and generates");
    let stale = xtask::stale(&files, &xtask::qapi_types_dir());
    assert!(
        stale.is_empty(),
        "crates/qapi-types is stale; run `cargo xtask codegen` and commit the result:\n  {}",
        stale.join("\n  ")
    );
}

#[test]
fn schema_docs_are_clean() {
    let findings = xtask::doc_check().expect("schema/ loads");
    assert!(
        findings.is_empty(),
        "schema/ has documentation findings (`cargo xtask doc-check`):\n{}",
        findings.join("\n")
    );
}
