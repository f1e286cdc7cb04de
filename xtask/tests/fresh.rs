//! The checked-in bindings of our schemas are what the generator makes of
//! it now (rust-analyzer's "ensure file contents" pattern): a change to
//! the schema or the generator must come with `cargo xtask codegen`.

#[test]
fn checked_in_bindings_are_fresh() {
    let all = xtask::bindings().expect("our schemas load and generate");
    assert_eq!(all.len(), 2, "qapi-types and qga-client");
    for b in &all {
        let stale = xtask::stale_bindings(b);
        assert!(
            stale.is_empty(),
            "{} is stale; run `cargo xtask codegen` and commit the result:\n  {}",
            b.name,
            stale.join("\n  ")
        );
    }
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
