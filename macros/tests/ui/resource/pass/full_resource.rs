#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    pub listed: bool,
    #[field(version)]
    pub version: i64,
}

#[fw::resource(model = Security, path = "/securities", actions(list, retrieve, create, update, partial_update, destroy), read_only(id, version), filter(symbol(exact, in, icontains), listed), search(symbol), ordering(symbol), default_ordering = "-symbol", page_size = 10, max_page_size = 100, permissions(model))]
pub struct SecurityResource {
    pub id: i64,
    pub symbol: String,
    pub listed: bool,
    pub version: i64,
}

fn main() {}
