#[fw::model]
pub struct Price {
    pub id: i64,
    pub amount: f64,
}

fn main() {}
