#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
}

#[fw::resource(model = Security, path = "/securities", actions(list), filter(ticker = symbol(exact)), permissions(model))]
pub struct SecurityResource {
    pub id: i64,
    pub symbol: String,
}

fn main() {}
