#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
}

type Listed = Security;

#[fw::resource(model = Listed, path = "/securities", fields = all, actions(list), permissions(authenticated))]
pub struct SecurityResource;

fn main() {}
