//! ImageDesk entry point. Until the desktop UI lands this is a small command-line front end to
//! the protocol core and client.

use std::process::ExitCode;

use imagedesk::protocol::sign::vectors;

const USAGE: &str = "\
usage: imagedesk [COMMAND]

commands:
  (none)           what ImageDesk is, and a signing self-check
  vectors          recompute every published signing vector and compare
  help             this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {
            println!(
                "ImageDesk {} — administer custom images on Alibaba Cloud (ECS, ENS, E-HPC Instant, Apsara Stack).",
                env!("CARGO_PKG_VERSION")
            );
            println!(
                "Status: protocol core and client; the desktop UI and the local sandbox arrive in later releases.\n"
            );
            let checks = vectors::published();
            let passed = checks.iter().filter(|c| c.passes()).count();
            println!(
                "Signing self-check: {passed}/{} published vectors reproduce.",
                checks.len()
            );
            println!("\n{USAGE}");
            if passed == checks.len() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Some("vectors") => print_vectors(),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("imagedesk: unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn print_vectors() -> ExitCode {
    let mut ok = true;
    for check in vectors::published() {
        let verdict = if check.passes() { "ok  " } else { "FAIL" };
        ok &= check.passes();
        println!(
            "{verdict} {:<3} {}\n     expected {}\n     computed {}",
            check.name, check.source, check.expected, check.computed
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
