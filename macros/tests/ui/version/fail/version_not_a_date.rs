/// A version is a date, not a number.
const VERSIONS: fw::Versions = fw::Versions::new(&[fw::Version::first("v1", "The first release.")]);

fn main() {
    let _ = VERSIONS;
}
