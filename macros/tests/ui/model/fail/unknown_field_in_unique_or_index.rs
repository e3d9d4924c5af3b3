#[fw::model(unique(symbl, cusip), index(pay_date))]
pub struct Security {
    pub id: i64,
    pub symbol: String,
    pub cusip: String,
}

fn main() {}
