#[fw::model]
pub struct Dividend {
    pub id: i64,
    #[field(exclusive_min = "1", max = "1")]
    pub rate: rust_decimal::Decimal,
    #[field(min = 0, exclusive_min = 0)]
    pub count: i32,
}

fn main() {}
