#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(version)]
    pub version: i64,
}

#[fw::resource(model = Security, path = "/securities", fields = all, actions(list), permissions(model))]
pub struct SecurityResource {
    #[field(computed = "symbol_length")]
    pub symbol_length: i64,
}

fn main() {}
