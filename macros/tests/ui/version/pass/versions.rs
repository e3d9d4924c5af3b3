#[fw::model]
pub struct Dividend {
    pub id: i64,
    pub rate: rust_decimal::Decimal,
    pub status: String,
}

#[fw::resource(
    model = Dividend,
    path = "/dividends",
    fields = all,
    actions(list, retrieve),
    permissions(public)
)]
pub struct DividendResource;

const RATE_AND_STATUS: fw::VersionChange = fw::VersionChange::new(
    "The rate is `rate`; dividends have a status.",
    &[
        fw::Edit::renamed(fw::field!(DividendResource, rate), "amount_per_share"),
        fw::Edit::added(fw::field!(DividendResource, status)),
    ],
);

const VERSIONS: fw::Versions = fw::Versions::new(&[
    fw::Version::new("2026-12-01", "Rates are `rate`.", &[RATE_AND_STATUS]),
    fw::Version::first("2026-06-01", "The first release."),
]);

fn main() {
    let _ = fw::Api::new("Dividends", "1.0.0")
        .resource::<DividendResource>()
        .versions(VERSIONS);
}
