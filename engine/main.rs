//! The `sift` binary: everything is in the library; see `sift --help`.

fn main() -> std::process::ExitCode {
    sift::cli::main()
}
