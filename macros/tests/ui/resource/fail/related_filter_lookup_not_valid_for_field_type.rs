use fw::Ref;

#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    pub listed: bool,
}

#[derive(Clone)]
#[fw::model]
pub struct Dividend {
    pub id: i64,
    pub security: Ref<Security>,
}

#[fw::resource(
    model = Dividend,
    path = "/dividends",
    actions(list),
    permissions(model),
    filter(symbol = security.symbol(exact, gte), listed = security.listed(icontains))
)]
pub struct DividendResource {
    pub id: i64,
    pub security: Ref<Security>,
}

fn main() {}
