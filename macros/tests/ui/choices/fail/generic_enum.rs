#[derive(Clone, Copy, fw::Choices)]
pub enum Status<T> {
    Active,
    Other(T),
}

fn main() {}
