use clap::Parser;

fn main() {
    let cli = purchase_predict::app::cli::Cli::parse();
    if let Err(e) = purchase_predict::app::cli::main_with(cli) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
