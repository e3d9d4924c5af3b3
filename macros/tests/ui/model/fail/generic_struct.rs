#[fw::model]
pub struct Holding<T> {
    pub id: i64,
    pub value: T,
}

fn main() {}
