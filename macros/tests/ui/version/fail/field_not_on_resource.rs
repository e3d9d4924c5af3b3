#[fw::model]
pub struct Dividend {
    pub id: i64,
    pub rate: rust_decimal::Decimal,
}

#[fw::resource(
    model = Dividend,
    path = "/dividends",
    fields = all,
    actions(list, retrieve),
    permissions(public)
)]
pub struct DividendResource;

/// `rates` is misspelled: the resource's field is `rate`.
const RENAMED: fw::VersionChange = fw::VersionChange::new(
    "The rate is `rate`.",
    &[fw::Edit::renamed(fw::field!(DividendResource, rates), "amount_per_share")],
);

fn main() {
    let _ = RENAMED;
}
