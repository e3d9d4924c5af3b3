#[fw::model]
#[derive(Clone, Debug)]
pub struct Security {
    pub id: i64,
    #[field(sensitive)]
    pub tax_id: String,
}

fn main() {}
