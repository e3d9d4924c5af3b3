#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    #[field(version)]
    pub version: i64,
}

/// Nothing says who may list or create securities.
#[fw::resource(model = Security, path = "/securities", actions(list, create))]
pub struct SecurityResource {
    pub id: i64,
    pub symbol: String,
}

fn main() {}
