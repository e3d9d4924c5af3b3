#[fw::model(renamed_from = "security")]
pub struct Security {
    pub id: i64,
    #[field(renamed_from = "")]
    pub symbol: String,
    #[field(renamed_from = "old name")]
    pub cusip: String,
    #[field(column = "issuer_name", renamed_from = "issuer_name")]
    pub issuer: String,
}

fn main() {}
