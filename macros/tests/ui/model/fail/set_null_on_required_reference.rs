#[fw::model]
pub struct Security {
    pub id: i64,
}

#[fw::model]
pub struct Dividend {
    pub id: i64,
    #[field(on_delete = "set_null")]
    pub security: fw::Ref<Security>,
}

fn main() {}
