#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
}

#[fw::resource(model = Security, path = "/securities", actions(list), permissions(model))]
pub struct SecurityResource;

fn main() {}
