//! The tree stays clean: `cargo test --workspace` fails when rustfmt would change a
//! file or clippy has anything to say (glommio's `tests/linters.rs` does the same).
//!
//! Clippy runs with its own target directory under `target/`, so it never waits
//! for the lock of the `cargo test` that runs this file, and never invalidates its
//! artefacts.

use std::path::Path;
use std::process::Command;

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
}

/// Runs `cmd` in the repository root; fails the test with its output unless it succeeds.
fn run_clean(mut cmd: Command, what: &str) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = cmd
        .current_dir(repo)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rustfmt_would_change_nothing() {
    let mut main = cargo();
    main.args(["fmt", "--all", "--", "--check"]);
    run_clean(main, "cargo fmt --all -- --check");
    // The fuzz targets are their own workspace.
    let mut fuzz = cargo();
    fuzz.args([
        "fmt",
        "--all",
        "--manifest-path",
        "fuzz/Cargo.toml",
        "--",
        "--check",
    ]);
    run_clean(fuzz, "cargo fmt --manifest-path fuzz/Cargo.toml -- --check");
}

#[test]
fn clippy_has_nothing_to_say() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut clippy = cargo();
    clippy
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .env("CARGO_TARGET_DIR", repo.join("target/lint"));
    run_clean(
        clippy,
        "cargo clippy --workspace --all-targets -- -D warnings",
    );
}
