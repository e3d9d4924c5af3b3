#[fw::model]
pub struct Rate {
    pub id: i64,
    #[field(max_digits = 4, decimal_places = 6)]
    pub rate: rust_decimal::Decimal,
}

fn main() {}
