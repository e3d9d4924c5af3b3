use chrono::NaiveDate;
use fw::Ref;

#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    pub note: Option<String>,
    pub listed_on: NaiveDate,
}

#[derive(Clone)]
#[fw::model]
pub struct Dividend {
    pub id: i64,
    pub security: Ref<Security>,
    pub replaces: Option<Ref<Security>>,
    pub ex_date: NaiveDate,
}

#[fw::resource(
    model = Dividend,
    path = "/dividends",
    actions(list),
    permissions(model),
    filter(
        security(exact, in),
        symbol = security.symbol(exact, in, icontains, startswith),
        security_note = security.note(isnull),
        listed_on = security.listed_on(gte, lt),
        replaced_symbol = replaces.symbol
    )
)]
pub struct DividendResource {
    pub id: i64,
    pub security: Ref<Security>,
    pub replaces: Option<Ref<Security>>,
    pub ex_date: NaiveDate,
}

fn main() {
    let spec = <DividendResource as fw::Resource>::SPEC;
    assert_eq!(spec.filters[1].name, "symbol");
    assert_eq!(spec.filters[1].field.name, "symbol");
    assert!(spec.filters[1].through.is_some_and(|through| through.target.table == "security"));
}
