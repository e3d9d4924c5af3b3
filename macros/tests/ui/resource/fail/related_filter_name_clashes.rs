use fw::Ref;

#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
}

#[derive(Clone)]
#[fw::model]
pub struct Dividend {
    pub id: i64,
    pub security: Ref<Security>,
    pub issuer: Ref<Security>,
}

#[fw::resource(
    model = Dividend,
    path = "/dividends",
    actions(list),
    permissions(model),
    filter(
        symbol = security.symbol,
        symbol = issuer.symbol,
        cursor = security.symbol,
        security__symbol = security.symbol,
        id = security.symbol,
        ticker = securty.symbol
    )
)]
pub struct DividendResource {
    pub id: i64,
    pub security: Ref<Security>,
    pub issuer: Ref<Security>,
}

fn main() {}
