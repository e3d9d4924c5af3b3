#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    #[field(version)]
    pub version: i64,
}

#[fw::resource(model = Security, path = "/securities", fields = all, exclude(version), actions(list), permissions(model))]
pub struct SecurityResource;

#[fw::resource(model = Security, path = "/listings", fields = everything, actions(list), permissions(model))]
pub struct ListingResource;

fn main() {}
