#[derive(Clone)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub symbol: String,
    #[field(max_length = 200)]
    pub name: String,
    pub note: Option<String>,
    #[field(version)]
    pub version: i64,
}

#[fw::resource(
    model = Security,
    path = "/securities",
    fields(id, symbol, note),
    actions(list, create),
    permissions(model)
)]
pub struct SecurityResource;

fn main() {}
