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
}

#[fw::resource(model = Dividend, path = "/dividends", actions(list), filter(symbol = security.symbl(exact, in)), permissions(model))]
pub struct DividendResource {
    pub id: i64,
    pub security: Ref<Security>,
}

fn main() {}
