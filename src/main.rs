use clap::Parser;

fn main() {
    let cli = purchase_predict::cli::Cli::parse();
    if let Err(e) = purchase_predict::cli::main_with(cli) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
