use fw::Model;

#[fw::model]
pub struct Security {
    pub id: i64,
    pub symbol: String,
}

#[fw::model]
pub struct Account {
    pub id: i64,
}

fn main() {
    let _ = Account::query().filter(Security::SYMBOL.eq("X"));
}
