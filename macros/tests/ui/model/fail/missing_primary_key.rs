#[fw::model]
pub struct Security {
    pub symbol: String,
}

fn main() {}
