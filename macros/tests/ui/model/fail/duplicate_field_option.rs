#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    #[field(unique, max_length = 10)]
    pub symbol: String,
}

fn main() {}
