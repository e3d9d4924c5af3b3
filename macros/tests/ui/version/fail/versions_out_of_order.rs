/// The first release is listed first: versions go newest first.
const VERSIONS: fw::Versions = fw::Versions::new(&[
    fw::Version::first("2026-06-01", "The first release."),
    fw::Version::new("2026-12-01", "Rates are `rate`.", &[]),
]);

fn main() {
    let _ = VERSIONS;
}
