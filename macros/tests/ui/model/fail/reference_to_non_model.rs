pub struct Issuer {
    pub id: i64,
}

#[fw::model]
pub struct Security {
    pub id: i64,
    pub issuer: fw::Ref<Issuer>,
}

fn main() {}
