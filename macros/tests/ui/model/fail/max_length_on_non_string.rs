#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(max_length = 12)]
    pub shares: i64,
}

fn main() {}
