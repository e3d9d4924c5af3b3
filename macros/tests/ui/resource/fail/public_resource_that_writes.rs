#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    #[field(version)]
    pub version: i64,
}

/// `public` covers reads: anyone creating or deleting must be spelled out.
#[fw::resource(
    model = Security,
    path = "/securities",
    actions(list, retrieve, create, destroy),
    permissions(public)
)]
pub struct SecurityResource {
    pub id: i64,
    pub symbol: String,
}

fn main() {}
