#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12, pattern = "[A-Z")]
    pub symbol: String,
}

fn main() {}
