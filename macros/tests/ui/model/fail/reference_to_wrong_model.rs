use fw::{Model, Ref};

#[fw::model]
pub struct Security {
    pub id: i64,
}

#[fw::model]
pub struct Account {
    pub id: i64,
}

#[fw::model]
pub struct Dividend {
    pub id: i64,
    pub security: Ref<Security>,
}

fn main() {
    let account: Ref<Account> = Ref::new(1);
    let _ = Dividend::query().filter(Dividend::SECURITY.eq(account));
}
