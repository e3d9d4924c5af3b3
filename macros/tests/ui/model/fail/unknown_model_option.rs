#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub enum Listing {
    Primary,
    Secondary,
}

#[fw::model(tabel = "securities")]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    pub listing: Listing,
    #[field(version)]
    pub version: i64,
}

#[fw::resource(
    model = Security,
    path = "/securities",
    actions(list, retrieve, create, update, partial_update, destroy),
    permissions(model),
    read_only(id, version),
    filter(symbol, listing)
)]
pub struct SecurityResource {
    pub id: i64,
    pub symbol: String,
    pub listing: Listing,
    pub version: i64,
}

include!("../../security_in_use.rs");
