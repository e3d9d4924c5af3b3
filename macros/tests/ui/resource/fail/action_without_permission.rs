#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    #[field(version)]
    pub version: i64,
}

/// No default, and entries for only some of the actions.
#[fw::resource(
    model = Security,
    path = "/securities",
    actions(list, retrieve, create, destroy),
    permissions(list = public, retrieve = "Read Securities")
)]
pub struct SecurityResource {
    pub id: i64,
    pub symbol: String,
}

fn main() {}
