#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    #[field(version)]
    pub version: i64,
}

mod aliased {
    pub use super::Security as Listing;
}

/// The permissions would be `view_listing`, which no role grants.
#[fw::resource(model = aliased::Listing, path = "/listings", actions(list), permissions(model))]
pub struct ListingResource {
    pub id: i64,
    pub symbol: String,
}

fn main() {}
