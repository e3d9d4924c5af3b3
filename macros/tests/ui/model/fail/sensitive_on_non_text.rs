#[fw::model]
pub struct Patient {
    pub id: i64,
    #[field(sensitive)]
    pub birth_year: i32,
}

fn main() {}
