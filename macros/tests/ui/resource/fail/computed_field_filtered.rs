#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    #[field(version)]
    pub version: i64,
}

fn symbol_length(security: &Security) -> i64 {
    security.symbol.chars().count() as i64
}

#[fw::resource(
    model = Security,
    path = "/securities",
    fields = all,
    actions(list, create),
    permissions(model),
    filter(symbol_length(gte)),
    search(symbol_length),
    ordering(symbol_length),
    create_only(symbol_length)
)]
pub struct SecurityResource {
    #[field(computed = symbol_length, reveal = "view_symbol_length")]
    pub symbol_length: i64,
}

fn main() {}
