use fw::Model;

#[fw::model]
pub struct Security {
    pub id: i64,
    pub symbol: String,
}

fn main() {
    let _ = Security::query().filter(Security::SYMBOL.eq(42));
}
