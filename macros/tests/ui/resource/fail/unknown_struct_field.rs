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

#[fw::resource(model = Security, path = "/securities", actions(list), read_only(id), permissions(model))]
pub struct SecurityResource {
    pub id: i64,
    pub symbl: String,
}

fn main() {}
