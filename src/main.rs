fn main() {
    println!(
        "ImageDesk {} — protocol core; the desktop UI arrives in a later release.",
        env!("CARGO_PKG_VERSION")
    );
}
