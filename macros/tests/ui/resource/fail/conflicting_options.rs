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

#[fw::resource(model = Security, path = "/securities", actions(retrieve), read_only(id), write_only(id), ordering(symbol), page_size = 100, max_page_size = 10, permissions(model))]
pub struct SecurityResource {
    pub id: i64,
    pub symbol: String,
    pub listed: bool,
    pub version: i64,
}

fn main() {}
