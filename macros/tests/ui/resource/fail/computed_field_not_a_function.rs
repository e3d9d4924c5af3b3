#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    #[field(version)]
    pub version: i64,
}

const DAYS: i64 = 3;

fn symbol_length(security: &Security) -> usize {
    security.symbol.len()
}

#[fw::resource(model = Security, path = "/securities", fields = all, actions(list), permissions(model))]
pub struct SecurityResource {
    #[field(computed = DAYS)]
    pub days: i64,
    #[field(computed = symbol_length)]
    pub symbol_length: i64,
}

fn main() {}
