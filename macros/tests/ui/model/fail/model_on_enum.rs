#[fw::model]
pub enum Status {
    Active,
    Delisted,
}

fn main() {}
