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

#[fw::resource(model = Security, path = "/securities", actions(list), filter(listed(gte), symbol(isnull)), permissions(model))]
pub struct SecurityResource {
    pub id: i64,
    pub symbol: String,
    pub listed: bool,
    pub version: i64,
}

fn main() {}
