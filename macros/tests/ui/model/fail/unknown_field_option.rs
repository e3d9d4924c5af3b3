#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_len = 12)]
    pub symbol: String,
}

fn main() {}
