#[fw::model]
pub struct Security {
    #[field(primary_key)]
    pub symbol: String,
    #[field(primary_key)]
    pub cusip: String,
}

fn main() {}
