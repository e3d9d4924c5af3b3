//! Compile-time behaviour of the macros: what compiles, and the exact errors for
//! what does not. Regenerate `.stderr` files with `TRYBUILD=overwrite` and review
//! every change.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/*/pass/*.rs");
    cases.compile_fail("tests/ui/*/fail/*.rs");
}
