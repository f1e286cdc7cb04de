//! Says why the conformance tests did not run when `../shared` is absent.

#[cfg(not(qemu_schema))]
#[test]
fn shared_is_absent() {
    if std::env::var_os("QAPI_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("QAPI_REQUIRE_SHARED=1 but ../shared (QEMU's schema and the oracle) is absent");
    }
    eprintln!("skipping the QEMU conformance tests: ../shared is not beside the repository");
}
