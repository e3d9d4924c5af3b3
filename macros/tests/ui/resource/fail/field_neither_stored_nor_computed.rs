#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    #[field(version)]
    pub version: i64,
}

#[fw::resource(model = Security, path = "/securities", fields = all, actions(list), permissions(model))]
pub struct SecurityResource {
    pub symbl: String,
}

fn main() {}
